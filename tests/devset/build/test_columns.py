"""``alops.devset.build.columns``: the columns alops.yaml names for strata and outliers, checked against the tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from devset.build.test_run import configure

from alops.devset.build.columns import check_numeric, strata_columns
from alops.devset.build.spec import BuildSpec
from alops.devset.dataset.locate import locate
from alops.errors import ConfigError


def spec(root: Path, **section: object) -> BuildSpec:
    return configure(root, source="data", output="dev", **section)


def tables(root: Path) -> object:
    (root / "data").mkdir(exist_ok=True)
    (root / "data/a.csv").write_text("id,label,split,x\n1,a,train,0.5\n")
    (root / "data/b.csv").write_text("id,label,split,x,extra\n2,b,test,1.5,q\n")
    return locate(root, "data", fmt="auto", manifest="manifest.csv")


def test_the_label_column_is_used_when_every_table_has_one(tmp_path: Path) -> None:
    data = tables(tmp_path)
    assert strata_columns(spec(tmp_path), data) == ("label",)  # type: ignore[arg-type]
    assert strata_columns(spec(tmp_path, split="split", stratify=["split", "id"]), data) == ("label", "split", "id")  # type: ignore[arg-type]


def test_a_stratum_column_missing_from_one_table_names_the_key_and_the_table(tmp_path: Path) -> None:
    data = tables(tmp_path)
    with pytest.raises(
        ConfigError, match=r"alops\.yaml:\d+: datasets\.dev\.build\.stratify: column 'extra' is not in .*a\.csv"
    ):
        strata_columns(spec(tmp_path, stratify=("extra",)), data)  # type: ignore[arg-type]


def test_a_nested_parquet_column_makes_no_strata(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table({"label": [[1], [2]]}), tmp_path / "data/t.parquet")
    data = locate(tmp_path, "data", fmt="auto", manifest="manifest.csv")
    with pytest.raises(ConfigError, match="holds list<element: int64>: strata need plain values"):
        strata_columns(spec(tmp_path, label="label"), data)


def test_outlier_columns_must_hold_numbers_in_every_table(tmp_path: Path) -> None:
    data = tables(tmp_path)
    check_numeric(spec(tmp_path, outliers={"rule": "iqr"}), data.tables[0], ())  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"column 'split' of .*a\.csv does not hold numbers; numeric columns: id, x$"):
        check_numeric(spec(tmp_path, outliers={"columns": ["x", "split"]}), data.tables[0], ("id", "x"))  # type: ignore[attr-defined]
