"""A JSON list decoded one item at a time: only the text and the current item in memory, errors by line.

Label Studio writes its exports as one JSON list, indented or on one line. Decoding
it item by item keeps the whole parsed document out of memory and says where a
problem is: a truncated file, text after the list, an object where a list belongs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from alops.errors import DataError

_SPACE = re.compile(r"[ \t\n\r]*")
_BLANK = frozenset(" \t\n\r")


def line(text: str, pos: int) -> int:
    """The line of ``pos``: counted on error paths only."""
    return text.count("\n", 0, pos) + 1


def items(path: Path, text: str) -> Iterator[tuple[int, int, object]]:
    """The items of the JSON list in ``text`` (index, offset, value), decoded one at a time."""
    decoder = json.JSONDecoder()
    scan = decoder.scan_once  # type: ignore[attr-defined]  # raw_decode's own scanner, one frame fewer an item
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "[":
        _not_a_list(path, text)
    pos, index = _skip(text, pos + 1), 0
    if text[pos : pos + 1] == "]":
        return _end(path, text, pos + 1)
    while True:
        try:
            value, end = scan(text, pos)
        except json.JSONDecodeError as exc:
            raise _bad_json(path, text, exc) from None
        except StopIteration:  # no value at pos: raw_decode says so, with where
            try:
                decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise _bad_json(path, text, exc) from None
            raise  # pragma: no cover - scan_once and raw_decode agree
        yield index, pos, value
        index, pos = index + 1, end
        if text[pos : pos + 1] in _BLANK:
            pos = _skip(text, pos)
        mark = text[pos : pos + 1]
        if mark == "]":
            return _end(path, text, pos + 1)
        if mark != ",":
            if not mark:
                raise DataError(f"{path}: the file ends inside the list of tasks: truncated? export it again")
            raise DataError(f"{path}:{line(text, pos)}: not JSON: expected `,` or `]` after item #{index}")
        pos += 1
        if text[pos : pos + 1] in _BLANK:
            pos = _skip(text, pos)


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _end(path: Path, text: str, pos: int) -> None:
    pos = _skip(text, pos)
    if pos < len(text):
        raise DataError(
            f"{path}:{text.count(chr(10), 0, pos) + 1}: more text after the list of tasks ends:"
            " a Label Studio export is one JSON list"
        )


def _not_a_list(path: Path, text: str) -> None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            raise DataError(
                f"{path}:{exc.lineno}: one JSON object after another: a JSONL file? Name it .jsonl"
                " (one object per line), or give Label Studio's export (a list of tasks)"
            ) from None
        raise _bad_json(path, text, exc) from None
    what = "an object" if isinstance(value, dict) else f"a JSON {type(value).__name__.replace('str', 'string')}"
    raise DataError(
        f"{path}: the JSON is {what}, not a list of tasks: give Label Studio's JSON, JSON-MIN or CSV export,"
        " or a JSONL file with one object per line"
    )


def _bad_json(path: Path, text: str, exc: json.JSONDecodeError) -> DataError:
    if exc.pos >= len(text.rstrip()):
        return DataError(f"{path}:{exc.lineno}: the JSON ends too early: truncated? export it again")
    return DataError(f"{path}:{exc.lineno}: not JSON: {exc.msg} (column {exc.colno})")
