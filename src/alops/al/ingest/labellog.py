"""The label log: one ``round-NNNN.csv`` and one ``round-NNNN.json`` per ingest, never rewritten.

Who gave each label, when, from which source and in which round lives here;
the labelled set holds only the label itself. Text cells go through
:func:`alops.al.query.batch.csv_cell` (an annotator's name or a class that starts with
``=`` is never a formula in a spreadsheet).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.al.query.batch import csv_cell

if TYPE_CHECKING:
    from alops.al.ingest.report import IngestReport
    from alops.config import Config

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


def record(
    config: Config, number: int, now: str, ingest_id: str, base: IngestReport, counts: Mapping[str, int]
) -> dict[str, Any]:
    """The round's ``round-NNNN.json`` (contracts: every field)."""
    al = config.al
    assert al is not None
    strategies = [x.strategy for x in base.accepted if x.strategy]
    batch = batch_facts(config.root / al.batch_dir)
    return {
        "round": number,
        "ingested_at": now,
        "strategy": max(set(strategies), key=strategies.count) if strategies else "unknown",
        "batch_size": batch[0],
        "model_version": batch[1],
        "source": base.origin,
        "source_file": base.source.name,
        "accepted": len(base.accepted),
        "rejected": len(base.rejected),
        "skipped": base.skipped,
        "pseudo": len(base.pseudo),
        **counts,
        "ingest_id": ingest_id,
    }


def batch_facts(folder: Path) -> tuple[int | None, str | None]:
    """The size of the batch ``alops al query`` wrote and the model version its tasks name, when they are there."""
    size = version = None
    try:
        with (folder / "batch.jsonl").open(encoding="utf-8") as fh:
            size = sum(1 for line in fh if line.strip())
        tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
        version = tasks[0]["predictions"][0].get("model_version") if tasks and tasks[0].get("predictions") else None
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        pass
    return size, version if isinstance(version, str) else None
