"""Where a dataset's rows are and how to stream them, for `alops devset check`.

A dataset is a table (``.csv``, ``.parquet``), a folder of tables, or a folder of
files listed by a manifest table. Rows come in chunks of a few MB whatever the
size of the data, read by the builder's own scanner so both commands see the
same rows: the builder's block parser (:mod:`alops.devset.dataset.csvblock`) finds the lines that
do not parse (wrong number of fields, not UTF-8) and the builder's file rules
(:mod:`alops.devset.dataset.datafiles`) decide what is opened at all. CSV cells are read as text
and typed by the caller, so a cell that is not a number marks its row as
corrupt instead of failing the whole file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alops.devset.dataset import datafiles
from alops.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

T = TypeVar("T")
TABLE_SUFFIXES = datafiles.TABLE_SUFFIXES
#: The manifest column naming each file (the builder's ``manifest.PATH_COLUMN``).
PATH_COLUMN = "path"
_BLOCK_BYTES = 4 << 20
_PARQUET_ROWS = 65_536


@dataclass(frozen=True)
class Layout:
    """A dataset on disk: the tables to read and, for a folder of files, where the files are."""

    shown: str
    tables: tuple[Path, ...]
    files_base: Path | None = None


@dataclass
class Chunk:
    """Some rows of one table: columns as read, rows skipped unread, rows whose file does not open."""

    table: Path
    columns: dict[str, pa.Array]
    rows: int
    invalid: int = 0
    unopenable: npt.NDArray[np.bool_] | None = field(default=None)


def locate(root: Path, relative: str, *, fmt: str, manifest: str, exclude: Path | None = None) -> Layout:
    """The layout of ``root/relative``; ConfigError naming the path when it is missing or holds no table."""
    path = root / relative
    shown = datafiles.shown(relative)
    datafiles.source_path(root, path, "the project")
    if path.is_file():
        if fmt != "files" and _kind(path, fmt):
            return Layout(relative, (path,))
        raise ConfigError(f"{shown}: not a table alops can read: use a .csv or .parquet file, or a folder")
    odd = datafiles.describe(path)
    if odd:
        raise ConfigError(f"{shown}: {odd}, not a file or a folder: alops reads only regular files")
    if not path.is_dir():
        raise ConfigError(f"{shown} does not exist: run `alops data pull` (or `dvc pull`) to get it")
    listing = path / manifest
    if fmt == "files" or (fmt == "auto" and os.path.lexists(listing)):
        if not os.path.lexists(listing):
            raise ConfigError(f"{shown}/{manifest} does not exist: a folder of files needs a manifest table")
        datafiles.confined(listing, path, "the dataset")
        datafiles.check_regular(listing)
        return Layout(relative, (listing,), files_base=path)
    skip = exclude.resolve() if exclude else None
    tables = tuple(
        p
        for p in datafiles.walk(path, lambda name: _kind(Path(name), fmt) is not None)
        if not (skip and p.resolve().is_relative_to(skip))
    )
    if not tables:
        raise ConfigError(f"{shown} holds no .csv or .parquet table")
    return Layout(relative, tables)


def _kind(path: Path, fmt: str) -> str | None:
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    return kind if kind and fmt in ("auto", "files", kind) else None


def header(table: Path) -> list[str]:
    """The column names of a table, without reading its rows."""
    if TABLE_SUFFIXES[table.suffix.lower()] == "parquet":
        from alops.devset.dataset import parquet

        return list(parquet.names(parquet.open_parquet(table), table))
    from alops.devset.dataset import scan

    # The builder's reading of a header (names trimmed, delimiter from the suffix).
    return list(scan.open_csv(table, str(table)).names)


def chunks(layout: Layout, convert: Callable[[Chunk], T], *, threads: int = 1) -> Iterator[T]:
    """``convert`` of every chunk of rows of the dataset, in order.

    CSV tables are cut into blocks of whole lines by the builder's
    ``scan.scan``; ``threads`` threads parse and convert blocks (pyarrow and
    numpy release the GIL), and only the blocks in flight are in memory.
    """
    from alops.devset.dataset import scan

    for table in layout.tables:
        if TABLE_SUFFIXES[table.suffix.lower()] == "parquet":
            for chunk in _parquet(table):
                yield convert(_with_files(layout, chunk))
            continue
        opened = scan.open_csv(table, str(table))
        work = functools.partial(_block, layout, opened, convert)
        yield from scan.scan(opened, work, threads=threads, block_bytes=_BLOCK_BYTES)


def _block(layout: Layout, table: Any, convert: Callable[[Chunk], T], _index: int, data: bytes | memoryview) -> T:
    return convert(_with_files(layout, _piece(table.path, table.names, table.delimiter, data)))


def _with_files(layout: Layout, chunk: Chunk) -> Chunk:
    if layout.files_base is not None and chunk.rows:
        chunk.unopenable = _unopenable(layout.files_base, chunk.table, chunk)
    return chunk


def _piece(table: Path, names: Sequence[str], delimiter: str, data: bytes | memoryview) -> Chunk:
    """Whole CSV lines (no header) as one chunk: every column as text, by the builder's block parser.

    Cells stay text (a cell that is not a number is the caller's to count);
    lines that do not parse, or are not UTF-8, are the rows skipped unread.
    """
    from alops.devset.dataset import csvblock

    columns = tuple(names)
    parsed = csvblock.parse(data, csvblock.Columns(columns, delimiter, (), (), (), columns))
    return Chunk(table, parsed.strings, len(parsed.rows), len(parsed.corrupt))


def samples(layout: Layout, columns: Sequence[str]) -> Iterator[Chunk]:
    """Rows spread over the dataset, the builder's own sample for its outlier bounds.

    The same lines (``scan.presample``) and Parquet batches (``parquet.sample``)
    the builder reads, so both commands call the same rows outliers.
    """
    from alops.devset.dataset import parquet, scan

    csvs = [t for t in layout.tables if TABLE_SUFFIXES[t.suffix.lower()] == "csv"]
    opened = [scan.open_csv(t, str(t)) for t in csvs]
    pieces = scan.presample(opened) if opened else {}
    for t in opened:
        if pieces.get(t.rel):
            yield _piece(t.path, t.names, t.delimiter, pieces[t.rel])
    for table in layout.tables:
        if table not in csvs:
            handle = parquet.open_parquet(table)
            wanted = [c for c in columns if c in parquet.names(handle, table)]
            for part in parquet.sample(handle, wanted, table):
                yield Chunk(table, dict(zip(part.schema.names, part.columns, strict=True)), part.num_rows)


def builder_numeric(layout: Layout, text: set[str]) -> dict[Path, tuple[str, ...]]:
    """The numeric columns of each table, typed as the builder types them: its spread sample, its rule.

    ``text`` are the columns the builder never types (the strata, a manifest's paths).
    """
    from alops.devset.dataset import csvtypes, parquet, scan

    csvs = [t for t in layout.tables if TABLE_SUFFIXES[t.suffix.lower()] == "csv"]
    opened = [scan.open_csv(t, str(t)) for t in csvs]
    pieces = scan.presample(opened) if opened else {}
    out = {t.path: csvtypes.sample(pieces[t.rel], t.names, t.delimiter, text).numeric for t in opened}
    for table in layout.tables:
        if table not in out:
            handle = parquet.open_parquet(table)
            out[table] = tuple(n for n in parquet.numeric(handle) if n not in text)
    return out


def _parquet(table: Path) -> Iterator[Chunk]:
    from alops.devset.dataset import parquet

    handle = parquet.open_parquet(table)
    parquet.names(handle, table)
    for batch in parquet.batches(handle, table):
        yield Chunk(table, dict(zip(batch.schema.names, batch.columns, strict=True)), batch.num_rows)


def _unopenable(base: Path, table: Path, chunk: Chunk) -> npt.NDArray[np.bool_]:
    """Rows whose file does not open (the builder's own rule): the corrupt samples of a folder of files."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    from alops.devset.dataset import manifest

    if PATH_COLUMN not in chunk.columns:
        raise ConfigError(f"{table}: the manifest has no {PATH_COLUMN!r} column naming each file")
    column = chunk.columns[PATH_COLUMN]
    if pa.types.is_binary(column.type):
        names = [v.decode("utf-8", "replace") if v is not None else None for v in column.to_pylist()]
    else:
        names = column.to_pylist()  # manifest.problem says why a value that is not text names no file
    return np.array([problem is not None for problem in manifest.problems(base, names)], dtype=bool)
