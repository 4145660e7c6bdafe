"""``alops.devset.build.sampler``: one block classified (regular, outlier, corrupt), keyed and thinned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from alops.devset.build import keys, sampler
from alops.devset.build.outliers import Bounds
from alops.devset.dataset import csvblock, scan

DATA = b"a,1\nb,2\nb,n/a\na,100\n\na,3\n"


def settings(rate: float = 1.0, bounds: dict[str, Bounds] | None = None) -> sampler.PassSettings:
    return sampler.PassSettings(
        seed=7, fraction=rate, count=None, regular_rate=rate, strata=("label",), bounds=bounds or {}, outlier_share=0.5
    )


def block(tmp_path: Path, fixed: sampler.PassSettings) -> sampler.Kept:
    path = tmp_path / "t.csv"
    path.write_bytes(b"label,x\n" + DATA)
    table = scan.open_csv(path, "t.csv")
    columns = csvblock.Columns(table.names, ",", ("x",), ("label",))
    return sampler.csv_block(fixed, sampler.Running(), 0, table, columns, 0, DATA)


def test_every_row_is_classified_and_keyed_by_where_it_is(tmp_path: Path) -> None:
    kept = block(tmp_path, settings(bounds={"x": Bounds(0.0, 10.0, 1.0)}))
    assert kept.kind.tolist() == [sampler.REGULAR, sampler.REGULAR, sampler.CORRUPT, sampler.OUTLIER, sampler.REGULAR]
    assert kept.where.tolist() == [0, 1, 2, 3, 5]  # the empty line counts in line numbers
    assert (kept.outliers, kept.corrupt, kept.lines) == (1, 1, 6)
    assert kept.strata == [("t.csv", "a"), ("t.csv", "b")] and kept.counts.tolist() == [2, 1]
    every = keys.row_keys(keys.block_base(7, "t.csv", 0), 0, 5)  # among the 5 non-empty lines
    assert kept.keys.tolist() == every.tolist()
    assert kept.why == {2: "column 'x': 'n/a' is not a number"}
    assert kept.rows.to_pylist()[3] == b"a,100\n" and kept.text
    assert kept.score[3] == 90.0 and kept.out_values.tolist() == [[100.0]]
    assert kept.extremes == {"x": (90.0, 100.0)}


def test_a_low_rate_keeps_only_rows_whose_key_is_under_the_cut(tmp_path: Path) -> None:
    data = b"".join(b"a,%d\n" % i for i in range(2000))
    path = tmp_path / "t.csv"
    path.write_bytes(b"label,x\n" + data)
    table = scan.open_csv(path, "t.csv")
    columns = csvblock.Columns(table.names, ",", ("x",), ("label",))
    kept = sampler.csv_block(settings(rate=0.01), sampler.Running(), 0, table, columns, 0, data)
    assert kept.counts.tolist() == [2000]  # every row is counted
    assert 0 < len(kept.keys) < 200 and bool(np.all(kept.keys <= np.uint64(keys.cut(0.01, 2000))))


def test_a_parquet_batch_is_classified_by_its_row_numbers() -> None:
    batch = pa.record_batch({"label": ["a", "b", "a"], "x": [1.0, 50.0, None]})
    kept = sampler.parquet_batch(
        settings(bounds={"x": Bounds(0.0, 10.0, 1.0)}), sampler.Running(), 1, "p", batch, 10, ("x",)
    )
    assert kept.kind.tolist() == [sampler.REGULAR, sampler.OUTLIER, sampler.REGULAR]  # a missing value is regular
    assert kept.where.tolist() == [10, 11, 12] and kept.rows.num_rows == 3 and not kept.text
