"""The learning curve of ``alops al status --plot``: a line per metric over the labelled samples, as a PNG.

matplotlib (the ``plots`` extra) is imported here only, through its Agg canvas
and no pyplot: no display, no global state, nothing for a CI job to configure.
"""

from __future__ import annotations

import io
from pathlib import Path

from alops import atomic
from alops.al.status.run import Status
from alops.errors import ConfigError

#: 800 x 500 pixels.
SIZE_INCHES = (8.0, 5.0)
DPI = 100


def plot(found: Status, path: Path, *, title: str = "Learning curve") -> Path:
    """Write the learning curve of ``found`` to ``path`` (replaced whole, never half-written)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError(
            "--plot needs matplotlib: install alops with its plots extra (pip install 'alops[plots]')"
        ) from None
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    curve = found.curve()
    for name in found.metrics:
        points = [(x, m[name], n) for n, x, m in curve if name in m]
        if not points:
            continue
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
        for x, y, n in points:
            axes.annotate(f"r{n}", (x, y), textcoords="offset points", xytext=(4, 6), fontsize=8)
    if curve:
        axes.legend(loc="best")
    else:
        axes.text(0.5, 0.5, "no trained model recorded yet", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel("labelled samples")
    axes.set_ylabel("metric")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    with atomic.writing_to(path), atomic.replacing(path, folder=False) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return path
