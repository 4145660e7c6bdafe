"""Parquet tables: stream record batches, sample a few for the outlier bounds, write the kept rows.

A Parquet file is typed, so it has no corrupt rows; a file that does not open,
or whose text is not UTF-8, is an error (ConfigError naming the file, and the
column and row where known). Files are read, never mapped in memory (a file
truncated while it is read is an error, not a SIGBUS). Batches are decoded by
pyarrow's own threads. Nested columns (struct, list, map) are carried along.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alops.devset.dataset import cells, datafiles
from alops.errors import ConfigError

BATCH_ROWS = 65_536
#: Rows read for the outlier bounds: the first batch of up to this many row groups.
SAMPLE_GROUPS = 64
SAMPLE_ROWS = 4_096
#: What each open file was when opened (its fstat): a file deleted or changed while read is an error.
_OPENED: weakref.WeakKeyDictionary[Any, os.stat_result] = weakref.WeakKeyDictionary()


def open_parquet(path: Path) -> Any:
    """The ``pyarrow.parquet.ParquetFile`` of ``path``; ConfigError when it is not one."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    with datafiles.open_regular(path) as fh:  # a named pipe would hang pyarrow's open
        opened = os.fstat(fh.fileno())
    try:
        handle = pq.ParquetFile(path, memory_map=False)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(f"{datafiles.shown(path)}: cannot be read as a Parquet table: {_said(exc)}") from None
    _OPENED[handle] = opened
    return handle


def names(handle: Any, path: Path) -> tuple[str, ...]:
    """The column names; ConfigError for a name used twice or more columns than alops reads."""
    from alops.devset.dataset.scan import check_names

    found = tuple(handle.schema_arrow.names)
    check_names(path, found)
    return found


def numeric(handle: Any) -> tuple[str, ...]:
    """The columns holding numbers (integers, floats, decimals)."""
    return tuple(f.name for f in handle.schema_arrow if cells.is_numeric_type(f.type))


def batches(handle: Any, path: Path) -> Iterator[Any]:
    """Every record batch of the file, in order; ConfigError when one does not read or holds text that is not UTF-8."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    first = 0
    reading = handle.iter_batches(batch_size=BATCH_ROWS)
    while True:
        try:
            batch = next(reading, None)
        except (pa.ArrowException, OSError) as exc:
            raise ConfigError(f"{datafiles.shown(path)}: cannot be read as a Parquet table: {_said(exc)}") from None
        if batch is None:
            if handle in _OPENED:
                datafiles.still_there(path, _OPENED[handle])
            return
        checked(batch, path, first)
        yield batch
        first += batch.num_rows


def checked(batch: Any, path: Path, first: int = 0) -> None:
    """ConfigError when a text column of ``batch`` (rows from ``first``) holds bytes that are not UTF-8.

    pyarrow does not check the text it reads from Parquet; both commands read it as text.
    """
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if not _has_text(column.type):
            continue
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:
            row = first + _first_not_utf8(column) + 1
            raise ConfigError(
                f"{datafiles.shown(path)}: column {name!r}, row {row}: text that is not UTF-8: "
                "write the column as UTF-8 strings (or as binary, if it is not text)"
            ) from None


def _has_text(t: Any) -> bool:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return True
    return bool(pa.types.is_nested(t) and any(_has_text(t.field(i).type) for i in range(t.num_fields)))


def _first_not_utf8(column: Any) -> int:
    for i in range(len(column)):
        try:
            column.slice(i, 1).validate(full=True)
        except Exception:  # noqa: BLE001 - pyarrow's ArrowInvalid, from the row that holds it
            return i
    return 0


def _said(exc: BaseException) -> str:
    return datafiles.shown(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def sample(handle: Any, columns: Sequence[str], path: Path | None = None) -> Iterator[Any]:
    """A few batches spread over the file (only ``columns``), for the outlier bounds."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    groups = handle.num_row_groups
    if not groups or not columns:
        return
    chosen = sorted({k * groups // SAMPLE_GROUPS for k in range(min(groups, SAMPLE_GROUPS))})
    for group in chosen:
        try:
            batch = next(iter(handle.iter_batches(batch_size=SAMPLE_ROWS, row_groups=[group], columns=list(columns))))
        except StopIteration:
            continue
        except (pa.ArrowException, OSError) as exc:
            where = datafiles.shown(path) if path is not None else "a Parquet table"
            raise ConfigError(f"{where}: cannot be read as a Parquet table: {_said(exc)}") from None
        yield batch


def floats(column: Any) -> Any:
    """A numeric column as float64 numpy values, NaN where missing."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    values = pc.cast(column, pa.float64(), safe=False)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def texts(column: Any) -> tuple[Any, list[str]]:
    """A column as dictionary codes and values; missing values are ``""`` (e.g. unlabelled)."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())  # source.strata_columns allows only types that cast
    column = pc.fill_null(column, "")
    encoded = column.dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    return codes, [str(v) for v in encoded.dictionary.to_pylist()]


def write(path: Path, schema: Any, parts: Sequence[Any]) -> None:
    """Write the kept record batches as one Parquet file with the source's schema."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    table = pa.Table.from_batches(list(parts), schema=schema)
    pq.write_table(table, path)
