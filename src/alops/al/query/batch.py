"""The batch a query chose, written for people and for labelling tools: ``batch.csv``, ``batch.jsonl``, ``tasks.json``.

All three files are swapped in together through :class:`alops.atomic.Stage`: a
failure (or a kill) while writing leaves the previous batch as it was.

Sample ids and class names come from the scores file, so from anyone: in
``batch.csv`` a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab,
a carriage return or a line feed (or their full-width forms) gets a leading
``'``, as OWASP's guidance on CSV injection says, so a spreadsheet shows it as
text and never runs it as a formula. The JSON files keep every value exactly.
A score that is not finite (k-center's first point, chosen with no labelled set
to measure from, is infinitely far from everything) is ``null`` in JSON and an
empty cell in CSV: never ``Infinity``, which is not JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from alops import atomic

FILES = ("batch.csv", "batch.jsonl", "tasks.json")
COLUMNS = ("index", "id", "score", "strategy", "predicted", "confidence")
#: The names of the Label Studio labelling interface's tags that the pre-annotations refer to.
FROM_NAME = "label"
TO_NAME = "sample"
#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass(frozen=True)
class BatchRow:
    """One sample of the batch, as the files write it."""

    index: int  # its row in the scores file
    id: object  # its stable id (the row index when the scores file has no ids)
    score: float | None  # None: not finite
    strategy: str
    predicted: str  # the predicted class's name
    confidence: float  # the predicted class's probability


def write_batch(rows: Sequence[BatchRow], folder: Path, *, model_version: str) -> tuple[Path, ...]:
    """Replace ``batch.csv``, ``batch.jsonl`` and ``tasks.json`` in ``folder`` (created if missing), all or none."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic.writing_to(folder):
        stage = atomic.Stage(folder / FILES[0])
        try:
            with stage.new("batch.csv").open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(COLUMNS)
                writer.writerows([csv_cell(value) for value in _values(row)] for row in rows)
            with stage.new("batch.jsonl").open("w", encoding="utf-8") as fh:
                fh.writelines(_json(asdict(row)) + "\n" for row in rows)
            stage.new("tasks.json").write_text(_json(tasks(rows, model_version)) + "\n", encoding="utf-8")
            stage.commit(FILES)
        except BaseException:
            stage.discard()
            raise
    return tuple(folder / name for name in FILES)


def tasks(rows: Iterable[BatchRow], model_version: str) -> list[dict[str, object]]:
    """Label Studio's task import format, the model's prediction as a pre-annotation.

    The stable id travels in ``data`` (Label Studio gives tasks ids of its own), with
    the query's score and strategy, so its data manager can sort by them. The
    prediction's ``score`` is the model's confidence, which is what Label Studio
    means by it (and always finite).
    """
    return [
        {
            "data": {"sample_id": row.id, "index": row.index, "score": row.score, "strategy": row.strategy},
            "predictions": [
                {
                    "model_version": model_version,
                    "score": row.confidence,
                    "result": [
                        {
                            "from_name": FROM_NAME,
                            "to_name": TO_NAME,
                            "type": "choices",
                            "value": {"choices": [row.predicted]},
                        }
                    ],
                }
            ],
        }
        for row in rows
    ]


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet never runs: text that looks like a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def finite(score: float) -> float | None:
    """``score``, or None when it is not finite (JSON has no infinity)."""
    return score if math.isfinite(score) else None


def _values(row: BatchRow) -> tuple[object, ...]:
    return (row.index, row.id, row.score, row.strategy, row.predicted, row.confidence)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
