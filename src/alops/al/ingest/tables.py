"""The pool and the labelled set as files: read their ids, write the next version of both.

A CSV file keeps its bytes: every record is kept as the exact text it was read
from (quoting, line endings, a byte-order mark), so the new pool is the old one
minus the moved records, and the new labelled set is the old one plus records
appended in its own column order and line ending. A diff of two versions shows
only the rows that moved. Values are never escaped here: these are the data
(an id ``=1`` stays ``=1``); formula escaping is for the reports people open.

A Parquet file keeps its schema: moved rows are taken from the pool, their
columns put in the labelled set's order and cast to its types (the label, a
class name, cast to an integer column when the labelled set stores integers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alops.errors import DataError


@dataclass(frozen=True)
class Table:
    """One file of the pool or the labelled set, as read."""

    path: Path
    format: str  # csv | parquet
    columns: tuple[str, ...]
    ids: tuple[str, ...]  # one per row, in order
    header: str = ""  # CSV: the header record's text
    records: tuple[str, ...] = ()  # CSV: each row's text, line ending included
    newline: str = "\n"  # CSV: the line ending new rows get
    values: tuple[dict[str, str], ...] = field(default=(), repr=False)  # CSV: each row by column
    arrow: Any = field(default=None, repr=False, compare=False)  # Parquet: the pyarrow Table


def read(path: Path, id_column: str, *, shown: str) -> Table:
    """Read ``path`` (``.parquet``/``.pq``: Parquet, else CSV); a file alops cannot use is a DataError naming it."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path, id_column, shown)
    return _read_csv(path, id_column, shown)


def _records(text: str) -> Iterator[tuple[str, list[str]]]:
    """Each CSV record with the exact text it came from (a quoted field may hold line breaks)."""
    lines = iter(text.splitlines(keepends=True))
    taken: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            taken.append(line)
            yield line

    for fields in csv.reader(feed(), strict=True):
        raw = "".join(taken)
        taken.clear()
        yield raw, fields


def _read_csv(path: Path, id_column: str, shown: str) -> Table:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{shown} is not UTF-8 (byte {exc.start}): save it as UTF-8 and run again") from None
    try:
        records = list(_records(text))
    except csv.Error as exc:
        raise DataError(f"{shown} is not valid CSV ({exc}): fix the file and run again") from None
    if not records:
        raise DataError(f"{shown} is empty: it needs at least a header row with the column {id_column}")
    header, columns = records[0][0], tuple(records[0][1])
    columns = (columns[0].removeprefix("\ufeff"), *columns[1:]) if columns else columns
    if id_column not in columns:
        raise DataError(
            f"{shown} has no column {id_column} (its columns: {', '.join(columns)}): set active_learning.id_column"
        )
    where = columns.index(id_column)
    rows = [(raw, fields) for raw, fields in records[1:] if fields]  # csv yields [] for a blank line
    # A row without the header's number of fields is a corrupt sample of the raw data (the
    # project's prepare stage drops and counts those): it is kept, byte for byte, where it
    # is, and never moved, since which field is its id is unknown. Its id is "", which no
    # label file can name.
    whole = [len(fields) == len(columns) for _, fields in rows]
    newline = "\r\n" if header.endswith("\r\n") else "\n"
    return Table(
        path,
        "csv",
        columns,
        tuple(fields[where] if ok else "" for (_, fields), ok in zip(rows, whole, strict=True)),
        header=header,
        records=tuple(raw for raw, _ in rows),
        newline=newline,
        values=tuple(
            dict(zip(columns, fields, strict=True)) if ok else {} for (_, fields), ok in zip(rows, whole, strict=True)
        ),
    )


def _read_parquet(path: Path, id_column: str, shown: str) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{shown} is not a readable Parquet file ({exc}): fix it or `dvc pull` it again") from None
    if id_column not in table.column_names:
        raise DataError(
            f"{shown} has no column {id_column} (its columns: {', '.join(table.column_names)}): "
            "set active_learning.id_column"
        )
    ids = tuple("" if v is None else str(v) for v in table.column(id_column).to_pylist())
    return Table(path, "parquet", tuple(table.column_names), ids, arrow=table)


def labels_of(table: Table, label_column: str) -> dict[str, str]:
    """Each row's id -> its label (as text; an empty string when the column is missing or empty)."""
    if table.format == "csv":
        return {sample: row.get(label_column, "") for sample, row in zip(table.ids, table.values, strict=True)}
    if label_column not in table.columns:
        return dict.fromkeys(table.ids, "")
    given = table.arrow.column(label_column).to_pylist()
    return {sample: "" if v is None else str(v) for sample, v in zip(table.ids, given, strict=True)}


def moved(pool: Table, labelled: Table, labels: Mapping[str, str], label_column: str) -> tuple[bytes, bytes]:
    """The new pool and the new labelled set: the rows of ``labels`` (id -> class) moved, labelled, to its end."""
    if pool.format == "csv" and labelled.format == "csv":
        return _moved_csv(pool, labelled, labels, label_column)
    if pool.format == "parquet" and labelled.format == "parquet":
        return _moved_parquet(pool, labelled, labels, label_column)
    raise DataError(
        f"the pool ({pool.path.name}) and the labelled set ({labelled.path.name}) are not in the same format: "
        "store both as CSV or both as Parquet"
    )


def _moved_csv(pool: Table, labelled: Table, labels: Mapping[str, str], label_column: str) -> tuple[bytes, bytes]:
    kept = [raw for raw, sample in zip(pool.records, pool.ids, strict=True) if sample not in labels]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=labelled.newline)
    for values, sample in zip(pool.values, pool.ids, strict=True):
        if sample in labels:
            row = {**values, label_column: labels[sample]}
            writer.writerow([row.get(name, "") for name in labelled.columns])
    old = labelled.header + "".join(labelled.records)
    if labelled.records and not old.endswith(("\n", "\r")):
        old += labelled.newline  # the last row had no line end: new rows must not join it
    return (pool.header + "".join(kept)).encode("utf-8"), (old + out.getvalue()).encode("utf-8")


def _moved_parquet(pool: Table, labelled: Table, labels: Mapping[str, str], label_column: str) -> tuple[bytes, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    chosen = pa.array([sample in labels for sample in pool.ids], type=pa.bool_())
    rows = pool.arrow.filter(chosen)
    given = [labels[sample] for sample, hit in zip(pool.ids, chosen.to_pylist(), strict=True) if hit]
    schema = labelled.arrow.schema
    columns = []
    for name in schema.names:
        target = schema.field(name).type
        if name == label_column:
            column = pa.array(given, type=pa.string())
        elif name in rows.column_names:
            column = rows.column(name)
        else:
            column = pa.nulls(rows.num_rows, type=target)
        try:
            columns.append(column.cast(target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DataError(
                f"{labelled.path.name}: column {name} ({target}) cannot hold the new rows' values ({exc}): "
                "store the pool and the labelled set with the same column types"
            ) from None
    grown = pa.concat_tables([labelled.arrow, pa.Table.from_arrays(columns, schema=schema)])
    return _parquet_bytes(pool.arrow.filter(pa.compute.invert(chosen)), pq), _parquet_bytes(grown, pq)


def _parquet_bytes(table: Any, pq: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
