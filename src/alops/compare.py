"""A run against its baseline: metrics, params and data versions side by side.

A :class:`Snapshot` is what one side of a comparison knows (the workspace, a
git revision, or a run manifest from CI artifacts); :class:`Diff` is the two
sides compared, which ``alops metrics diff``, ``alops gate`` and ``alops
report`` all show.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from alops.text import safe

#: Where a snapshot's values came from.
SOURCES = ("workspace", "manifest", "git", "artifacts", "none")


@dataclass(frozen=True)
class Snapshot:
    """What one side of a comparison knows.

    ``metrics``: by metrics file, key path → number (as :mod:`alops.metrics`
    reads them). ``params``: by parameters file, dotted key → value.
    ``data``: DVC-tracked path → its DVC hash (md5, ``….dir`` for a folder):
    the datasets' targets and the outputs dvc.lock records.
    ``source`` says where they came from (:data:`SOURCES`; ``none``: there is
    no baseline, and every mapping is empty).
    """

    label: str  # "workspace", or the ref (main, experiment/lr)
    source: str
    commit: str | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None  # the run manifest it was read from, when it was
    pipeline_url: str | None = None  # the CI pipeline that produced it, when known
    note: str = ""  # why the source is what it is ("the ref's metrics are not in git: read CI artifacts")


@dataclass(frozen=True)
class Change:
    """One key on both sides. ``old`` is None when only the current side has it, ``new`` when only the baseline."""

    file: str  # the metrics or parameters file; for data, the DVC-tracked path itself
    key: str  # the key path; for data, "" (the path is the key)
    old: Any
    new: Any
    delta: float | None = None  # new - old, for two numbers

    @property
    def changed(self) -> bool:
        return bool(self.old != self.new)


@dataclass(frozen=True)
class Diff:
    """The current run against its baseline."""

    current: Snapshot
    baseline: Snapshot
    metrics: tuple[Change, ...]  # every metric of either side, changed or not
    params: tuple[Change, ...]  # only the parameters that differ
    data: tuple[Change, ...]  # only the data versions that differ


def compare(current: Snapshot, baseline: Snapshot) -> Diff:
    """``current`` against ``baseline``: every metric of either side, and the parameters and data that differ."""
    metrics = tuple(_changes(baseline.metrics, current.metrics))
    params = tuple(c for c in _changes(baseline.params, current.params) if c.changed)
    shown = {*current.metrics, *baseline.metrics}  # a metrics file DVC tracks is in the metrics, not a data version
    data = tuple(c for c in _changes({"": baseline.data}, {"": current.data}) if c.changed and c.key not in shown)
    return Diff(current, baseline, metrics, params, tuple(Change(c.key, "", c.old, c.new) for c in data))


def _changes(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> Iterator[Change]:
    # The current side's order first, then what only the baseline has.
    for file in [*new, *(f for f in old if f not in new)]:
        before, after = old.get(file, {}), new.get(file, {})
        for key in [*after, *(k for k in before if k not in after)]:
            a: Any = before.get(key)
            b: Any = after.get(key)
            yield Change(file, key, a, b, float(b) - float(a) if _number(a) and _number(b) else None)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: The formats of :func:`render`.
FORMATS = ("md", "json", "text")
#: How many characters of a DVC hash md and text show.
SHORT_HASH = 8
#: Characters that mean something in GitLab Markdown (tables, emphasis, code, HTML, references, math).
_MD_SPECIAL = frozenset("\\`*_[]<>|#~@!&$%")


def render(diff: Diff, fmt: str) -> str:
    """The diff as ``md`` (three Markdown tables, every cell escaped), ``json`` or ``text``; ends with a newline."""
    if fmt == "json":
        # default=str: a YAML parameter may be a date
        return json.dumps(as_json(diff), indent=2, allow_nan=False, default=str) + "\n"
    if fmt == "md":
        return _markdown(diff)
    if fmt == "text":
        return _text(diff)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def as_json(diff: Diff) -> dict[str, Any]:
    """The diff's documented JSON shape.

    ``{"against": {label, source, commit, note, pipeline_url}, "current": {label, source, commit},
    "metrics": [{file, metric, baseline, current, delta, change_percent}], "params": [{file, param,
    baseline, current}], "data": [{path, baseline, current}]}``; a side without the key has null,
    and a number that is not finite is the string "NaN", "Infinity" or "-Infinity".
    """
    b, c = diff.baseline, diff.current
    return {
        "against": {
            "label": b.label,
            "source": b.source,
            "commit": b.commit,
            "note": b.note,
            "pipeline_url": b.pipeline_url,
        },
        "current": {"label": c.label, "source": c.source, "commit": c.commit},
        "metrics": [
            {
                "file": m.file,
                "metric": m.key,
                "baseline": _finite(m.old),
                "current": _finite(m.new),
                "delta": _finite(m.delta),
                "change_percent": _finite(_percent(m)),
            }
            for m in diff.metrics
        ],
        "params": [
            {"file": p.file, "param": p.key, "baseline": _finite(p.old), "current": _finite(p.new)} for p in diff.params
        ],
        "data": [{"path": d.file, "baseline": d.old, "current": d.new} for d in diff.data],
    }


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    return value


def _percent(change: Change) -> float | None:
    old = change.old
    if change.delta is None or not _number(old) or not old or not math.isfinite(old):
        return None
    return change.delta / abs(float(old)) * 100


def _number_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if isinstance(value, str) else json.dumps(value, default=str)
    return f"{value:.6g}"


def _change_text(change: Change) -> str:
    if change.old is None:
        return "new"
    if change.new is None:
        return "gone"
    if change.delta is None or change.delta == 0:
        return "" if change.delta is None else "0"
    pct = _percent(change)
    return f"{change.delta:+.4g}" + ("" if pct is None else f" ({pct:+.2f}%)")


def _hash(value: str | None) -> str:
    return "—" if value is None else value[:SHORT_HASH]


def describe(b: Snapshot) -> str:
    """``main (git, commit 0123abcd)``: which baseline, and where its values came from."""
    parts = [b.source] + ([f"commit {b.commit[:SHORT_HASH]}"] if b.commit else [])
    return f"{b.label} ({', '.join(parts)})"


def md_escape(text: str) -> str:
    """``text`` as literal Markdown inline text: one line, no HTML, no table cell breaks, no GitLab references."""
    shown = safe(str(text))  # newlines and other controls as visible escapes (\n)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in shown)


def _md_table(head: list[str], rows: list[list[str]], *, ours: int | None = None) -> list[str]:
    # Every cell is escaped but column ``ours``, which only alops writes (a change: "+0.05 (+5.56%)").
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + [
        "| " + " | ".join(c if i == ours else md_escape(c) for i, c in enumerate(row)) + " |" for row in rows
    ]


def _markdown(diff: Diff) -> str:
    b = diff.baseline
    if b.source == "none":
        out = [f"No baseline to compare with: {md_escape(b.note or b.label)}", "", "#### Metrics", ""]
        rows = [[m.file, m.key, _number_text(m.new)] for m in diff.metrics]
        return "\n".join(out + _md_table(["File", "Metric", "Current"], rows)) + "\n"
    out = [f"Compared with {md_escape(describe(b))}"]
    if b.pipeline_url:
        out[0] += f", pipeline {md_escape(b.pipeline_url)}"
    if b.note:
        out += ["", md_escape(b.note)]
    rows = [[m.file, m.key, _number_text(m.old), _number_text(m.new), _change_text(m)] for m in diff.metrics]
    out += ["", "#### Metrics", ""] + _md_table(["File", "Metric", "Baseline", "Current", "Change"], rows, ours=4)
    out += ["", "#### Parameters", ""]
    if diff.params:
        rows = [[p.file, p.key, _number_text(p.old), _number_text(p.new)] for p in diff.params]
        out += _md_table(["File", "Parameter", "Baseline", "Current"], rows)
    else:
        out.append("No parameter changed.")
    out += ["", "#### Data versions", ""]
    if diff.data:
        out += _md_table(["Path", "Baseline", "Current"], [[d.file, _hash(d.old), _hash(d.new)] for d in diff.data])
    else:
        out.append("No data version changed.")
    return "\n".join(out) + "\n"


def _columns(rows: list[list[str]]) -> list[str]:
    cells = [[safe(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))] if cells else []
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def _text(diff: Diff) -> str:
    b = diff.baseline
    if b.source == "none":
        out = [f"No baseline to compare with: {safe(b.note or b.label)}", "Metrics (current):"]
        return "\n".join(out + _columns([[m.file, m.key, _number_text(m.new)] for m in diff.metrics])) + "\n"
    out = [f"Baseline: {safe(describe(b))}" + (f", pipeline {safe(b.pipeline_url)}" if b.pipeline_url else "")]
    if b.note:
        out.append(safe(b.note))
    out.append("Metrics:" if diff.metrics else "Metrics: none on either side")
    head = [["file", "metric", "baseline", "current", "change"]]
    rows = [[m.file, m.key, _number_text(m.old), _number_text(m.new), _change_text(m)] for m in diff.metrics]
    out += _columns(head + rows) if rows else []
    out.append(f"Parameters: {len(diff.params)} changed" + (":" if diff.params else ""))
    out += _columns([[p.file, p.key, _number_text(p.old), "→", _number_text(p.new)] for p in diff.params])
    out.append(f"Data versions: {len(diff.data)} changed" + (":" if diff.data else ""))
    out += _columns([[d.file, _hash(d.old), "→", _hash(d.new)] for d in diff.data])
    return "\n".join(out) + "\n"
