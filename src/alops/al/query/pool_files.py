"""Readers of scores files, chunk by chunk: NPY through numpy's format header, Parquet and CSV through pyarrow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alops.al.query.pool import Chunk
from alops.errors import DataError

#: pyarrow's CSV reader cuts batches by bytes, not rows, and reads about 32 blocks ahead:
#: 8 MB blocks held 280 MB of Arrow buffers, 128 KB blocks 4 MB (about 1,000 rows of 10 classes each).
CSV_BLOCK_BYTES = 1 << 16
#: The most a CSV chunk's buffer holds (float64 probabilities).
TABLE_CHUNK_BYTES = 1 << 20


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
        return list(_parquet_reader(path).schema_arrow.names)
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 16))
    return list(reader.schema.names)


def table_chunks(path: Path, suffix: str, id_column: str | None, chunk_rows: int) -> Iterator[Chunk]:
    """The rows of a Parquet or CSV file: an optional id column, every other column a class probability.

    Rows go into one reused buffer (the consumer copies what it keeps); it holds a
    Parquet row group, or ``chunk_rows`` rows of a CSV file (at most ``TABLE_CHUNK_BYTES``).
    """
    import pyarrow as pa

    try:
        if suffix == ".parquet":
            yield from _parquet_chunks(path, id_column)
        else:
            yield from _csv_chunks(path, id_column, chunk_rows)
    except pa.ArrowInvalid as exc:
        raise DataError(_unreadable(path, suffix, id_column, exc)) from exc
    except OSError as exc:
        raise DataError(f"{path} cannot be read as {suffix[1:].upper()}: {exc}") from exc


def _parquet_chunks(path: Path, id_column: str | None) -> Iterator[Chunk]:
    """A Parquet file row group by row group, each read one column at a time into the buffer.

    ``iter_batches`` decodes every column of a row group at once and kept about 30 MB
    of Arrow buffers for row groups of 128 Ki rows (over 100 MB of RSS with pyarrow's
    own 60 MB); a column at a time, copied out at once, it holds one column.
    """
    file = _parquet_reader(path)
    names = file.schema_arrow.names
    classes = _classes(path, file.schema_arrow, id_column)
    dtype = _dtype(file.schema_arrow, classes)
    buffer: npt.NDArray[np.floating] = np.empty((0, len(classes)), dtype)
    start = 0
    for group in range(file.num_row_groups):
        rows = file.metadata.row_group(group).num_rows
        if len(buffer) < rows:
            buffer = np.empty((rows, len(classes)), dtype)
        probs = buffer[:rows]
        for j, name in enumerate(classes):
            _fill(
                probs[:, j],
                file.read_row_group(group, column_indices=[names.index(name)], use_threads=False).column(0).chunks,
            )
        ids = None
        if id_column in names:
            column = file.read_row_group(group, column_indices=[names.index(id_column)], use_threads=False).column(0)
            ids = _concat([plain_values(a) for a in column.chunks])
        yield Chunk(start, probs, ids)
        start += rows


def _parquet_reader(path: Path) -> Any:
    """The reader ``pyarrow.parquet.ParquetFile`` wraps, made directly where pyarrow allows.

    ``import pyarrow.parquet`` imports ``pyarrow.fs`` and with it the S3 client: 9 MB of
    RSS a local file never uses. The reader also takes a memory pool, which ParquetFile does not.
    """
    try:
        from pyarrow._parquet import ParquetReader

        reader = ParquetReader(memory_pool=_reading_pool())
        reader.open(str(path), pre_buffer=False, buffer_size=1 << 16)
    except (ImportError, TypeError):  # pragma: no cover - a pyarrow whose private reader changed
        import pyarrow.parquet as pq

        reader = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 16).reader
    return reader


def _csv_chunks(path: Path, id_column: str | None, chunk_rows: int) -> Iterator[Chunk]:
    """A CSV file in small blocks (pyarrow reads ~32 blocks ahead), gathered into the buffer."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    header = column_names(path, ".csv")
    names = [name for name in header if name != id_column]
    # Ids stay text (an id of digits keeps its leading zeros); every class column is read as a float,
    # so a column of 0 and 1 in the first block does not become an integer column that 0.5 later breaks.
    types = {name: pa.float64() for name in names} | ({id_column: pa.string()} if id_column in header else {})
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(block_size=max(CSV_BLOCK_BYTES, 64 * 32 * len(header)), use_threads=False),
        convert_options=pcsv.ConvertOptions(column_types=types),
        memory_pool=_reading_pool(),
    )
    rows = max(1, min(chunk_rows, TABLE_CHUNK_BYTES // (8 * max(1, len(names)))))
    buffer = np.empty((rows, len(names)), np.float64)
    ids: list[npt.NDArray[Any]] = []
    filled, start = 0, 0
    for batch in reader:
        at = 0
        while at < batch.num_rows:
            n = min(batch.num_rows - at, rows - filled)
            piece = batch.slice(at, n)
            for j, name in enumerate(names):
                buffer[filled : filled + n, j] = numbers(piece.column(name))
            if id_column in header:
                ids.append(plain_values(piece.column(id_column)))
            filled, at = filled + n, at + n
            if filled == rows:
                yield Chunk(start, buffer, _concat(ids) if ids else None)
                start, filled, ids = start + rows, 0, []
    if filled:
        yield Chunk(start, buffer[:filled], _concat(ids) if ids else None)


def _reading_pool() -> Any:
    """jemalloc where pyarrow has it: it returns what a read freed; mimalloc, pyarrow's default, kept 10-25 MB more.

    The whole process of a streaming query at 10 M x 10 peaked at 89 MB with jemalloc, 99 MB
    (Parquet) and 111 MB (CSV) with mimalloc, 163 MB with the system allocator.
    """
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc (Windows wheels)
        return pa.default_memory_pool()


def _classes(path: Path, schema: Any, id_column: str | None) -> list[str]:
    import pyarrow as pa

    names = [name for name in schema.names if name != id_column]
    for name in names:
        kind = schema.field(name).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
            raise DataError(
                f"{path}: column {name!r} holds {kind}, not numbers: every column but the id column "
                f"({id_column!r}) must be a class probability"
            )
    return names


def _dtype(schema: Any, names: list[str]) -> type[np.floating]:
    import pyarrow as pa

    return np.float32 if all(pa.types.is_float32(schema.field(name).type) for name in names) else np.float64


def _fill(out: npt.NDArray[np.floating], arrays: list[Any]) -> None:
    at = 0
    for array in arrays:
        out[at : at + len(array)] = numbers(array)
        at += len(array)


def _concat(parts: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _unreadable(path: Path, suffix: str, id_column: str | None, exc: Exception) -> str:
    """pyarrow's message, or for a CSV cell that is not a number, where it is."""
    found = re.match(r"In CSV column #(\d+): Row #(\d+): CSV conversion error to \w+: invalid value '(.*)'$", str(exc))
    if not found:
        return f"{path} cannot be read as {suffix[1:].upper()}: {exc}"
    from alops.text import excerpt

    name = column_names(path, ".csv")[int(found.group(1))]
    # pyarrow counts the header as row 1: its row number is the file's line.
    return (
        f"{path}:{found.group(2)}: column {name!r} holds {excerpt(found.group(3))}, not a number: every column "
        f"but the id column ({id_column!r}) must be a class probability"
    )


def numbers(array: Any) -> np.ndarray[Any, np.dtype[Any]]:
    """A numeric Arrow array as a numpy view of its buffer, its nulls NaN (a float copy then).

    pyarrow's ``to_numpy`` (and ``pa.array``) import pandas when it is installed, as
    label-studio-sdk installs it: 45 MB of RSS, half of a streaming query's budget.
    """
    import pyarrow as pa

    kind = array.type
    if pa.types.is_null(kind):
        return np.full(len(array), np.nan)
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"{code}{kind.bit_width // 8}")
    values = np.frombuffer(array.buffers()[1], dtype, count=len(array), offset=array.offset * dtype.itemsize)
    if not array.null_count:
        return values
    bits = np.frombuffer(array.buffers()[0], np.uint8)
    valid = np.unpackbits(bits, count=array.offset + len(array), bitorder="little")[array.offset :].astype(bool)
    return np.where(valid, values, np.nan)


def plain_values(array: Any) -> np.ndarray[Any, np.dtype[Any]]:
    """An id column: numbers as a numpy array (without nulls), anything else as Python objects (None for null)."""
    import pyarrow as pa

    kind = array.type
    if (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and not array.null_count:
        return numbers(array)
    return np.array(array.to_pylist(), dtype=object)
