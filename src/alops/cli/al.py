"""``alops al``: the active-learning loop of al/* branches.

``query`` is here; the other subcommands live in their own modules
(``alops.cli.al_<name>``) and are imported only when called, as the top-level
commands are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from alops.cli.lazy import LazyGroup
from alops.schema import schema

if TYPE_CHECKING:
    from alops.al.query.select import BatchReport

#: The strategies alops.yaml allows (the schema's enum; tests/al check it is alops.al's list).
STRATEGY_NAMES: tuple[str, ...] = tuple(schema()["properties"]["active_learning"]["properties"]["strategy"]["enum"])


#: name -> (module, function, one line of help) of the subcommands that live elsewhere.
_COMMANDS = {
    "export": ("alops.cli.al_labelstudio", "export", "Send the batch to Label Studio as labelling tasks."),
    "ingest": (
        "alops.cli.al_ingest",
        "ingest",
        "Move labelled samples from the pool to the labelled set: a new data version.",
    ),
    "pull": ("alops.cli.al_labelstudio", "pull", "Export the finished annotations from Label Studio."),
    "record": ("alops.cli.al_train", "record", "Commit the trained model's dvc.lock and metrics to the branch."),
    "retrain": ("alops.cli.al_train", "retrain", "Start training when enough new labels arrived."),
    "score": ("alops.cli.al_train", "score", "Run the scoring stages (pipeline.score): the pool's scores."),
    "simulate": (
        "alops.cli.al_simulate",
        "simulate",
        "Simulate rounds on labelled data: learning curves per strategy.",
    ),
    "status": ("alops.cli.al_status", "status", "Pool, labels per class, rounds and the learning curve."),
    "sync": ("alops.cli.al_sync", "sync", "Bring an al branch's data versions into this branch, no code."),
}


class _Subcommands(LazyGroup):
    """``query`` defined here, the rest imported from their modules when called."""

    lazy = _COMMANDS

    def own_help(self, ctx: click.Context) -> dict[str, str]:
        return {"query": "Choose the next batch to label from the pool's scores."}


@click.group(cls=_Subcommands)
def al() -> None:
    """The active-learning loop: query, label, ingest, retrain."""


@al.command()
@click.option(
    "--strategy", type=click.Choice(STRATEGY_NAMES), help="How to choose (default: active_learning.strategy)."
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="How many samples to choose (default: active_learning.batch_size)."
)
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the tie-breaks (default: active_learning.seed).")
@click.option(
    "--scores",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The scores file to read (default: active_learning.scores).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder to write the batch into (default: active_learning.batch_dir).",
)
@click.option("--model-version", help="The model version the pre-annotations name (default: the scores file's name).")
@click.pass_context
def query(
    ctx: click.Context,
    strategy: str | None,
    batch_size: int | None,
    seed: int | None,
    scores: Path | None,
    out: Path | None,
    model_version: str | None,
) -> None:
    """Choose the next batch to label from the pool's scores, as alops.yaml's active_learning says.

    Reads the scores file the project's scoring stage writes (class
    probabilities per sample, .parquet, .csv or .npy; embeddings from a .npy
    file for k-center and the hybrid) and writes the batch, most informative
    first, as batch.csv, batch.jsonl and tasks.json (Label Studio tasks with the
    model's prediction as a pre-annotation), all three replaced together. Text
    cells of batch.csv that a spreadsheet would read as a formula start with '.

    \b
    Exit codes: 0 written; 2 bad alops.yaml or options (a quota naming an
    unknown class, a batch larger than the pool); 3 the disk is full or
    read-only; 4 the scores file is missing or unreadable (`dvc repro`, or
    `alops data pull`); 130 interrupted.
    """
    from alops.al.query.select import Overrides, select_batch
    from alops.config import load_config

    config = load_config(ctx.obj["config"])
    given = Overrides(strategy, batch_size, seed, scores, out, model_version)
    click.echo(summary(select_batch(config, given)))


def summary(report: BatchReport) -> str:
    """One line for a terminal or a CI log."""
    folder = report.files[0].parent
    names = ", ".join(path.name for path in report.files)
    return (
        f"Chose {report.chosen:,} of {report.pool_size:,} samples by {report.strategy} from {report.scores}: "
        f"wrote {names} to {folder}"
    )
