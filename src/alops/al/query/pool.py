"""The unlabelled pool as a stream of chunks: an array in memory, or a scores file read in bounded pieces.

A scores file holds one row per unlabelled sample:

- NPY: a 2-D float array, samples x classes (no ids: a sample is its row position);
- Parquet or CSV: an optional id column (``id`` unless told otherwise) and one column
  per class, in class order; the column names are the class names.

Files are read in chunks of ``chunk_rows`` rows into buffers of that size, so memory
stays flat whatever the file's length. NPY is read with ``readinto`` rather than
``np.load(mmap_mode='r')``: pages of a memory map stay mapped once touched and count
in the process's RSS, so a map of a 4 GB file ends with 4 GB of RSS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from alops.errors import DataError, MissingFileError

#: Rows per chunk of a pool in memory (views, no copies) and of a scores file (copies: smaller).
ARRAY_CHUNK_ROWS = 1 << 20
FILE_CHUNK_ROWS = 1 << 17


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` to ``start + len(probs)`` of the pool."""

    start: int
    probs: npt.NDArray[np.floating]
    ids: npt.NDArray[np.generic] | None = None


class Pool(Protocol):
    """What a query reads: the class names, if known, and the rows in order, chunk by chunk."""

    @property
    def classes(self) -> tuple[str, ...] | None: ...

    def chunks(self) -> Iterator[Chunk]: ...


@dataclass(frozen=True)
class ArrayPool:
    """A pool already in memory (or a memory map): probabilities N x C, ids optional."""

    probs: npt.NDArray[np.floating]
    ids: npt.NDArray[np.generic] | None = None
    classes: tuple[str, ...] | None = None
    chunk_rows: int = ARRAY_CHUNK_ROWS

    def chunks(self) -> Iterator[Chunk]:
        if self.probs.ndim != 2:
            raise DataError(
                f"the pool's probabilities have shape {self.probs.shape}: one row per sample and a column per class"
            )
        if self.ids is not None and len(self.ids) != len(self.probs):
            raise DataError(f"the pool has {len(self.probs)} rows of probabilities but {len(self.ids)} ids")
        for start in range(0, len(self.probs), self.chunk_rows):
            stop = start + self.chunk_rows
            yield Chunk(start, self.probs[start:stop], None if self.ids is None else self.ids[start:stop])


@dataclass(frozen=True)
class FilePool:
    """A scores file (``.npy``, ``.parquet``, ``.csv``) read ``chunk_rows`` rows at a time."""

    path: Path
    id_column: str | None = "id"
    chunk_rows: int = FILE_CHUNK_ROWS

    @property
    def classes(self) -> tuple[str, ...] | None:
        if self._suffix() == ".npy":
            return None
        return tuple(name for name in self._columns() if name != self.id_column)

    def chunks(self) -> Iterator[Chunk]:
        from alops.al.query import pool_files

        if self._suffix() == ".npy":
            yield from pool_files.npy_chunks(self.path, self.chunk_rows)
        else:
            yield from pool_files.table_chunks(self.path, self._suffix(), self.id_column, self.chunk_rows)

    def _suffix(self) -> str:
        if not self.path.is_file():
            raise MissingFileError(
                f"the scores file {self.path} does not exist: run the scoring stage first", path=self.path
            )
        suffix = self.path.suffix.lower()
        if suffix not in (".npy", ".parquet", ".csv"):
            raise DataError(f"{self.path}: scores files are .npy, .parquet or .csv, not {suffix or 'no extension'}")
        return suffix

    def _columns(self) -> list[str]:
        from alops.al.query import pool_files

        return pool_files.column_names(self.path, self._suffix())
