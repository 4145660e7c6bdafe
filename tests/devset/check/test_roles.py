"""``alops.devset.check.roles``: which columns are compared as numbers, as categories, or not at all."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from alops.config import load_config
from alops.devset.check import roles
from alops.devset.check.spec import CheckSpec, spec_from
from alops.devset.dataset.blocks import Wanted, blocks
from alops.devset.dataset.locate import Dataset, locate
from alops.errors import ConfigError

from devset_data import write_config


def spec(root: Path, extra: str = "") -> CheckSpec:
    return spec_from(load_config(write_config(root, extra=extra)))


def dev(root: Path, text: str) -> Dataset:
    (root / "data").mkdir(exist_ok=True)
    (root / "data/dev.csv").write_text(text)
    return locate(root, "data/dev.csv", fmt="auto", manifest="manifest.csv")


def test_a_column_is_numeric_only_where_every_table_holding_it_types_it_so(tmp_path: Path) -> None:
    data = dev(tmp_path, "id,label,split,x,y\n1,a,train,1,2\n")
    table = data.tables[0]
    shared = ["id", "label", "split", "x", "y"]
    numbers, texts = roles.candidates(spec(tmp_path), "label", shared, [table], {table.path: ("id", "split", "x")})
    assert numbers == ("id", "x")  # split is always a category; y is not typed numeric
    assert texts == ("split", "y")


def test_identifiers_and_paths_are_not_compared(tmp_path: Path) -> None:
    rows = "".join(f"{i},{'ab'[i % 2]},train,{i},{i % 3},id{i}\n" for i in range(40))
    data = dev(tmp_path, "id,label,split,x,c,path\n" + rows)
    numeric_in = {data.tables[0].path: ("id", "x", "c")}
    read = list(blocks(data, Wanted(("id", "c"), ("label", "split", "path"), numeric_in), lambda b: b))
    found = roles.roles(spec(tmp_path), "label", data, read, ("id", "c"), ("split", "path"))
    assert found.numeric == ("c",) and found.categorical == ("split",) and found.texts == ("label", "split")
    assert found.skipped == {
        "id": "an identifier: 40 distinct whole numbers in the dev set",
        "path": "the file path of each sample",
    }


def test_nested_and_binary_parquet_columns_are_carried_not_compared(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pq.write_table(
        pa.table({"n": [[1]], "b": pa.array([b"x"], pa.binary()), "t": ["x"]}), tmp_path / "data/dev.parquet"
    )
    data = locate(tmp_path, "data/dev.parquet", fmt="auto", manifest="manifest.csv")
    assert (
        roles.not_compared(data, "n") == "a nested type (list<element: int64>): carried into the dev set, not compared"
    )
    assert roles.not_compared(data, "b") == "bytes, not text: carried into the dev set, not compared"
    assert roles.not_compared(data, "t") is None


def test_an_outlier_column_that_is_not_numeric_names_the_key(tmp_path: Path) -> None:
    data = dev(tmp_path, "label,split,x,cat\na,train,1,r\n")
    wrong = spec(tmp_path, extra="outliers: {columns: [x, cat]}")
    with pytest.raises(ConfigError, match=r"outliers\.columns: 'cat' is not a numeric column of both"):
        roles.roles(wrong, "label", data, [], ("x",), ("split", "cat"))
    assert roles.roles(spec(tmp_path, extra="outliers: {}"), "label", data, [], ("x",), ()).outliers == ("x",)
