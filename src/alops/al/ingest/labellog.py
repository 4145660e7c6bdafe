"""The label log: one ``round-NNNN.csv`` and one ``round-NNNN.json`` per ingest, never rewritten.

Who gave each label, when, from which source and in which round lives here;
the labelled set holds only the label itself. Text cells go through
:func:`alops.al.batch.csv_cell` (an annotator's name or a class that starts with
``=`` is never a formula in a spreadsheet).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alops.al.batch import csv_cell

COLUMNS = ("id", "label", "annotator", "labelled_at", "round", "source", "votes", "confidence")
_ROUND = re.compile(r"round-(\d{4,})\.json")


def next_round(folder: Path) -> int:
    """1 + the highest ``round-NNNN.json`` in ``folder`` (1 when it is empty or missing)."""
    found = [int(m.group(1)) for p in (folder.iterdir() if folder.is_dir() else ()) if (m := _ROUND.fullmatch(p.name))]
    return max(found, default=0) + 1


def names(number: int) -> tuple[str, str]:
    """The round's two file names."""
    return f"round-{number:04d}.csv", f"round-{number:04d}.json"


def round_csv(labels: Sequence[Any], number: int) -> bytes:
    """The round's CSV: one row per label (``alops.al.labels.Label``), human labels first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for label in labels:
        confidence = "" if label.confidence is None else repr(float(label.confidence))
        row = (label.sample_id, label.label, label.annotator, label.labelled_at, number, label.source, label.votes)
        writer.writerow([*(csv_cell(v) for v in row), confidence])
    return out.getvalue().encode("utf-8")


def round_json(record: Mapping[str, Any]) -> bytes:
    """The round's record (``contracts``: round, ingested_at, strategy, … ingest_id) as JSON."""
    return (json.dumps(dict(record), indent=2) + "\n").encode("utf-8")
