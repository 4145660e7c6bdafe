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
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from alops.devset.dataset import datafiles
from alops.errors import ConfigError, DataError

T = TypeVar("T")
#: Blocks start at multiples of this (moved to the next line start): part of every row's key, so
#: changing it changes every dev set. 2 MB: big enough that per-block costs vanish, small
#: enough that a few blocks in flight per thread stay well under the memory goal.
BLOCK_BYTES = 2 << 20
#: Read at most this much ahead of the oldest block not yet handed back.
AHEAD = 1
DELIMITERS = {".csv": ",", ".tsv": "\t"}
#: How compressed (or other binary) files start, for a message better than "not UTF-8".
COMPRESSED = {
    b"\x1f\x8b": "gzip-compressed",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"PK\x03\x04": "a zip archive",
    b"PAR1": "a Parquet file",
    b"\xff\xfe": "UTF-16 text (save it as UTF-8)",
    b"\xfe\xff": "UTF-16 text (save it as UTF-8)",
}
#: Read this much at a time past a block's end while looking for its last line break.
READ_AHEAD = 64 << 10


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
    """Read the header of ``path``; ConfigError when it has none, names a column twice or has too many."""
    delimiter = DELIMITERS.get(path.suffix.lower(), ",")
    with datafiles.open_regular(path) as fh:
        try:
            first = fh.readline(datafiles.MAX_HEADER_BYTES + 1)
            size = os.fstat(fh.fileno()).st_size
        except OSError as exc:
            raise DataError(f"{datafiles.shown(path)}: cannot be read: {exc.strerror or exc}") from None
    if len(first) > datafiles.MAX_HEADER_BYTES:
        raise ConfigError(
            f"{datafiles.shown(path)}:1: the header line is longer than {datafiles.MAX_HEADER_BYTES >> 20} MiB: "
            "is this a CSV table?"
        )
    names = header_names(path, first, delimiter)
    if not first.endswith(b"\n"):
        first += b"\n"
    return CsvTable(path, rel, first, tuple(names), delimiter, len(first) if size >= len(first) else size, size)


def header_names(path: Path, first: bytes, delimiter: str) -> list[str]:
    """The column names in a header line; ConfigError when there are none, too many, or one twice."""
    for magic, what in COMPRESSED.items():
        if first.startswith(magic):
            raise ConfigError(
                f"{datafiles.shown(path)}: is {what}, not a CSV table: decompress it first (e.g. `dvc add` the "
                "decompressed file), or give the table a .parquet name if it is one"
            )
    if b"\0" in first:
        raise ConfigError(f"{datafiles.shown(path)}:1: the header line holds a NUL byte: is this a CSV table?")
    fields = _fields(first, delimiter)
    if fields > datafiles.MAX_COLUMNS:  # before Python's csv module makes an object of each name
        check_names(path, range(fields))
    try:
        text = first.decode("utf-8-sig")
        names = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{datafiles.shown(path)}:1: the header line is not UTF-8 (byte {exc.start + 1}): "
            "save the table as UTF-8 text (a compressed file must be decompressed first)"
        ) from None
    except csv.Error as exc:
        raise ConfigError(f"{datafiles.shown(path)}:1: the header line is not CSV: {exc}") from None
    names = [n.strip() for n in names]
    if not names or names == [""]:
        raise ConfigError(f"{datafiles.shown(path)} is empty: a CSV table needs a header line naming its columns")
    check_names(path, names)
    return names


def _fields(line: bytes, delimiter: str) -> int:
    """How many fields a CSV line has: delimiters outside quotes, plus one (no Python object per field)."""
    import numpy as np

    arr = np.frombuffer(line, dtype=np.uint8)
    quoted = np.cumsum(arr == ord('"'), dtype=np.int32) % 2 == 1  # "" inside quotes keeps the parity
    return int(np.count_nonzero((arr == ord(delimiter)) & ~quoted)) + 1


def check_names(path: Path, names: Sequence[object]) -> None:
    """ConfigError when a table has more than ``datafiles.MAX_COLUMNS`` columns or names one twice (linear)."""
    if len(names) > datafiles.MAX_COLUMNS:
        raise ConfigError(
            f"{datafiles.shown(path)}: {len(names):,} columns, more than alops reads ({datafiles.MAX_COLUMNS:,}): "
            "keep the columns the model uses, or store the rest in another table"
        )
    seen: dict[object, int] = {}
    for column, name in enumerate(names, 1):
        if name in seen:
            raise ConfigError(
                f"{datafiles.shown(path)}: column {name!r} appears more than once in the header "
                f"(columns {seen[name]} and {column}); rename one"
            )
        seen[name] = column


