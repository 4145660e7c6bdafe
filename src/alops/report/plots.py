"""The report's plots: confusion matrix, per-class scores, a metric across pipelines.

Each is drawn with matplotlib (the Agg canvas, imported only here, only when a
plot is drawn) into PNG bytes. The confusion data is a CSV of ``actual,predicted``
rows, one per test sample, as the skeleton's evaluate stage writes it (and as
``dvc plots show`` reads it with its confusion template).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The most classes a confusion plot shows cell numbers for (beyond, the cells get too small to read).
_ANNOTATE_MAX = 20
_DPI = 100


def missing() -> str | None:
    """Why no plot can be drawn here, or None: matplotlib is an extra (``alops[plots]``), not a dependency."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return "matplotlib is not installed: install alops with its plots extra (`pip install 'alops[plots]'`)"
    return None


@dataclass(frozen=True)
class Confusion:
    """Counts of (actual, predicted) pairs: ``counts[i][j]`` samples of ``labels[i]`` predicted as ``labels[j]``."""

    labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


def read_confusion(path: Path, shown: str) -> Confusion:
    """The confusion counts of the CSV at ``path`` (``shown`` names it in messages); a DataError when unreadable."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{shown} cannot be read ({exc.__class__.__name__}): run the evaluate stage") from None
    return parse_confusion(text, shown)


def parse_confusion(text: str, shown: str) -> Confusion:
    """The confusion counts of CSV text with the columns ``actual`` and ``predicted``."""
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    if "actual" not in columns or "predicted" not in columns:
        raise DataError(f"{shown} has no columns actual and predicted (it has: {', '.join(columns) or 'none'})")
    pairs = [(row["actual"] or "", row["predicted"] or "") for row in reader]
    if not pairs:
        raise DataError(f"{shown} has no rows: the evaluate stage wrote no test samples")
    return confusion(pairs)


def confusion(pairs: Sequence[tuple[str, str]]) -> Confusion:
    """Count (actual, predicted) pairs; labels sorted as numbers when they all are numbers."""
    import numpy as np

    labels = sorted({label for pair in pairs for label in pair}, key=_label_key)
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(counts, ([index[a] for a, _ in pairs], [index[p] for _, p in pairs]), 1)
    return Confusion(tuple(labels), tuple(tuple(int(c) for c in row) for row in counts))


def _label_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def class_scores(conf: Confusion) -> list[ClassScore]:
    """Precision, recall and F1 of each class (0 where undefined, as scikit-learn's ``zero_division=0``)."""
    import numpy as np

    counts = np.array(conf.counts, dtype=float)
    hits = np.diag(counts)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    scores = []
    for i, label in enumerate(conf.labels):
        precision = hits[i] / predicted[i] if predicted[i] else 0.0
        recall = hits[i] / actual[i] if actual[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(ClassScore(label, float(precision), float(recall), float(f1), int(actual[i])))
    return scores


def confusion_png(conf: Confusion, title: str) -> bytes:
    """The confusion matrix as a heat map with the counts in its cells."""
    size = min(6.5, 3.0 + 0.35 * len(conf.labels))
    fig, ax = _figure(size + 1.2, size)
    image = ax.imshow(conf.counts, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = range(len(conf.labels))
    ax.set_xticks(ticks, [_short(label) for label in conf.labels], rotation=45 if len(conf.labels) > 10 else 0)
    ax.set_yticks(ticks, [_short(label) for label in conf.labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(_short(title, 60))
    if len(conf.labels) <= _ANNOTATE_MAX:
        top = max((max(row) for row in conf.counts), default=0)
        for i, row in enumerate(conf.counts):
            for j, count in enumerate(row):
                if count:
                    colour = "white" if count > top / 2 else "black"
                    ax.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=8)
    return _png(fig)


def class_scores_png(scores: Sequence[ClassScore], title: str) -> bytes:
    """Precision, recall and F1 of each class, as grouped bars."""
    import numpy as np

    x = np.arange(len(scores))
    fig, ax = _figure(min(12.0, 3.0 + 0.6 * len(scores)), 4.0)
    for k, (name, values) in enumerate(
        (
            ("precision", [s.precision for s in scores]),
            ("recall", [s.recall for s in scores]),
            ("F1", [s.f1 for s in scores]),
        )
    ):
        ax.bar(x + (k - 1) * 0.27, values, 0.27, label=name)
    ax.set_xticks(x, [_short(s.label) for s in scores], rotation=45 if len(scores) > 10 else 0)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("class")
    ax.set_title(_short(title, 60))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def history_png(points: Sequence[tuple[str, float]], metric: str, title: str) -> bytes:
    """``metric`` across pipelines: one (label, value) point each, oldest first, the last one highlighted."""
    fig, ax = _figure(min(12.0, 4.0 + 0.5 * len(points)), 3.6)
    x = list(range(len(points)))
    values = [value for _, value in points]
    ax.plot(x, values, marker="o", color="#0969da")
    ax.plot(x[-1:], values[-1:], marker="o", markersize=10, color="#cf222e", linestyle="none", label="this run")
    ax.set_xticks(x, [_short(label, 14) for label, _ in points], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(_short(metric, 30))
    ax.set_title(_short(title, 60))
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def _short(text: str, limit: int = 12) -> str:
    # Labels are drawn as text, never interpreted: matplotlib's mathtext would read "$...$".
    text = text.replace("$", r"\$")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    # A Figure with the Agg canvas, without pyplot: no global figure manager to close, no GUI backend
    # chosen, and about half the import time (the report runs in every CI pipeline).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    # No metadata: the same data draws the same bytes (no matplotlib version or date in the file).
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()
