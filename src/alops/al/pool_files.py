"""Readers of scores files, chunk by chunk: NPY through numpy's format header, Parquet and CSV through pyarrow."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from alops.al.pool import Chunk
from alops.errors import DataError

#: pyarrow's CSV reader cuts batches by bytes, not rows.
CSV_BLOCK_BYTES = 8 << 20


def npy_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    """The rows of a 2-D NPY file, read into one reused buffer: the consumer copies what it keeps."""
    with path.open("rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        except ValueError as exc:
            raise DataError(f"{path} is not a readable NPY file ({exc}): write it with numpy.save") from exc
        if len(shape) != 2 or fortran or dtype.kind != "f":
            raise DataError(
                f"{path} holds a {'Fortran-ordered ' if fortran else ''}{dtype} array of shape {shape}: "
                "the scores must be a 2-D float array, samples x classes, in C order (numpy.save of the array)"
            )
        rows, classes = shape
        buffer = np.empty((min(chunk_rows, rows), classes), dtype)
        for start in range(0, rows, chunk_rows):
            n = min(chunk_rows, rows - start)
            view = buffer[:n]
            wanted = view.nbytes
            if f.readinto(view.data.cast("B")) != wanted:
                raise DataError(f"{path} is truncated: its header says {rows} rows, fewer are there")
            yield Chunk(start, view)


def column_names(path: Path, suffix: str) -> list[str]:
    """The columns of a Parquet file (from its schema) or a CSV file (from its header)."""
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 16))
    return list(reader.schema.names)


def table_chunks(path: Path, suffix: str, id_column: str | None, chunk_rows: int) -> Iterator[Chunk]:
    """The rows of a Parquet or CSV file: an optional id column, every other column a class probability."""
    import pyarrow as pa

    batches: Iterable[Any]
    try:
        if suffix == ".parquet":
            batches = _parquet_batches(path, chunk_rows)
        else:
            import pyarrow.csv as pcsv

            # Ids stay text: an id column of digits would otherwise lose its leading zeros.
            types = {id_column: pa.string()} if id_column else {}
            batches = pcsv.open_csv(
                path,
                read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                convert_options=pcsv.ConvertOptions(column_types=types),
            )
        start = 0
        for batch in batches:
            yield _chunk(path, batch, start, id_column)
            start += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path} cannot be read as {suffix[1:].upper()}: {exc}") from exc


def _parquet_batches(path: Path, chunk_rows: int) -> Iterator[Any]:
    """A Parquet file row group by row group, each read one column at a time.

    ``iter_batches`` decodes every column of a row group at once and kept about 30 MB
    of Arrow buffers for row groups of 128 Ki rows (over 100 MB of RSS with pyarrow's
    own 60 MB); a column at a time it kept 1.5 MB.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 16)
    names = file.schema_arrow.names
    for group in range(file.num_row_groups):
        columns = [file.read_row_group(group, columns=[name], use_threads=False).column(0) for name in names]
        yield from pa.table(columns, names=names).to_batches(max_chunksize=chunk_rows)


def _chunk(path: Path, batch: Any, start: int, id_column: str | None) -> Chunk:
    import pyarrow as pa

    names = [name for name in batch.schema.names if name != id_column]
    for name in names:
        kind = batch.schema.field(name).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
            raise DataError(
                f"{path}: column {name!r} holds {kind}, not numbers: every column but the id column "
                f"({id_column!r}) must be a class probability"
            )
    floats32 = all(pa.types.is_float32(batch.schema.field(name).type) for name in names)
    probs = np.empty((batch.num_rows, len(names)), np.float32 if floats32 else np.float64)
    for j, name in enumerate(names):
        # Empty cells become NaN, which validation reports with their row.
        column = batch.column(name)
        probs[:, j] = np.nan if pa.types.is_null(column.type) else column.to_numpy(zero_copy_only=False)
    ids = None
    if id_column is not None and id_column in batch.schema.names:
        ids = batch.column(id_column).to_numpy(zero_copy_only=False)
    return Chunk(start, probs, ids)