def blocks(table: CsvTable, block_bytes: int | None = None) -> Iterator[tuple[int, int, bytes]]:
    """``(index, offset, data)`` for every block of whole lines after the header.

    Block ``k`` ends at the first line start at or after ``data_start + (k+1) *
    block_bytes``; the last line gets a line break if the file has none. The
    file is read with plain reads, not mapped in memory: a table truncated
    while it is read is an error, not a SIGBUS. DataError when the file
    changes size while it is read; ConfigError when it holds a line over ``datafiles.MAX_LINE_BYTES``.
    """
    block_bytes = block_bytes or BLOCK_BYTES
    size = table.size
    with datafiles.open_regular(table.path) as fh:
        reader = _Reader(table, fh)
        at, index = table.data_start, 0
        while at < size:
            boundary = table.data_start + (index + 1) * block_bytes
            if boundary <= at:  # a long line ran past this block's end too: it is empty
                index += 1
                continue
            if boundary > size:  # the end of the file
                last = reader.take(size - at)
                yield index, at, last if last.endswith(b"\n") else last + b"\n"
                break
            cut = reader.line_end(boundary - 1 - at, at)
            if cut < 0:  # no line break after the boundary: the rest is the last block
                last = reader.take(size - at)
                yield index, at, last if last.endswith(b"\n") else last + b"\n"
                break
            data = reader.take(cut + 1)
            yield index, at, data
            at, index = at + len(data), index + 1
        reader.unchanged()


class _Reader:
    """Plain reads of a table from its data start, up to the size it had when opened."""

    def __init__(self, table: CsvTable, fh: BinaryIO) -> None:
        self.table, self.fh = table, fh
        self.buf = bytearray()
        self.pos = table.data_start  # file offset of the end of ``buf``
        fh.seek(table.data_start)

    def _fill(self, upto: int) -> bool:
        """Read until ``buf`` ends at file offset ``upto`` (at most the size); False at the end."""
        upto = min(upto, self.table.size)
        if self.pos >= upto:
            return self.pos < self.table.size
        while self.pos < upto:
            try:
                chunk = self.fh.read(upto - self.pos)
            except OSError as exc:
                raise DataError(f"{datafiles.shown(self.table.path)}: cannot be read: {exc.strerror or exc}") from None
            if not chunk:
                self._changed()
            self.buf += chunk
            self.pos += len(chunk)
        return True

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        self._fill(self.pos - len(self.buf) + n)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def line_end(self, start: int, at: int) -> int:
        """Index in ``buf`` of the first line break at or after ``start`` (reading on as needed); -1: none."""
        self._fill(at + start + 1)
        searched = start
        while True:
            found = self.buf.find(b"\n", searched)
            if found >= 0:
                return found
            if len(self.buf) - start > datafiles.MAX_LINE_BYTES:
                self._too_long(at + start)
            searched = max(len(self.buf), start)
            if self.pos >= self.table.size:
                return -1
            self._fill(self.pos + READ_AHEAD)

    def unchanged(self) -> None:
        """DataError when the file changed size, or its name no longer leads to it (deleted, replaced)."""
        mine = os.fstat(self.fh.fileno())
        if mine.st_size != self.table.size:
            self._changed(mine.st_size)
        datafiles.still_there(self.table.path, mine)

    def _changed(self, now: int | None = None) -> None:
        if now is None:
            now = os.fstat(self.fh.fileno()).st_size
        raise DataError(
            f"{datafiles.shown(self.table.path)}: changed while alops read it ({self.table.size:,} bytes, "
            f"now {now:,}): run again once nothing writes to it"
        )

    def _too_long(self, offset: int) -> None:
        line = 1 + _count_lines(self.table.path, offset)
        raise ConfigError(
            f"{datafiles.shown(self.table.path)}:{line}: a line longer than {datafiles.MAX_LINE_BYTES >> 20} MiB: "
            "is this a CSV table? (a value holding a line break, a binary file)"
        )


def _count_lines(path: Path, upto: int) -> int:
    """Line breaks in the first ``upto`` bytes of ``path`` (for a message)."""
    count, left = 0, upto
    with datafiles.open_regular(path) as fh:
        while left > 0:
            chunk = fh.read(min(left, 8 << 20))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count


def scan(
    table: CsvTable,
    work: Callable[[int, bytes], T],
    *,
    threads: int,
    block_bytes: int | None = None,
) -> Iterator[T]:
    """``work(index, data)`` for every block, run on ``threads`` threads; results in block order.

    ``block_bytes`` (default ``BLOCK_BYTES``) decides where blocks start, so it is
    part of every row's key: the same value must be used for the same dev set.
    Only the blocks in flight are in memory.
    """
    source = blocks(table, block_bytes)
    if threads <= 1:
        for index, _, data in source:
            yield work(index, data)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="alops-scan") as pool:
        queue: list[Future[T]] = []
        try:
            for index, _, data in source:
                queue.append(pool.submit(work, index, data))
                del data
                while len(queue) > threads * AHEAD:
                    yield queue.pop(0).result()
            while queue:
                yield queue.pop(0).result()
        finally:
            for future in queue:
                future.cancel()


def default_threads() -> int:
    """The CPUs this process may run on: the threads that parse blocks unless told."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


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
        with datafiles.open_regular(table.path) as fh:
            if length <= count * size:
                fh.seek(table.data_start)
                data = fh.read(length)  # no further: a file that grows is caught by the pass
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
