"""``alops.devset.build.select``: the blocks' candidates merged, the dev set chosen by quota and key."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alops.devset.build import sampler, select
from alops.devset.dataset import csvblock, scan


def test_the_merger_counts_every_block_and_chooses_the_quota_of_each_stratum(tmp_path: Path) -> None:
    lines = b"".join(b"%s,%d\n" % (b"b" if i % 4 == 0 else b"a", i) for i in range(400))
    path = tmp_path / "t.csv"
    path.write_bytes(b"label,x\n" + lines)
    table = scan.open_csv(path, "")
    columns = csvblock.Columns(table.names, ",", ("x",), ("label",))
    fixed = sampler.PassSettings(seed=1, fraction=0.1, count=None, regular_rate=0.2, strata=("label",), bounds={})
    spill = tempfile.TemporaryFile()
    merger = select.Merger(fixed, spill)
    for index, _, data in scan.blocks(table, 1000):
        merger.add(sampler.csv_block(fixed, merger.running, 0, table, columns, index, data))
    spill.flush()
    assert merger.running.total == 400 and len(merger.blocks) == 3
    assert all(isinstance(b.rows, select.Spilled) for b in merger.blocks)  # kept lines wait in the spill file
    chosen = merger.select()
    assert (chosen.rows, chosen.target) == (40, 40)
    assert {s.values[1]: (s.full, s.quota, s.dev) for s in chosen.strata} == {"a": (300, 30, 30), "b": (100, 10, 10)}
    assert chosen.short == [] and chosen.outliers == (0, 0) and chosen.corrupt == (0, 0)
    read_back = chosen.blocks[0].rows.read(spill).to_pylist()
    assert read_back and all(line.endswith(b"\n") and line in lines for line in read_back)
    spill.close()
