"""``alops.devset.dataset.columns``: which columns hold numbers, typed from the spread sample, for build and check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alops.devset.dataset import columns
from alops.devset.dataset.columns import Sampled
from alops.devset.dataset.columns import _csv as sample_csv
from alops.devset.dataset.locate import locate, open_table


def test_sample_types_columns_by_what_most_values_are(tmp_path: Path) -> None:
    data = b"".join(b"%d,%d.5,t%d,%s\n" % (i, i, i, b"x" if i == 3 else b"%d" % i) for i in range(40))
    (tmp_path / "t.csv").write_bytes(b"a,b,c,d\n" + data)
    sampled: Sampled = sample_csv(open_table(tmp_path / "t.csv", "", "csv"), data, set())
    assert sampled.numeric == ("a", "b", "d")  # d: 39 of 40 are numbers
    assert (sampled.rows, sampled.corrupt) == (40, 1)
    assert np.isnan(sampled.numbers["a"][3]) and sampled.numbers["a"][4] == 4.0


def test_a_dataset_is_typed_per_table_text_columns_left_out(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data/a.csv").write_text("id,label,x\n" + "".join(f"{i},{i % 3},{i}.5\n" for i in range(50)))
    pq.write_table(
        pa.table({"id": [1, 2], "label": ["a", "b"], "y": [1.5, 2.5], "t": ["u", "v"]}), tmp_path / "data/b.parquet"
    )
    data = locate(tmp_path, "data", fmt="auto", manifest="manifest.csv")
    sampled = columns.sample(data, {"label"}, lambda name: name == "y")
    assert sampled["a.csv"].numeric == ("id", "x")  # label holds numbers, but it makes strata: text
    assert sampled["b.parquet"].numeric == ("id", "y")  # typed by the schema
    assert list(sampled["b.parquet"].numbers) == ["y"]  # values only of the columns asked for
    assert sampled["b.parquet"].numbers["y"].tolist() == [1.5, 2.5]
    assert sample_csv(data.tables[0], b"", set()) == Sampled((), {}, 0, 0)  # a table of no rows: nothing numeric
