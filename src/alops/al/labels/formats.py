"""Which kind of label file this is, from its content (its extension only breaks ties).

- starts with ``[``: Label Studio's JSON or JSON-MIN export (told apart by the first task);
- starts with ``{``: JSONL, one object per line; a ``.json`` file, or an object spread
  over several lines, is one JSON object, which is refused (an export is a list);
- anything else: CSV, Label Studio's when the header has ``annotation_id``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from alops.al.labels import plain, source, studio
from alops.al.labels.model import Vote
from alops.errors import DataError

CSV, JSONL = "csv", "jsonl"


def votes(path: Path) -> tuple[str, Iterator[Vote]]:
    """The file's format and its votes, read as they are iterated (file-level problems raise DataError)."""
    kind = detect(path)
    if kind == "json":
        return studio.json_votes(path)
    if kind == JSONL:
        return JSONL, plain.jsonl_votes(path)
    found = plain.table(path)
    if studio.is_csv_export(found):
        return studio.CSV, studio.csv_votes(path, found)
    return CSV, plain.csv_votes(path, found)


def detect(path: Path) -> str:
    """``json``, ``jsonl`` or ``csv``."""
    start = source.head(path).lstrip()
    if not start:
        if path.stat().st_size <= source.HEAD:
            raise DataError(f"{path}: the file holds only blank space: nothing to ingest")
        return CSV
    suffix = path.suffix.lower()
    if start[0] == "[":
        return "json"
    if start[0] == "{":
        if suffix == ".json":
            return "json"
        if suffix in (".jsonl", ".ndjson"):
            return JSONL
        first, newline, _ = start.partition("\n")
        if not newline and path.stat().st_size > source.HEAD:
            return JSONL  # a first line longer than the head: not one object spread over lines
        try:
            json.loads(first)
        except ValueError:
            return "json"  # an object over several lines: one JSON document
        return JSONL
    return CSV
