"""Where a dataset is and what its tables hold: a table, a folder of tables, or files with a manifest.

The one :func:`locate` of `alops devset build` (the full data) and `alops devset
check` (the full data and the dev set): the same files count, the same problem
gets the same message. Data that is not there is a :class:`DataError` (exit 4:
get it with `alops data pull`); a path that names something alops does not read
is a :class:`ConfigError` (exit 2: fix alops.yaml or the option).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alops.devset.dataset import datafiles, parquet
from alops.devset.dataset.manifest import PATH_COLUMN
from alops.devset.dataset.scan import CsvTable, open_csv
from alops.errors import ConfigError, DataError

#: Column names listed in a message before "… (N columns)".
MAX_NAMES_SHOWN = 12


@dataclass(frozen=True)
class Table:
    """One table of a dataset: ``rel`` is its path inside a folder ("" for a single table)."""

    rel: str
    path: Path
    kind: str  # "csv" or "parquet"
    names: tuple[str, ...]
    csv: CsvTable | None = None
    handle: Any = None  # pyarrow.parquet.ParquetFile (pyarrow ships no types)

    @property
    def shown(self) -> str:
        return datafiles.shown(self.path)


@dataclass(frozen=True)
class Dataset:
    """A dataset on disk: its tables and, for a folder of files, where the files are."""

    kind: str  # "table", "tables" or "files"
    path: Path  # resolved
    shown: str  # as configured (or given on the command line), for messages and reports
    tables: tuple[Table, ...]
    files_base: Path | None = None


def locate(
    root: Path,
    relative: str,
    *,
    fmt: str,
    manifest: str,
    at: str | None = None,
    manifest_at: str | None = None,
    beside: tuple[str, str | None] | None = None,
) -> Dataset:
    """The dataset at ``root/relative``, its tables opened (headers read, Parquet footers parsed).

    ``at`` (``alops.yaml:LINE: KEY``) and ``manifest_at`` start the messages about
    the path and the manifest; ``beside`` is the other dataset of the command
    (its path, and the ``at`` of its key): it must be neither inside this one nor
    hold it, or one would be read as part of the other.
    """
    path = (root / relative).resolve()
    shown = datafiles.shown(relative)
    say = f"{at}: {shown}" if at else shown
    datafiles.source_path(root, root / relative, "the project")
    if beside is not None:
        _apart(root, relative, path, beside)
    if path.is_file():
        kind = table_kind(path, fmt)
        if kind is None or fmt == "files":
            raise ConfigError(f"{say} is not a table alops can read: use a .csv, .tsv or .parquet file, or a folder")
        return Dataset("table", path, relative, (open_table(path, "", kind),))
    odd = datafiles.describe(path)
    if odd:
        raise ConfigError(f"{say} {odd}, not a file or a folder: alops reads only regular files")
    if not path.is_dir():
        raise DataError(f"{say} does not exist: run `alops data pull` (or `dvc pull`) to get it, or fix the path")
    listing = path / manifest
    if fmt == "files" or (fmt == "auto" and os.path.lexists(listing)):
        table = _manifest(listing, path, manifest_at or at, f"{shown}/{datafiles.shown(manifest)}")
        return Dataset("files", path, relative, (table,), files_base=path)
    found = datafiles.walk(path, lambda name: table_kind(Path(name), fmt) is not None)
    if not found:
        raise ConfigError(
            f"{say} holds no table: put .csv or .parquet files in it, or a {manifest} listing the files of the dataset"
        )
    tables = tuple(open_table(p, p.relative_to(path).as_posix(), table_kind(p, "auto") or "") for p in found)
    return Dataset("tables", path, relative, tables)


def _apart(root: Path, relative: str, path: Path, beside: tuple[str, str | None]) -> None:
    other, other_at = beside
    given = Path(os.path.abspath(root / other))  # its own link (DVC's symlink cache) unfollowed
    there = given.parent.resolve() / given.name
    say = f"{other_at}: {datafiles.shown(other)}" if other_at else datafiles.shown(other)
    if there == path or path in there.parents:
        raise ConfigError(
            f"{say} is inside the full data {datafiles.shown(relative)}: keep the dev set somewhere else "
            "(e.g. data/dev), or it would be read as part of the full data"
        )
    if there in path.parents:
        raise ConfigError(f"{say} contains the full data {datafiles.shown(relative)}: choose another path")


def table_kind(path: Path, fmt: str) -> str | None:
    """``"csv"`` or ``"parquet"`` by the file's suffix, when ``fmt`` allows it; else None."""
    kind = datafiles.TABLE_SUFFIXES.get(path.suffix.lower())
    return kind if kind and fmt in ("auto", "files", kind) else None


def open_table(path: Path, rel: str, kind: str) -> Table:
    """The table at ``path``: a CSV's header read, a Parquet file's schema."""
    if kind == "parquet":
        handle = parquet.open_parquet(path)
        return Table(rel, path, kind, parquet.names(handle, path), handle=handle)
    csv = open_csv(path, rel)
    return Table(rel, path, kind, csv.names, csv=csv)


def _manifest(listing: Path, folder: Path, at: str | None, shown: str) -> Table:
    say = f"{at}: {shown}" if at else shown
    if not os.path.lexists(listing):
        raise DataError(
            f"{say} does not exist: a folder of files needs a manifest table with a {PATH_COLUMN!r} column "
            "(run `alops data pull` if it is tracked)"
        )
    kind = table_kind(listing, "auto")
    if kind is None:
        raise ConfigError(f"{say} is not a .csv or .parquet table")
    datafiles.confined(listing, folder, "the dataset")
    table = open_table(listing, "", kind)
    if PATH_COLUMN not in table.names:
        raise ConfigError(
            f"{table.shown}: the manifest has no {PATH_COLUMN!r} column naming each file; its columns: "
            f"{names_shown(table.names)}"
        )
    if table.handle is not None:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

        typed = table.handle.schema_arrow.field(PATH_COLUMN).type
        value = typed.value_type if pa.types.is_dictionary(typed) else typed  # pandas' categoricals
        if not (pa.types.is_string(value) or pa.types.is_large_string(value)):
            raise ConfigError(
                f"{table.shown}: the manifest's {PATH_COLUMN!r} column holds {typed}, not text: "
                "write each file's path as a string"
            )
    return table


def names_shown(names: tuple[str, ...]) -> str:
    """Column names for a message: the first ``MAX_NAMES_SHOWN``, then how many there are."""
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    return shown + (f", … ({len(names)} columns)" if len(names) > MAX_NAMES_SHOWN else "")
