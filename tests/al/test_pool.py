"""Scores files read chunk by chunk: the same batch as the array in memory, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from alops.al import ArrayPool, FilePool, query
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
    with pytest.raises(DataError, match="column 'b' holds string, not numbers"):
        query(FilePool(tmp_path / "text.csv"), "margin", 1)
    # An empty cell; a column of them (pyarrow reads its type as null).
    for body, row in (("1,0.5,0.5\n2,0.5,\n", r"row 1 \(id '2'\)"), ("1,0.5,\n2,0.5,\n", r"row 0 \(id '1'\)")):
        (tmp_path / "empty.csv").write_text("id,a,b\n" + body)
        with pytest.raises(DataError, match=row + " of the pool has a NaN or infinite probability"):
            query(FilePool(tmp_path / "empty.csv"), "margin", 1)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(DataError, match="broken.parquet cannot be read"):
        query(FilePool(tmp_path / "broken.parquet"), "margin", 1)
