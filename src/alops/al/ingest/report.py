"""What an ingest did (:class:`IngestReport`), its rejected rows as ``rejected.csv``, and its summary for people."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from alops import atomic
from alops.al.query.batch import csv_cell

REJECTED = "rejected.csv"
REJECTED_COLUMNS = ("sample_id", "reason", "where")


@dataclass(frozen=True)
class Recovered:
    """What :func:`alops.al.ingest.recover` did: ``nothing``, ``discarded`` (staging, no journal), ``finished``
    (rolled forward from the journal) or ``checked-out`` (the data of the remote branch a push had moved onto)."""

    action: str
    ingest_id: str | None


@dataclass(frozen=True)
class IngestReport:
    """What one ``alops al ingest`` did."""

    source: Path
    accepted: tuple[Any, ...]  # alops.al.labels.Label, source human
    pseudo: tuple[Any, ...]  # source pseudo: in the log only
    rejected: tuple[Any, ...]  # alops.al.labels.Rejected
    skipped: int  # samples with no usable annotation: they stay in the pool
    unchanged: int  # already labelled with the same label (an earlier round's task): nothing to do
    rejected_file: Path | None  # None: nothing was rejected
    origin: str = "file"
    round: int | None = None  # None: nothing was committed
    commit: str | None = None
    labelled_after: int | None = None
    pool_after: int | None = None
    pushes: int = 0  # git pushes tried (0: not pushed)
    notes: tuple[str, ...] = ()  # what was left out and why (pseudo-labels without a scores file)

    def committed(self, number: int, sha: str, *, labelled_after: int, pool_after: int) -> IngestReport:
        return replace(self, round=number, commit=sha, labelled_after=labelled_after, pool_after=pool_after)

    def pushed_after(self, tries: int) -> IngestReport:
        return replace(self, pushes=tries)


def write_rejected(folder: Path, rejected: Sequence[Any], root: Path) -> Path | None:
    """``folder/rejected.csv`` with one row per rejected row and its reason; None (and no file) when none."""
    path = folder / REJECTED
    if not rejected:
        atomic.remove(path)  # a report of an earlier ingest would say this one rejected rows
        return None
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REJECTED_COLUMNS)
    writer.writerows([csv_cell(r.sample_id), csv_cell(r.reason), csv_cell(r.where)] for r in rejected)
    private = root / ".alops"
    folder.mkdir(parents=True, exist_ok=True)
    if folder.absolute().is_relative_to(private.absolute()):
        atomic.ignored_folder(private)  # alops's own folder (the default batch_dir): git never shows it
    with atomic.writing_to(path):
        atomic.write_text(path, out.getvalue())
    return path


def summary(report: IngestReport, *, limit: int = 10) -> str:
    """Lines for a terminal or a CI log: what was accepted, where it went, why rows were rejected."""
    from alops.text import quote, safe

    lines = []
    if report.commit is None:
        lines.append(f"Nothing to ingest from {report.source}: no new label was accepted; nothing was committed")
        if report.pushes:
            lines.append("HEAD is an ingest commit: pushed it and its data (nothing to send when the remote had them)")
    else:
        lines.append(
            f"Ingested round {report.round}: +{len(report.accepted)} labels ({len(report.pseudo)} pseudo) from "
            f"{report.source}; labelled set {report.labelled_after:,} rows, pool {report.pool_after:,}; "
            f"commit {report.commit[:12]}"
        )
        if report.pushes:
            moved = (
                f" (the branch had moved: applied again on top, {report.pushes} pushes)" if report.pushes > 1 else ""
            )
            lines.append(f"Pushed the data to the DVC remote and the commit to git{moved}")
    extra = [f"{report.skipped} skipped (no usable annotation: left in the pool)"] if report.skipped else []
    if report.unchanged:
        extra.append(f"{report.unchanged} already labelled the same")
    if extra:
        lines.append("; ".join(extra))
    lines += list(report.notes)
    if report.rejected:
        lines.append(f"Rejected {len(report.rejected)} rows (all in {report.rejected_file}):")
        for r in report.rejected[:limit]:
            who = quote(r.sample_id) if r.sample_id is not None else "(no id)"
            lines.append(f"  {safe(r.where)}: {who}: {safe(r.reason)}")
        if len(report.rejected) > limit:
            lines.append(f"  … and {len(report.rejected) - limit} more")
    return "\n".join(lines)
