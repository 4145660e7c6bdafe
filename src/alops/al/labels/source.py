"""The bytes of a label file as text: checked for encoding and binary content, lines capped.

Every problem here is the file's, so a DataError naming the file, the line and,
for a byte that is not UTF-8, its offset, with what to do: re-save the file as UTF-8.
A UTF-8 byte-order mark (what Excel's "CSV UTF-8" writes) is accepted.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path

from alops.errors import DataError

#: The longest line of a CSV or JSONL label file: a label row is a few hundred bytes,
#: and a cap keeps a file without line ends (or a hostile one) from filling memory.
MAX_LINE = 1 << 20
#: How much of the file is looked at to recognise its encoding and format.
HEAD = 1 << 16
RESAVE = "re-save it as UTF-8 (in Excel: Save As, CSV UTF-8)"
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook?): export the sheet as CSV UTF-8"),
    (b"\x1f\x8b", "gzip-compressed: decompress it first"),
    (b"PAR1", "a Parquet file: label files are CSV, JSONL or a Label Studio export"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook: export the sheet as CSV UTF-8"),
)


def head(path: Path) -> str:
    """The start of the file as text (no BOM); DataError when it is empty, binary or not UTF-8."""
    try:
        with path.open("rb") as fh:
            data = fh.read(HEAD)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}): check the path and its permissions") from None
    if not data:
        raise DataError(f"{path}: the file is empty: nothing to ingest")
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise DataError(f"{path}: the file is {name} (it starts with a {name} byte-order mark): {RESAVE}")
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise DataError(f"{path}: not a text file: {what}")
    nul = data.find(b"\x00")
    if nul >= 0:
        # UTF-16 without a BOM has a NUL beside every ASCII character.
        if data.count(b"\x00") * 3 >= len(data):
            raise DataError(f"{path}: the file looks like UTF-16 (NUL bytes between its characters): {RESAVE}")
        raise DataError(f"{path}:{_line(data, nul)}: a NUL byte at offset {nul}: a binary file, not a label file")
    whole = len(data) < HEAD
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data.removeprefix(codecs.BOM_UTF8), final=whole)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None


def text(path: Path) -> str:
    """The whole file as text (for JSON, which is read whole)."""
    data = path.read_bytes()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(path) from None


def lines(path: Path) -> Iterator[str]:
    """The file's lines with their line ends (``\\n``, ``\\r\\n`` or ``\\r``), as the csv module wants them."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as fh:
        number = 0
        while True:
            try:
                line = fh.readline(MAX_LINE)
            except UnicodeDecodeError:
                raise _not_utf8(path) from None
            if not line:
                return
            number += 1
            if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
                raise DataError(
                    f"{path}:{number}: a line longer than {MAX_LINE:,} characters: not a label file"
                    " (a label row is an id, a label and a few columns)"
                )
            yield line


def _not_utf8(path: Path) -> DataError:
    """Where the first byte that is not UTF-8 is: found again from the start, on this error path only."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    with path.open("rb") as fh:
        if fh.read(3) != codecs.BOM_UTF8:
            fh.seek(0)
        else:
            offset = 3
        while chunk := fh.read(HEAD):
            pending = len(decoder.getstate()[0])  # the bytes of a character cut by the last chunk's end
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                line += chunk.count(b"\n", 0, max(at - offset, 0))
                fh.seek(at)
                byte = fh.read(1)
                return DataError(
                    f"{path}:{line}: not UTF-8: byte 0x{byte.hex()} at offset {at} is not valid UTF-8"
                    f" (a Latin-1 or Windows-1252 file?): {RESAVE}"
                )
            offset += len(chunk)
            line += chunk.count(b"\n")
    return DataError(f"{path}: not UTF-8 (it ends inside a character): {RESAVE}")


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
