"""``alops al status``: the pool, the labels per class, the rounds and the learning curve."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alops.al.status.run import Status


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="How to print it."
)
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE.png",
    help="Also write the learning curve (a line per metric over the labelled samples) as a PNG (the plots extra).",
)
@click.pass_obj
def status(obj: dict[str, str], fmt: str, plot: Path | None) -> None:
    """Where the active-learning loop stands, from the workspace and this branch's git history.

    The pool's size, the labelled set per class, the labels since the last
    trained model (what `alops al retrain` weighs), and each round: its date,
    strategy, batch size, accepted, rejected and pseudo labels, the labelled
    samples after it and the metrics of the model trained after it (the
    metrics files at the commit `alops al record` made for it): the learning
    curve. Counts need the data in the workspace (`alops data pull`); rounds and
    metrics come from git when it is not there.

    \b
    Exit codes: 0 printed; 2 alops.yaml has no active_learning.pool, or
    --plot without matplotlib; 3 git failed or the plot cannot be written;
    4 a data file or round record is unreadable; 130 interrupted.
    """
    from alops.al.status.run import as_dict
    from alops.al.status.run import status as read_status
    from alops.config import load_config

    found = read_status(load_config(obj["config"]), env=dict(os.environ))
    if plot is not None:
        from alops.al.status.plot import plot as draw

        draw(found, plot)
    if fmt == "json":
        click.echo(json.dumps(as_dict(found), indent=2, ensure_ascii=False))
    else:
        click.echo(render(found) + (f"\nLearning curve written to {plot}" if plot else ""))


def render(found: Status) -> str:
    """The status for people: a few lines, then the rounds as a table."""
    from alops.text import safe

    pool = "not in the workspace" if found.pool_size is None else f"{found.pool_size:,} samples"
    lines = [f"pool       {found.pool}: {pool}"]
    if found.labelled is not None:
        per_class = found.per_class
        counts = "not in the workspace"
        if per_class is not None:
            classes = ", ".join(f"{name or '(empty)'} {n:,}" for name, n in per_class.items())
            counts = f"{found.labelled_size:,} samples ({classes})"
        lines.append(f"labelled   {found.labelled}: {counts}")
    trained = "no model recorded yet" if found.last_trained_round is None else f"round {found.last_trained_round}"
    lines.append(f"new labels {found.labels_since_training:,} since the last trained model ({trained})")
    lines.append(f"rounds     {len(found.rounds)}")
    lines += [f"note       {note}" for note in found.notes]
    if found.rounds:
        lines += ["", *_table(found)]
    return safe("\n".join(lines), keep="\n")


def _table(found: Status) -> list[str]:
    head = ["round", "date", "strategy", "batch", "accepted", "rejected", "pseudo", "labelled", *found.metrics]
    rows = [
        [
            str(r.number),
            (r.date or "")[:10],
            r.strategy or "",
            *(_n(v) for v in (r.batch_size, r.accepted, r.rejected, r.pseudo, r.labelled_after)),
            *(f"{r.metrics[m]:.4g}" if m in r.metrics else "-" for m in found.metrics),
        ]
        for r in found.rounds
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]]


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)
