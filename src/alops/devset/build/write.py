"""Write the dev set in the layout of the full data, to a path in the staging folder (see :mod:`alops.atomic`).

A CSV table gets its header and the chosen lines exactly as they were read
(corrupt ones included); a Parquet table the chosen rows with the source's
schema; a folder the same relative paths; a folder of files its manifest and
the chosen files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from alops.devset.build import sampler, select
from alops.devset.dataset import manifest as listing
from alops.devset.dataset import parquet
from alops.devset.dataset.locate import Dataset, Table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Bools = npt.NDArray[np.bool_]


def dev_set(src: Dataset, chosen: select.Selection, output: Path, manifest: str, spill: BinaryIO) -> int | None:
    """Write the dev set to ``output`` (a new path) in the source's layout; for a folder of files, how many
    files were placed."""
    per_table: dict[int, list[tuple[sampler.Kept, Bools]]] = {}
    for kept, mask in zip(chosen.blocks, chosen.chosen, strict=True):
        per_table.setdefault(kept.table, []).append((kept, mask))
    if src.kind == "table":
        one_table(src.tables[0], per_table.get(0, []), output, spill)
        return None
    output.mkdir()
    placed = None
    for i, table in enumerate(src.tables):
        dest = output / (manifest if src.kind == "files" else table.rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        one_table(table, per_table.get(i, []), dest, spill)
    if src.files_base is not None:
        names = [p for kept, mask in per_table.get(0, []) for p, m in zip(kept.paths or [], mask, strict=True) if m]
        placed = listing.place(src.files_base, names, output)
    return placed


def one_table(table: Table, parts: list[tuple[sampler.Kept, Bools]], dest: Path, spill: BinaryIO) -> None:
    """Write the chosen rows of ``parts`` (kept rows, chosen mask) of one table to ``dest``."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    if table.kind == "parquet":
        parquet.write(dest, table.handle.schema_arrow, [k.rows.filter(pa.array(m)) for k, m in parts])
        return
    assert table.csv is not None
    with dest.open("wb") as fh:
        fh.write(table.csv.header)
        for kept, mask in parts:
            if not mask.any():
                continue
            rows = kept.rows.read(spill) if isinstance(kept.rows, select.Spilled) else kept.rows
            lines = rows.filter(pa.array(mask))
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
            fh.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
