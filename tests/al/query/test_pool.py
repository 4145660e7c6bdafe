"""Scores files read chunk by chunk: the same batch as the array in memory, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from alops.al.query import ArrayPool, FilePool, query
from alops.errors import DataError, MissingFileError


def pool(n: int = 1000, classes: int = 4) -> npt.NDArray[np.float32]:
    p = np.random.default_rng(0).dirichlet(np.ones(classes), n).astype(np.float32)
    return p / p.sum(axis=1, keepdims=True)


def table(p: npt.NDArray[np.float32]) -> pa.Table:
    columns = {"id": pa.array([f"{i:05d}" for i in range(len(p))])}
    columns.update({f"class_{j}": pa.array(p[:, j]) for j in range(p.shape[1])})
    return pa.table(columns)


@pytest.mark.parametrize("suffix", [".npy", ".parquet", ".csv"])
def test_a_file_gives_the_batch_of_the_array(tmp_path: Path, suffix: str) -> None:
    p = pool()
    path = tmp_path / f"scores{suffix}"
    if suffix == ".npy":
        np.save(path, p)
    elif suffix == ".parquet":
        pq.write_table(table(p), path, row_group_size=128)
    else:
        pcsv.write_csv(table(p), path)
    expected = query(p, "entropy", 25, seed=4)
    result = query(FilePool(path, chunk_rows=97), "entropy", 25, seed=4)
    assert result.indices.tolist() == expected.indices.tolist()
    np.testing.assert_allclose(result.scores, expected.scores, rtol=1e-6)
    if suffix == ".npy":
        assert result.ids is None and result.classes is None
    else:
        # Ids keep their leading zeros, classes are the column names.
        assert result.ids is not None and result.ids.tolist() == [f"{i:05d}" for i in result.indices]
        assert result.classes == ("class_0", "class_1", "class_2", "class_3")


def test_a_csv_of_rounded_integers_and_floats_reads_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("id,a,b\nx,1,0\ny,0.5,0.5\nz,0.25,0.75\n")
    result = query(FilePool(path), "margin", 1)
    assert result.ids is not None and result.ids.tolist() == ["y"]


def test_k_center_reads_the_chosen_rows_back_from_the_file(tmp_path: Path) -> None:
    p = pool(300)
    path = tmp_path / "scores.parquet"
    pq.write_table(table(p), path, row_group_size=64)
    embeddings = np.random.default_rng(1).standard_normal((300, 3))
    result = query(FilePool(path, chunk_rows=50), "k-center", 8, embeddings=embeddings)
    np.testing.assert_array_equal(result.probabilities, p[result.indices])
    assert result.ids is not None and result.ids.tolist() == [f"{i:05d}" for i in result.indices]
    expected = query(ArrayPool(p), "k-center", 8, embeddings=embeddings)
    assert result.indices.tolist() == expected.indices.tolist()


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="scores.npy does not exist: run the scoring stage first"):
        query(FilePool(tmp_path / "scores.npy"), "margin", 1)
    (tmp_path / "scores.txt").write_text("0.5,0.5\n")
    with pytest.raises(DataError, match=r"scores files are \.npy, \.parquet or \.csv, not \.txt"):
        query(FilePool(tmp_path / "scores.txt"), "margin", 1)
    np.save(tmp_path / "ints.npy", np.ones((3, 2), np.int64))
    with pytest.raises(DataError, match=r"holds a int64 array of shape \(3, 2\): the scores must be a 2-D float"):
        query(FilePool(tmp_path / "ints.npy"), "margin", 1)
    np.save(tmp_path / "cut.npy", pool(100))
    data = (tmp_path / "cut.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-100])
    with pytest.raises(DataError, match="cut.npy is truncated: its header says 100 rows"):
        query(FilePool(tmp_path / "cut.npy", chunk_rows=30), "margin", 1)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="junk.npy is not a readable NPY file"):
        query(FilePool(tmp_path / "junk.npy"), "margin", 1)
    (tmp_path / "text.csv").write_text("id,a,b\n1,0.5,high\n")
    with pytest.raises(DataError, match=r"text.csv:2: column 'b' holds 'high', not a number: every column but"):
        query(FilePool(tmp_path / "text.csv"), "margin", 1)
    # An empty cell; a column of them (pyarrow reads its type as null).
    for body, row in (("1,0.5,0.5\n2,0.5,\n", r"row 1 \(id '2'\)"), ("1,0.5,\n2,0.5,\n", r"row 0 \(id '1'\)")):
        (tmp_path / "empty.csv").write_text("id,a,b\n" + body)
        with pytest.raises(DataError, match=row + " of the pool has a NaN or infinite probability"):
            query(FilePool(tmp_path / "empty.csv"), "margin", 1)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(DataError, match="broken.parquet cannot be read"):
        query(FilePool(tmp_path / "broken.parquet"), "margin", 1)


def test_a_csv_column_of_integers_at_first_still_reads_its_fractions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks: the first ones hold only 0 and 1, which pyarrow alone would type as integers.
    monkeypatch.setattr("alops.al.query.pool_files.CSV_BLOCK_BYTES", 64)
    monkeypatch.setattr("alops.al.query.pool_files.TABLE_CHUNK_BYTES", 8 * 2 * 300)
    rows = [f"s{i},1,0" for i in range(3000)] + ["hard,0.5,0.5"] + [f"t{i},0,1" for i in range(500)]
    path = tmp_path / "scores.csv"
    path.write_text("id,a,b\n" + "\n".join(rows) + "\n")
    result = query(FilePool(path), "margin", 1)
    assert result.ids is not None and result.ids.tolist() == ["hard"] and result.indices.tolist() == [3000]
    assert result.pool_size == 3501


def test_a_null_cell_of_a_parquet_file_names_its_row(tmp_path: Path) -> None:
    p = pool(300).astype(np.float64)
    columns = {"id": pa.array([f"s{i}" for i in range(300)]), "a": pa.array(p[:, 0]), "b": pa.array(1 - p[:, 0])}
    columns["b"] = pa.array([None if i == 205 else 1 - p[i, 0] for i in range(300)], pa.float64())
    path = tmp_path / "scores.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=100)
    with pytest.raises(DataError, match=r"row 205 \(id 's205'\) of the pool has a NaN or infinite probability"):
        query(FilePool(path), "margin", 1)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_reading_a_table_imports_neither_pandas_nor_pyarrow_parquet(tmp_path: Path, suffix: str) -> None:
    # pyarrow's to_numpy imports pandas (45 MB of RSS) and pyarrow.parquet imports its S3 client (9 MB):
    # the streaming query stays under 100 MB only without them.
    path = tmp_path / f"scores{suffix}"
    if suffix == ".parquet":
        pq.write_table(table(pool()), path, row_group_size=128)
    else:
        pcsv.write_csv(table(pool()), path)
    code = (
        "import sys; from pathlib import Path; from alops.al.query import FilePool, query; "
        f"query(FilePool(Path({str(path)!r})), 'margin', 5); "
        "print(sorted(m for m in ('pandas', 'pyarrow.parquet', 'pyarrow.fs') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_arrow_columns_become_numpy_arrays_with_offsets_and_nulls() -> None:
    from alops.al.query.pool_files import numbers, plain_values

    values = pa.array([0.5, None, 0.25, 1.0, None, 0.75] * 3, pa.float32()).slice(5, 9)
    np.testing.assert_array_equal(numbers(values), [0.75, 0.5, np.nan, 0.25, 1.0, np.nan, 0.75, 0.5, np.nan])
    assert numbers(pa.array(np.arange(10, dtype=np.uint16)).slice(3, 2)).tolist() == [3, 4]
    assert plain_values(pa.array(["a", None, "c"]).slice(1)).tolist() == [None, "c"]
    assert plain_values(pa.array([7, None, 9]).slice(1)).tolist() == [None, 9]
    assert plain_values(pa.array([7, 8, 9], pa.int64()).slice(1)).dtype == np.int64
