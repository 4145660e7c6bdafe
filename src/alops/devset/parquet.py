"""Parquet tables: stream record batches, sample a few for the outlier bounds, write the kept rows.

A Parquet file is typed, so it has no corrupt rows; a file that does not open is
an error. Batches are decoded by pyarrow's own threads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alops.errors import ConfigError

BATCH_ROWS = 65_536
#: Rows read for the outlier bounds: the first batch of up to this many row groups.
SAMPLE_GROUPS = 64
SAMPLE_ROWS = 4_096


def open_parquet(path: Path) -> Any:
    """The ``pyarrow.parquet.ParquetFile`` of ``path``; ConfigError when it is not one."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(f"{path}: cannot be read as a Parquet table: {exc}") from None


def names(handle: Any) -> tuple[str, ...]:
    return tuple(handle.schema_arrow.names)


def numeric(handle: Any) -> tuple[str, ...]:
    """The columns holding numbers (integers, floats, decimals)."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    return tuple(
        f.name
        for f in handle.schema_arrow
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
    )


def batches(handle: Any, path: Path) -> Iterator[Any]:
    """Every record batch of the file, in order."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    try:
        yield from handle.iter_batches(batch_size=BATCH_ROWS)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(f"{path}: cannot be read as a Parquet table: {exc}") from None


def sample(handle: Any, columns: Sequence[str]) -> Iterator[Any]:
    """A few batches spread over the file (only ``columns``), for the outlier bounds."""
    groups = handle.num_row_groups
    if not groups or not columns:
        return
    chosen = sorted({k * groups // SAMPLE_GROUPS for k in range(min(groups, SAMPLE_GROUPS))})
    for group in chosen:
        for batch in handle.iter_batches(batch_size=SAMPLE_ROWS, row_groups=[group], columns=list(columns)):
            yield batch
            break


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
        column = pc.cast(column, pa.string())
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
