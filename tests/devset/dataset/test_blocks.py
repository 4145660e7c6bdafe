"""``alops.devset.dataset.blocks``: every row of a dataset as typed blocks with their corrupt rows, for the check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alops.devset.dataset.blocks import Block, Wanted, blocks
from alops.devset.dataset.locate import locate


def read(root: Path, relative: str, wanted: Wanted) -> list[Block]:
    data = locate(root, relative, fmt="auto", manifest="manifest.csv")
    return list(blocks(data, wanted, lambda block: block))


def test_a_csv_block_counts_the_lines_the_builder_calls_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"x,label,note\n1.5,a,\n2,b,n\nn/a,a,n\n3,c\n\xff,a,n\n4,,n\n")
    found = read(tmp_path, "t.csv", Wanted(("x", "gone"), ("label", "note"), {path.resolve(): ("x",)}))
    (block,) = found
    assert (block.rows, block.unparsed, block.corrupt.tolist()) == (3, 3, [False, False, False])
    assert block.numbers["x"].tolist() == [1.5, 2.0, 4.0]
    assert np.isnan(block.numbers["gone"]).all()  # a column the table lacks: missing
    assert block.texts["label"].to_pylist() == ["a", "b", None]  # an empty cell is a missing value
    assert block.texts["note"].to_pylist() == [None, "n", "n"]


def test_a_column_read_as_numbers_and_as_text_is_checked_as_a_number(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x\n1\nabc\n3\n")
    (block,) = read(tmp_path, "t.csv", Wanted(("x",), ("x",), {path.resolve(): ("x",)}))
    assert block.corrupt.tolist() == [False, True, False] and block.texts["x"].to_pylist() == ["1", "abc", "3"]


def test_parquet_batches_cast_numbers_and_text(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"x": pa.array([1, None, 3]), "c": pa.array([1, 2, 2]), "s": ["a", "", None]}), tmp_path / "t.parquet"
    )
    (block,) = read(tmp_path, "t.parquet", Wanted(("x", "s"), ("c", "s", "gone"), {}))
    assert block.numbers["x"].tolist()[::2] == [1.0, 3.0] and np.isnan(block.numbers["x"][1])
    assert np.isnan(block.numbers["s"]).all()  # text is no number
    assert block.texts["c"].to_pylist() == ["1", "2", "2"] and block.texts["s"].to_pylist() == ["a", None, None]
    assert block.texts["gone"].to_pylist() == [None, None, None]


def test_a_row_whose_file_does_not_open_is_corrupt(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "ok.txt").write_text("data")
    (folder / "empty.txt").write_text("")
    (folder / "manifest.csv").write_text("path,label\nok.txt,a\nmissing.txt,a\nempty.txt,b\n../out.txt,b\n")
    (block,) = read(tmp_path, "files", Wanted((), ("path", "label"), {}))
    assert block.corrupt.tolist() == [False, True, True, True]
