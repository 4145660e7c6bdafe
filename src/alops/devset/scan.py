"""Stream a CSV table in parallel: fixed byte blocks, parsed by threads, results in block order.

A block is the byte range from one multiple of ``BLOCK_BYTES`` to the next,
each end moved forward to the next line start, so blocks (and anything
computed per block) do not depend on how many threads read them. pyarrow's
CSV parser releases the GIL, so threads parse blocks in parallel; memory holds
only the blocks in flight, never the table. ``alops devset check`` can use
:func:`scan` with its own ``work`` function as well.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alops.errors import ConfigError

T = TypeVar("T")
#: Blocks start at multiples of this (moved to the next line start): part of every row's key, so
#: changing it changes every dev set. 2 MB: big enough that per-block costs vanish, small
#: enough that a few blocks in flight per thread stay well under the memory goal.
BLOCK_BYTES = 2 << 20
#: Read at most this much ahead of the oldest block not yet handed back.
AHEAD = 1
DELIMITERS = {".csv": ",", ".tsv": "\t"}


@dataclass(frozen=True)
class CsvTable:
    """A CSV file: its header as written, its column names, where the rows start."""

    path: Path
    rel: str  # path inside the dataset ("" for a single table): part of every row's key
    header: bytes
    names: tuple[str, ...]
    delimiter: str
    data_start: int
    size: int


def open_csv(path: Path, rel: str) -> CsvTable:
    """Read the header of ``path``; ConfigError when it has none or names a column twice."""
    delimiter = DELIMITERS.get(path.suffix.lower(), ",")
    try:
        with path.open("rb") as fh:
            first = fh.readline()
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = first.decode("utf-8-sig")
        names = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: the header line is not UTF-8 CSV: {exc}") from None
    names = [n.strip() for n in names]
    if not names or names == [""]:
        raise ConfigError(f"{path} is empty: a CSV table needs a header line naming its columns")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{path}: column {twice[0]!r} appears more than once in the header; rename one")
    if not first.endswith(b"\n"):
        first += b"\n"
    return CsvTable(path, rel, first, tuple(names), delimiter, len(first) if size >= len(first) else size, size)


def blocks(table: CsvTable, block_bytes: int | None = None) -> Iterator[tuple[int, int, memoryview | bytes]]:
    """``(index, offset, data)`` for every block of whole lines after the header.

    Block ``k`` ends at the first line start at or after ``data_start + (k+1) *
    block_bytes``; the last line gets a line break if the file has none. Blocks
    are views of the file mapped in memory: no copy, the page cache is read as
    it is (:func:`scan` gives each block's pages back once it is done).
    """
    block_bytes = block_bytes or BLOCK_BYTES
    with _mapped(table.path) as mapped:
        if mapped is None:
            return
        size, view = len(mapped), memoryview(mapped)
        at, index = table.data_start, 0
        while at < size:
            boundary = table.data_start + (index + 1) * block_bytes
            if boundary <= at:  # a long line ran past this block's end too: it is empty
                index += 1
                continue
            cut = mapped.find(b"\n", boundary - 1) if boundary <= size else -1
            if cut < 0:  # the end of the file
                last = view[at:size]
                yield index, at, last if mapped[size - 1] == 10 else bytes(last) + b"\n"
                return
            yield index, at, view[at : cut + 1]
            at, index = cut + 1, index + 1


@contextmanager
def _mapped(path: Path) -> Iterator[mmap.mmap | None]:
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            yield None
            return
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            mapped.madvise(mmap.MADV_SEQUENTIAL)  # read ahead: the whole file is read once, in order
        except (AttributeError, OSError):  # pragma: no cover - platforms without madvise
            pass
        try:
            yield mapped
        finally:
            try:
                mapped.close()
            except BufferError:  # a block is still referenced somewhere: the collector closes it
                pass


def scan(
    table: CsvTable,
    work: Callable[[int, memoryview | bytes], T],
    *,
    threads: int,
    block_bytes: int | None = None,
) -> Iterator[T]:
    """``work(index, data)`` for every block, run on ``threads`` threads; results in block order.

    ``block_bytes`` (default ``BLOCK_BYTES``) decides where blocks start, so it is
    part of every row's key: the same value must be used for the same dev set.
    Once a block's result is handed back, the pages of the file it covered leave
    this process's memory (the kernel keeps them in its page cache), so mapping
    the file never shows in the process's peak memory.
    """
    done = _Done()
    source = blocks(table, block_bytes)
    if threads <= 1:
        for index, at, data in source:
            result = work(index, data)
            done.upto(data, at)
            del data
            yield result
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="alops-scan") as pool:
        queue: list[tuple[Future[T], int, memoryview | bytes]] = []
        try:
            for index, at, data in source:
                queue.append((pool.submit(work, index, data), at, data))
                del data
                while len(queue) > threads * AHEAD:
                    future, at, data = queue.pop(0)
                    result = future.result()
                    done.upto(data, at)
                    del data
                    yield result
            while queue:
                future, at, data = queue.pop(0)
                result = future.result()
                del data
                yield result
        finally:
            for future, _, _ in queue:
                future.cancel()


class _Done:
    """Gives back the pages of blocks that are done, in file order (``madvise(MADV_DONTNEED)``)."""

    def __init__(self) -> None:
        self.released = 0

    def upto(self, data: memoryview | bytes, at: int) -> None:
        if not isinstance(data, memoryview) or not isinstance(data.obj, mmap.mmap):
            return
        end = (at + data.nbytes) // mmap.PAGESIZE * mmap.PAGESIZE
        start = self.released // mmap.PAGESIZE * mmap.PAGESIZE
        if end > start:
            try:
                data.obj.madvise(mmap.MADV_DONTNEED, start, end - start)
            except (AttributeError, OSError, ValueError):  # pragma: no cover - no madvise here
                return
            self.released = end


def presample(tables: list[CsvTable], budget: int = 4 << 20, pieces: int = 64) -> dict[str, bytes]:
    """Whole lines from places spread evenly over each table, about ``budget`` bytes in all.

    Each table gets pieces in proportion to its size, at least one (so every
    table is typed from its own lines); a table that fits in its share is read
    whole. The result depends only on the files, so what is computed from it is
    as deterministic as the rest.
    """
    total = sum(t.size - t.data_start for t in tables) or 1
    size = max(budget // pieces, 1)
    out = {}
    for table in tables:
        length = table.size - table.data_start
        count = max(1, round(pieces * length / total))
        with table.path.open("rb") as fh:
            if length <= count * size:
                fh.seek(table.data_start)
                data = fh.read()
                out[table.rel] = data if data.endswith(b"\n") or not data else data + b"\n"
                continue
            parts = []
            for k in range(count):
                at = k * length // count
                fh.seek(table.data_start + at)
                data = fh.read(size)
                if at:  # start at the next line start
                    first = data.find(b"\n")
                    data = data[first + 1 :] if first >= 0 else b""
                last = data.rfind(b"\n")
                parts.append(data[: last + 1])
            out[table.rel] = b"".join(parts)
    return out
