"""Where a dataset's rows are and how to stream them, for `alops devset check`.

A dataset is a table (``.csv``, ``.parquet``), a folder of tables, or a folder of
files listed by a manifest table. Rows come in chunks of a few MB whatever the
size of the data, read by the builder's own scanner so both commands see the
same rows. CSV cells are read as text and typed by the caller, so a
cell that is not a number marks its row as corrupt instead of failing the
whole file; lines with the wrong number of fields are counted and skipped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from alops.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

T = TypeVar("T")
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: The manifest column naming each file (the builder's ``files.PATH_COLUMN``).
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
    if path.is_file():
        if fmt != "files" and _kind(path, fmt):
            return Layout(relative, (path,))
        raise ConfigError(f"{relative}: not a table alops can read: use a .csv or .parquet file, or a folder")
    if not path.is_dir():
        raise ConfigError(f"{relative} does not exist: run `alops data pull` (or `dvc pull`) to get it")
    if fmt == "files" or (fmt == "auto" and (path / manifest).is_file()):
        listing = path / manifest
        if not listing.is_file():
            raise ConfigError(f"{relative}/{manifest} does not exist: a folder of files needs a manifest table")
        return Layout(relative, (listing,), files_base=path)
    skip = exclude.resolve() if exclude else None
    tables = tuple(
        p
        for p in sorted(path.rglob("*"))
        if p.is_file()
        and _kind(p, fmt)
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
        and not (skip and p.resolve().is_relative_to(skip))
    )
    if not tables:
        raise ConfigError(f"{relative} holds no .csv or .parquet table")
    return Layout(relative, tables)


def _kind(path: Path, fmt: str) -> str | None:
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    return kind if kind and fmt in ("auto", "files", kind) else None


def header(table: Path) -> list[str]:
    """The column names of a table, without reading its rows."""
    if TABLE_SUFFIXES[table.suffix.lower()] == "parquet":
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

        return list(_arrow(table, lambda: pq.ParquetFile(table).schema_arrow.names))
    from alops.devset import scan

    # The builder's reading of a header (names trimmed, delimiter from the suffix).
    return list(scan.open_csv(table, str(table)).names)


def chunks(layout: Layout, convert: Callable[[Chunk], T], *, threads: int = 1) -> Iterator[T]:
    """``convert`` of every chunk of rows of the dataset, in order.

    CSV tables are cut into blocks of whole lines by the builder's
    ``scan.scan``; ``threads`` threads parse and convert blocks (pyarrow and
    numpy release the GIL), and only the blocks in flight are in memory.
    """
    from alops.devset import scan

    for table in layout.tables:
        if TABLE_SUFFIXES[table.suffix.lower()] == "parquet":
            for chunk in _parquet(table):
                yield convert(_with_files(layout, chunk))
            continue
        opened = scan.open_csv(table, str(table))
        work = functools.partial(_block, layout, opened, convert)
        yield from scan.scan(opened, work, threads=threads, block_bytes=_BLOCK_BYTES)


def _block(layout: Layout, table: Any, convert: Callable[[Chunk], T], _index: int, data: bytes | memoryview) -> T:
    return convert(_with_files(layout, _piece(table.path, list(table.names), table.delimiter, data)))


def _with_files(layout: Layout, chunk: Chunk) -> Chunk:
    if layout.files_base is not None and chunk.rows:
        chunk.unopenable = _unopenable(layout.files_base, chunk.table, chunk)
    return chunk


def _piece(table: Path, names: list[str], delimiter: str, data: bytes | memoryview) -> Chunk:
    """Whole CSV lines (no header) as one chunk."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.csv as pcsv  # type: ignore[import-untyped,unused-ignore]

    invalid = [0]

    def skip(_row: Any) -> str:
        invalid[0] += 1
        return "skip"

    batch = _arrow(
        table,
        lambda: pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=len(data) + 1),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=skip),
            convert_options=_as_bytes(names),
        ),
    )
    return Chunk(table, {n: batch.column(n) for n in names}, batch.num_rows, invalid[0])


def _as_bytes(names: list[str]) -> Any:
    # Cells stay bytes: a cell that is not UTF-8 marks its row corrupt (as the
    # builder sees it) instead of failing the whole file.
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.csv as pcsv  # type: ignore[import-untyped,unused-ignore]

    return pcsv.ConvertOptions(column_types={n: pa.binary() for n in names}, strings_can_be_null=False)


def samples(layout: Layout, columns: Sequence[str]) -> Iterator[Chunk]:
    """Rows spread over the dataset, the builder's own sample for its outlier bounds.

    The same lines (``scan.presample``) and Parquet batches (``parquet.sample``)
    the builder reads, so both commands call the same rows outliers.
    """
    from alops.devset import parquet, scan

    csvs = [t for t in layout.tables if TABLE_SUFFIXES[t.suffix.lower()] == "csv"]
    opened = [scan.open_csv(t, str(t)) for t in csvs]
    pieces = scan.presample(opened) if opened else {}
    for t in opened:
        if pieces.get(t.rel):
            yield _piece(t.path, list(t.names), t.delimiter, pieces[t.rel])
    for table in layout.tables:
        if table not in csvs:
            handle = parquet.open_parquet(table)
            wanted = [c for c in columns if c in parquet.names(handle)]
            for part in parquet.sample(handle, wanted):
                yield Chunk(table, dict(zip(part.schema.names, part.columns, strict=True)), part.num_rows)


def _parquet(table: Path) -> Iterator[Chunk]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    batches = _arrow(table, lambda: pq.ParquetFile(table).iter_batches(batch_size=_PARQUET_ROWS))
    while True:
        batch = _arrow(table, lambda: next(batches, None))
        if batch is None:
            return
        yield Chunk(table, dict(zip(batch.schema.names, batch.columns, strict=True)), batch.num_rows)


def _arrow(table: Path, call: Any) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    try:
        return call()
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(f"{table}: cannot be read as a table: {exc}") from None


def _unopenable(base: Path, table: Path, chunk: Chunk) -> npt.NDArray[np.bool_]:
    """Rows whose file does not open (the builder's own rule): the corrupt samples of a folder of files."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    from alops.devset import files

    if PATH_COLUMN not in chunk.columns:
        raise ConfigError(f"{table}: the manifest has no {PATH_COLUMN!r} column naming each file")
    column = chunk.columns[PATH_COLUMN]
    if pa.types.is_binary(column.type):
        names = [v.decode("utf-8", "replace") if v is not None else None for v in column.to_pylist()]
    else:
        names = [None if v is None else str(v) for v in column.to_pylist()]
    return np.array([problem is not None for problem in files.problems(base, names)], dtype=bool)
