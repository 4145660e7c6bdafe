"""Every row of a dataset as typed blocks: numbers, text, and which rows are corrupt.

CSV tables are cut into the builder's blocks (``scan.scan``) and parsed by its
block parser (:mod:`alops.devset.dataset.csvblock`), so a line is corrupt here
exactly when the builder calls it corrupt: wrong field count, not UTF-8, a
numeric column's cell that is not a number (in every numeric column of the
table, read or not). Parquet tables come as record batches. In a folder of
files, a row whose file does not open (:mod:`alops.devset.dataset.manifest`) is
corrupt too. Only the blocks in flight are in memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alops.devset.dataset import cells, csvblock, manifest, parquet, scan
from alops.devset.dataset.locate import Dataset, Table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Bools = npt.NDArray[np.bool_]

T = TypeVar("T")


@dataclass(frozen=True)
class Wanted:
    """What to read of each table: numbers (the table's numeric columns among them) and text."""

    numbers: tuple[str, ...]  # as float64; a column a table lacks, or holds no numbers in, is all NaN
    texts: tuple[str, ...]  # as text, "" as missing (null); a column a table lacks is all missing
    numeric: Mapping[Path, tuple[str, ...]]  # per table: its numeric columns, whose non-numbers are corrupt


@dataclass
class Block:
    """Some rows of one table, typed; rows that did not parse are only counted."""

    table: Path
    rows: int  # rows that parsed
    unparsed: int  # rows that did not (corrupt)
    corrupt: Bools  # rows that parsed but are corrupt (a file that does not open, a non-number in a text column)
    numbers: dict[str, Floats]  # NaN: missing
    texts: dict[str, Any]  # pyarrow string arrays, null: missing (pyarrow ships no types)


def blocks(dataset: Dataset, wanted: Wanted, convert: Callable[[Block], T], *, threads: int = 1) -> Iterator[T]:
    """``convert`` of every block of the dataset, in order; ``threads`` parse and convert CSV blocks."""
    for table in dataset.tables:
        if table.csv is None:
            for batch in parquet.batches(table.handle, table.path):
                yield convert(_files(dataset, _batch(table, batch, wanted)))
            continue
        work = functools.partial(_csv_block, dataset, table, wanted, convert)
        yield from scan.scan(table.csv, work, threads=threads)


def _csv_block(
    dataset: Dataset, table: Table, wanted: Wanted, convert: Callable[[Block], T], _index: int, data: bytes
) -> T:
    return convert(_files(dataset, parse(table, data, wanted)))


def parse(table: Table, data: bytes | memoryview, wanted: Wanted) -> Block:
    """Whole CSV lines of ``table`` (no header) as one typed block."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    assert table.csv is not None
    present = set(table.names)
    numeric = tuple(n for n in wanted.numeric.get(table.path, ()) if n in present)
    texts = tuple(n for n in wanted.texts if n in present)
    both = set(numeric) & set(texts)  # read as text; their numbers are checked below
    parsed = csvblock.parse(
        data,
        csvblock.Columns(table.names, table.csv.delimiter, tuple(n for n in numeric if n not in both), (), (), texts),
    )
    rows = len(parsed.rows)
    corrupt = np.zeros(rows, dtype=bool)
    numbers = dict(parsed.numbers)
    for name in both:
        numbers[name], bad = cells.numbers(parsed.strings[name])
        corrupt |= bad
    out = {n: numbers.get(n, np.full(rows, np.nan)) for n in wanted.numbers}
    strings = {n: parsed.strings[n] if n in parsed.strings else pa.nulls(rows, pa.string()) for n in wanted.texts}
    return Block(table.path, rows, len(parsed.corrupt), corrupt, out, _missing_empty(strings))


def _batch(table: Table, batch: Any, wanted: Wanted) -> Block:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    rows = batch.num_rows
    names = set(batch.schema.names)
    numbers = {}
    for name in wanted.numbers:
        column = batch.column(name) if name in names else None
        numeric = column is not None and cells.is_numeric_type(column.type)
        numbers[name] = parquet.floats(column) if numeric else np.full(rows, np.nan)
    texts = {n: as_text(batch.column(n)) if n in names else pa.nulls(rows, pa.string()) for n in wanted.texts}
    return Block(table.path, rows, 0, np.zeros(rows, dtype=bool), numbers, _missing_empty(texts))


def as_text(column: Any) -> Any:
    """A Parquet column as a pyarrow string array; a column that does not cast (nested, bytes) is missing."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.nulls(len(column), pa.string())


def _missing_empty(texts: dict[str, Any]) -> dict[str, Any]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    return {n: pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a) for n, a in texts.items()}


def _files(dataset: Dataset, block: Block) -> Block:
    """In a folder of files, the rows whose file does not open are corrupt."""
    import numpy as np

    base = dataset.files_base
    if base is None or not block.rows:
        return block
    names = block.texts[manifest.PATH_COLUMN].to_pylist()
    block.corrupt |= np.array([p is not None for p in manifest.problems(base, names)], dtype=bool)
    return block
