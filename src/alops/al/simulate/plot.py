"""The files of ``alops al simulate``: the learning curves as CSV and as a PNG (mean and one sd per strategy)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from alops import atomic
from alops.al.simulate.run import Simulation
from alops.errors import ConfigError

CSV_NAME, PNG_NAME = "curves.csv", "curves.png"
COLUMNS = ("strategy", "seed", "round", "labelled", "accuracy")


def write_curves(simulation: Simulation, out: Path, *, plot: bool = True) -> tuple[Path, ...]:
    """``out/curves.csv`` (one row per strategy, seed and round) and ``out/curves.png``; each replaced whole."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in simulation.points:
        writer.writerow((p.strategy, p.seed, p.round, p.labelled, f"{p.accuracy:.6f}"))
    png = _png(simulation) if plot else None  # drawn first: a missing matplotlib writes nothing
    written = [out / CSV_NAME]
    with atomic.writing_to(out):
        out.mkdir(parents=True, exist_ok=True)
        with atomic.replacing(out / CSV_NAME, folder=False) as tmp:
            tmp.write_text(text.getvalue(), encoding="utf-8")
        if png is not None:
            with atomic.replacing(out / PNG_NAME, folder=False) as tmp:
                tmp.write_bytes(png)
            written.append(out / PNG_NAME)
    return tuple(written)


def _png(simulation: Simulation) -> bytes:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the learning-curve PNG needs matplotlib: install it (pip install 'alops[plots]') or pass --no-plot"
        ) from None
    # The Agg canvas and the Figure API, not pyplot: no display, and no global backend switched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    settings = simulation.settings
    figure = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for strategy in simulation.strategies:
        labelled, mean, sd = simulation.curve(strategy)
        style: dict[str, Any] = {"color": "black", "linestyle": "--"} if strategy == "random" else {}
        line = axes.plot(labelled, mean, label=strategy, linewidth=1.5, **style)[0]
        axes.fill_between(labelled, mean - sd, mean + sd, color=line.get_color(), alpha=0.15, linewidth=0)
    axes.set_xlabel("labelled samples")
    axes.set_ylabel(f"test accuracy ({simulation.test_size} samples)")
    axes.set_title(
        f"{simulation.dataset}: {settings.initial} + {settings.batch_size} a round, "
        f"mean ± sd over {settings.seeds} seed{'s' if settings.seeds != 1 else ''}"
    )
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
