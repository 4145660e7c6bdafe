"""Where the full data is and what its tables hold: a table, a folder of tables, or files with a manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alops.devset.build.spec import DEFAULT_LABEL, BuildSpec
from alops.devset.dataset import cells, datafiles, parquet
from alops.devset.dataset.manifest import PATH_COLUMN
from alops.devset.dataset.scan import CsvTable, open_csv
from alops.errors import ConfigError

SUFFIXES = datafiles.TABLE_SUFFIXES
MAX_NAMES_SHOWN = 12


@dataclass(frozen=True)
class Table:
    """One table of the source: ``rel`` is its path inside a folder ("" for a single table)."""

    rel: str
    path: Path
    kind: str  # "csv" or "parquet"
    names: tuple[str, ...]
    csv: CsvTable | None = None
    handle: Any = None  # pyarrow.parquet.ParquetFile

    @property
    def shown(self) -> str:
        return datafiles.shown(self.path)


@dataclass(frozen=True)
class Source:
    kind: str  # "table", "tables" or "files"
    path: Path
    tables: tuple[Table, ...]
    files_base: Path | None = None


def locate(spec: BuildSpec) -> Source:
    """The source of ``spec``; ConfigError naming the key when it is missing or holds no table.

    Only regular files are read, none through a link out of the dataset (see :mod:`alops.devset.dataset.datafiles`).
    """
    datafiles.source_path(spec.root, spec.root / spec.source, "the project")
    path = (spec.root / spec.source).resolve()
    given = Path(os.path.abspath(spec.root / spec.output))  # the output's own link (DVC's symlink cache) unfollowed
    output = given.parent.resolve() / given.name
    if output == path or path in output.parents:
        raise ConfigError(
            f"{spec.at('output')}: {spec.output} is inside the full data {spec.source}: "
            "write the dev set somewhere else (e.g. data/dev), or the next build would read it as data"
        )
    if output in path.parents:
        raise ConfigError(
            f"{spec.at('output')}: {spec.output} contains the full data {spec.source}: choose another path"
        )
    if path.is_file():
        kind = _kind(path, spec.format)
        if kind is None or spec.format == "files":
            allowed = "a .csv, .tsv or .parquet file, or a folder"
            raise ConfigError(f"{spec.at('source')}: {spec.source} is not a table alops can read: use {allowed}")
        same = {output.suffix.lower(), path.suffix.lower()}
        if len(same) != 1 and same != {".parquet", ".pq"}:
            raise ConfigError(
                f"{spec.at('output')}: {spec.output}: the dev set of {path.name} is a table of the same kind: "
                f"give the output a {path.suffix} name"
            )
        return Source("table", path, (_open(path, "", kind),))
    odd = datafiles.describe(path)
    if odd:
        raise ConfigError(
            f"{spec.at('source')}: {datafiles.shown(spec.source)} {odd}, not a file or a folder: "
            "alops reads only regular files"
        )
    if not path.is_dir():
        raise ConfigError(
            f"{spec.at('source')}: {spec.source} does not exist: get the full data first "
            "(`alops data pull --dataset full`, or `dvc pull`), or fix the path"
        )
    manifest = path / spec.manifest
    if spec.format == "files" or (spec.format == "auto" and os.path.lexists(manifest)):
        if not os.path.lexists(manifest):
            raise ConfigError(
                f"{spec.at('manifest')}: {spec.source}/{spec.manifest} does not exist: "
                f"a folder of files needs a manifest table with a {PATH_COLUMN!r} column"
            )
        kind = _kind(manifest, "auto")
        if kind is None:
            raise ConfigError(f"{spec.at('manifest')}: {spec.manifest} is not a .csv or .parquet table")
        datafiles.confined(manifest, path, "the dataset")
        table = _open(manifest, "", kind)
        if PATH_COLUMN not in table.names:
            raise ConfigError(
                f"{table.shown}: the manifest has no {PATH_COLUMN!r} column naming each file; its columns: "
                f"{_names(table.names)}"
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
        return Source("files", path, (table,), files_base=path)
    found = datafiles.walk(path, lambda name: _kind(Path(name), spec.format) is not None)
    if not found:
        raise ConfigError(
            f"{spec.at('source')}: {spec.source} holds no table: put .csv or .parquet files in it, "
            f"or a {spec.manifest} listing the files of the dataset"
        )
    return Source(
        "tables", path, tuple(_open(p, p.relative_to(path).as_posix(), _kind(p, "auto") or "") for p in found)
    )


def _kind(path: Path, fmt: str) -> str | None:
    kind = SUFFIXES.get(path.suffix.lower())
    return kind if kind and fmt in ("auto", "files", kind) else None


def _open(path: Path, rel: str, kind: str) -> Table:
    if kind == "parquet":
        handle = parquet.open_parquet(path)
        return Table(rel, path, kind, parquet.names(handle, path), handle=handle)
    csv = open_csv(path, rel)
    return Table(rel, path, kind, csv.names, csv=csv)


def strata_columns(spec: BuildSpec, source: Source) -> tuple[str, ...]:
    """The columns that make a stratum: label, split, stratify. ConfigError when a table lacks one."""
    wanted: list[tuple[str, str]] = []
    if spec.label:
        wanted.append(("label", spec.label))
    elif all(DEFAULT_LABEL in t.names for t in source.tables):
        wanted.append(("label", DEFAULT_LABEL))
    if spec.split:
        wanted.append(("split", spec.split))
    wanted += [("stratify", name) for name in spec.stratify]
    for key, name in wanted:
        for table in source.tables:
            if name not in table.names:
                raise ConfigError(
                    f"{spec.at(key)}: column {name!r} is not in {table.shown}; its columns: {_names(table.names)}"
                )
            if table.handle is not None:
                _stratum_type(spec.at(key), table, name)
    seen: list[str] = []
    for _, name in wanted:
        if name not in seen:
            seen.append(name)
    return tuple(seen)


def _stratum_type(at: str, table: Table, name: str) -> None:
    """ConfigError when a Parquet column cannot make strata: nested, or bytes (not text)."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    typed = table.handle.schema_arrow.field(name).type
    value = typed.value_type if pa.types.is_dictionary(typed) else typed
    if cells.is_nested(value) or pa.types.is_binary(value) or pa.types.is_large_binary(value):
        raise ConfigError(
            f"{at}: column {name!r} of {table.shown} holds {typed}: strata need plain values "
            "(text, numbers, booleans, dates); choose another column"
        )


def check_numeric(spec: BuildSpec, table: Table, numeric: tuple[str, ...]) -> None:
    """ConfigError when a configured outlier column is missing from ``table`` or not numeric there."""
    if spec.outliers is None or spec.outliers.columns is None:
        return
    for name in spec.outliers.columns:
        if name not in table.names:
            raise ConfigError(
                f"{spec.at('outliers')}.columns: column {name!r} is not in {table.shown}; "
                f"its columns: {_names(table.names)}"
            )
        if name not in numeric:
            raise ConfigError(
                f"{spec.at('outliers')}.columns: column {name!r} of {table.shown} does not hold numbers; "
                f"numeric columns: {_names(numeric) or '(none)'}"
            )


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    return shown + (f", … ({len(names)} columns)" if len(names) > MAX_NAMES_SHOWN else "")
