"""``alops al simulate``: rounds of active learning on labelled data, learning curves per strategy against random."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alops.al.simulate.data import Dataset
    from alops.al.simulate.run import Simulation

#: Every strategy but random, the baseline that always runs.
_STRATEGIES = ("least-confidence", "margin", "entropy", "k-center", "hybrid")


@click.command()
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    type=click.Choice(("random", *_STRATEGIES)),
    help="A strategy to simulate; repeat it for several (default: all). Random always runs, as the baseline.",
)
@click.option("--rounds", type=click.IntRange(min=1), default=30, show_default=True, help="Query rounds per seed.")
@click.option(
    "--seeds", type=click.IntRange(min=1), default=10, show_default=True, help="Runs per strategy (seeds 0, 1, ...)."
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=20, show_default=True, help="Samples labelled per round."
)
@click.option(
    "--initial",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Labelled samples before the first round, spread evenly over the classes.",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=0.25,
    show_default=True,
    help="Share of each class held out to measure the accuracy.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A CSV file of labelled samples: a label column and feature columns (default: scikit-learn's digits).",
)
@click.option("--label-column", default="label", show_default=True, help="The label column of --data.")
@click.option(
    "--id-column", default="id", show_default=True, help="A column of --data that is not a feature, if it is there."
)
@click.option("--drop-column", "drop", multiple=True, help="Another column of --data that is not a feature (repeat).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="The folder to write curves.csv and curves.png into.",
)
@click.option("--plot/--no-plot", default=True, show_default=True, help="Write curves.png (the plots extra).")
def simulate(
    strategies: tuple[str, ...],
    rounds: int,
    seeds: int,
    batch_size: int,
    initial: int,
    test_fraction: float,
    data: Path | None,
    label_column: str,
    id_column: str,
    drop: tuple[str, ...],
    out: Path,
    plot: bool,
) -> None:
    """Simulate rounds of active learning on labelled data, against random.

    Each seed holds out a stratified test split and starts from --initial
    labelled samples (the same for every strategy); each round a logistic
    regression is fitted on the labelled samples, scores the rest, `alops al
    query`'s strategy picks --batch-size of them and their true labels join
    the labelled set. Features are standardised; k-center and the hybrid use
    them as embeddings. Writes curves.csv (strategy, seed, round, labelled,
    accuracy) and curves.png (mean and one standard deviation per strategy),
    and prints, per strategy, how many labels it needed to reach random's
    final accuracy. Needs scikit-learn (the example extra).

    \b
    Exit codes: 0 written; 2 bad options (more rounds than the data has
    samples for), or scikit-learn or matplotlib missing; 3 the folder cannot
    be written; 4 --data is missing or unreadable; 130 interrupted.
    """
    from alops.al.simulate.data import digits, read_csv
    from alops.al.simulate.plot import write_curves
    from alops.al.simulate.run import Settings
    from alops.al.simulate.run import simulate as run

    dataset = digits() if data is None else read_csv(data, label_column=label_column, id_column=id_column, drop=drop)
    for note in notes(dataset):
        click.echo(note, err=True)
    settings = Settings(strategies or _STRATEGIES, rounds, seeds, batch_size, initial, test_fraction)
    started = time.perf_counter()

    def progress(strategy: str) -> None:
        click.echo(f"{strategy}: {seeds} x {rounds} rounds, {time.perf_counter() - started:.1f} s so far", err=True)

    simulation = run(dataset, settings, progress=progress)
    files = write_curves(simulation, out, plot=plot)
    click.echo(render(simulation))
    click.echo(f"Wrote {', '.join(f.name for f in files)} to {out}")


def notes(dataset: Dataset) -> list[str]:
    """What was left out of a data file, so that no row disappears silently."""
    found = []
    if dataset.unlabelled:
        found.append(f"left out {dataset.unlabelled:,} rows without a label")
    if dataset.unreadable:
        n = dataset.unreadable
        found.append(
            f"left out {n:,} row{'s' if n != 1 else ''} that {'are' if n != 1 else 'is'} not all numbers "
            f"(first: {dataset.first_unreadable})"
        )
    import numpy as np

    counts = np.bincount(dataset.labels, minlength=len(dataset.classes))
    rare = [name for name, n in zip(dataset.classes, counts, strict=True) if n < 2]
    if rare:
        from alops.text import excerpt

        found.append(f"classes with a single sample (a typo in the label?): {', '.join(map(excerpt, rare[:5]))}")
    return found


def render(simulation: Simulation) -> str:
    """The settings, then a line per strategy: final accuracy and the labels it took to reach random's."""
    from alops.al.simulate.run import summary_rows
    from alops.text import safe

    s = simulation.settings
    rows = summary_rows(simulation)
    target = rows[0][2]
    lines = [
        f"{simulation.dataset}: {s.initial} labels, then {s.rounds} rounds of {s.batch_size}; {s.seeds} seed{'s' if s.seeds != 1 else ''}; "
        f"accuracy on {simulation.test_size:,} held-out samples",
        f"{'strategy':<17} {'labels':>6}  {'accuracy':<13}  labels to reach random's {target:.3f}",
    ]
    for strategy, labelled, mean, sd, reached in rows:
        share = "never" if reached is None else f"{reached:,} ({100 * reached / labelled:.0f} %)"
        lines.append(f"{strategy:<17} {labelled:>6}  {mean:.3f} ± {sd:.3f}  {share}")
    return safe("\n".join(lines), keep="\n")
