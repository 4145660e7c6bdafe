"""Plain label files: CSV (also tab- or semicolon-separated) and JSONL, one label per row.

Columns (CSV header, JSONL keys): ``id`` (or ``sample_id``, the name alops gives the
stable id in Label Studio tasks; it wins when both are there), ``label``, and
optionally ``annotator``, ``labelled_at`` (else ``updated_at`` or ``created_at``) and
``strategy``. Header names are matched without case and surrounding spaces. An Excel ``sep=;`` first line sets the separator;
without one, the separator is the one (``,``, tab, ``;``, ``|``) that makes the header
name an id and a label column. A row whose label is empty is no label (the sample stays
in the pool); a ragged row, a line that is not JSON, a missing column are the file's
problems (DataError), found before anything is accepted.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from alops.al.labels import source, values
from alops.al.labels.model import Vote
from alops.errors import DataError

ID_COLUMNS = ("sample_id", "id")
#: Where a row's time is: alops' own column, else Label Studio's names for it.
TIMES = ("labelled_at", "updated_at", "created_at")
DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class Table:
    """A CSV file's header and its rows, each with the number of the line it starts on."""

    columns: tuple[str, ...]  # stripped, lower case
    header_line: int
    rows: Iterator[tuple[int, list[str]]]

    def find(self, *names: str) -> int | None:
        """The index of the first of ``names`` among the columns."""
        for name in names:
            if name in self.columns:
                return self.columns.index(name)
        return None


def table(path: Path) -> Table:
    """The CSV file's header (and separator) read; its rows read as they are iterated."""
    lines = source.lines(path)
    number, line = _next_text(path, lines, 0)
    delimiter = None
    first = line.rstrip("\r\n")  # not strip(): "sep=\t" names a tab
    if first.lower().startswith("sep=") and len(first) == 5:
        delimiter = first[4]
        number, line = _next_text(path, lines, number)
    header = _parse_header(path, number, line, delimiter)
    columns = tuple(name.strip().lower() for name in header[1])
    twice = sorted({name for name in columns if columns.count(name) > 1 and name})
    if twice:
        raise DataError(f"{path}:{number}: the header names {', '.join(map(values.shown, twice))} more than once")
    return Table(columns, number, _rows(path, lines, number, header[0], len(columns)))


def csv_votes(path: Path, found: Table) -> Iterator[Vote]:
    """The votes of a plain CSV file: one per row."""
    ident, label = _require(path, found.header_line, found.find(*ID_COLUMNS), found.find("label"), found.columns)
    blank = len(found.columns)  # a column the file lacks reads the empty cell appended to each row
    who, strategy = found.find("annotator"), found.find("strategy")
    when = found.find(*TIMES)
    who, when, strategy = (blank if index is None else index for index in (who, when, strategy))
    name, shared = path.name, {"": ""}  # one string for each annotator and strategy, however many rows
    for number, row in found.rows:
        row.append("")
        yield Vote(
            row[ident],
            row[label] or None,
            shared.setdefault(row[who], row[who]) or "unknown",
            row[when] or None,
            f"{name}:{number}",
            False,
            False,
            shared.setdefault(row[strategy], row[strategy]) or None,
        )


def jsonl_votes(path: Path) -> Iterator[Vote]:
    """The votes of a JSONL file: one per line holding an object."""
    name, ids, labels, shared = path.name, False, False, dict[str, str]()
    for number, line in enumerate(source.lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{number}: not JSON ({exc.msg}, column {exc.colno}): a JSONL file holds one JSON object per line"
            ) from None
        if not isinstance(row, dict):
            raise DataError(
                f"{path}:{number}: a JSON {type(row).__name__.replace('str', 'string')}, not an object:"
                ' a JSONL file holds one object per line, e.g. {"id": "a1", "label": "cat"}'
            )
        key = "sample_id" if "sample_id" in row else "id"
        ids, labels = ids or key in row, labels or "label" in row
        label, who, strategy = row.get("label"), row.get("annotator"), row.get("strategy")
        when = next((row[key] for key in TIMES if row.get(key)), None)
        yield Vote(
            row.get(key),
            label if type(label) is str and label else values.choice(label),
            shared.setdefault(who, who) if type(who) is str and who else values.annotator(who),
            when if type(when) is str and when else None,
            f"{name}:{number}",
            False,
            False,
            strategy if type(strategy) is str and strategy else None,
        )
    if not (ids and labels):  # checked at the end: each line may lack a key, but not every line
        _require(path, 1, 0 if ids else None, 0 if labels else None, None)


def _require(
    path: Path, line: int, ident: int | None, label: int | None, columns: Sequence[str] | None
) -> tuple[int, int]:
    """The id and label columns; DataError naming the missing ones (and the header there is)."""
    if ident is not None and label is not None:
        return ident, label
    missing = " and no ".join(name for name, index in (("id", ident), ("label", label)) if index is None)
    if columns is None:
        where = f"{missing} key on any line"
    else:
        where = f"{missing} column (the header is {', '.join(values.shown(c) for c in columns[:12])})"
    raise DataError(f"{path}:{line}: no {where}: a label file needs `id` (or `sample_id`) and `label`")


def _next_text(path: Path, lines: Iterator[str], number: int) -> tuple[int, str]:
    """The next line that is not blank, and its number."""
    for line in lines:
        number += 1
        if line.strip():
            return number, line
    raise DataError(f"{path}: no header: the file holds only blank lines" if number else f"{path}: the file is empty")


def _parse_header(path: Path, number: int, line: str, delimiter: str | None) -> tuple[str, list[str]]:
    candidates = (delimiter,) if delimiter else DELIMITERS
    parsed = []
    for candidate in candidates:
        try:
            cells = next(csv.reader([line], delimiter=candidate))
        except csv.Error as exc:
            raise DataError(f"{path}:{number}: the header is not CSV ({exc})") from None
        names = {cell.strip().lower() for cell in cells}
        if names & set(ID_COLUMNS) and "label" in names:
            return candidate, cells
        parsed.append((candidate, cells))
    return parsed[0]


def _rows(path: Path, lines: Iterator[str], offset: int, delimiter: str, width: int) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines, delimiter=delimiter)
    end = 0
    try:
        for row in reader:
            start, end = offset + end + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip() and width > 1):
                continue  # a blank line
            if len(row) != width:
                raise DataError(
                    f"{path}:{start}: {len(row)} cells where the header has {width}: a ragged row"
                    " (an unclosed quote, or a separator in a cell that is not quoted?)"
                )
            yield start, row
    except csv.Error as exc:
        raise DataError(f"{path}:{offset + reader.line_num}: not CSV ({exc})") from None
