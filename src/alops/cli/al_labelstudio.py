"""``alops al export --to label-studio`` and ``alops al pull --from label-studio``: the batch out, the labels back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alops.al.labelstudio import ExportReport
    from alops.config import Config
    from alops.sections import ActiveLearning

#: Where ``pull`` writes by default, inside active_learning.batch_dir (ingest --from label-studio reads it there).
EXPORT_FILE = "label-studio-export.json"


@click.command()
@click.option("--to", "target", type=click.Choice(["label-studio"]), required=True, help="Where to send the batch.")
@click.option(
    "--batch",
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder holding tasks.json (default: active_learning.batch_dir).",
)
@click.pass_context
def export(ctx: click.Context, target: str, batch: Path | None) -> None:
    """Send the batch `alops al query` wrote to Label Studio as labelling tasks.

    Creates the project titled active_learning.label_studio.project when it
    is missing, with a single-choice interface of active_learning.classes
    (and the instructions), or updates them when alops.yaml changed; then
    imports tasks.json with the model's predictions as pre-annotations, and
    the pool's columns active_learning.label_studio.fields names (an image
    URL, a text) in each task's data, shown above the choices.
    Samples already in the project (by data.sample_id) are not imported
    again, so running it twice, or again after a failure, is safe.

    Label Studio is ALOPS_LABEL_STUDIO_URL, the access token
    ALOPS_LABEL_STUDIO_TOKEN; each request waits ALOPS_LABEL_STUDIO_TIMEOUT
    seconds (30) and is tried again ALOPS_LABEL_STUDIO_RETRIES times (3)
    when the server is down, slow or answers 5xx.

    \b
    Exit codes: 0 exported; 2 bad alops.yaml or Label Studio settings
    (missing URL or token, a refused interface, two projects of that
    title); 3 Label Studio is down, too slow or failing after the retries;
    4 tasks.json or the pool is missing or unreadable (`alops al query`,
    `alops data pull`), or the token is refused; 130 interrupted.
    """
    from alops.al.labelstudio import export_batch

    del target  # one choice for now
    config, al = _settings(ctx, "alops al export")
    folder = batch or config.root / al.batch_dir
    pool = config.root / al.pool if al.pool else None
    click.echo(summary(export_batch(al.label_studio, al, folder, env=_env(), pool=pool)))


@click.command()
@click.option("--from", "source", type=click.Choice(["label-studio"]), required=True, help="Where the labels are.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"The file to write (default: {EXPORT_FILE} in active_learning.batch_dir).",
)
@click.pass_context
def pull(ctx: click.Context, source: str, out: Path | None) -> None:
    """Export the annotated tasks of the Label Studio project as its JSON export, into one file.

    Every task with at least one annotation, skipped (cancelled) ones
    included, with each annotation's annotator (id, email), ground_truth flag
    and times, and the task's data with its sample_id: what `alops al
    ingest` reads. The file is replaced whole, or not at all.

    Label Studio is ALOPS_LABEL_STUDIO_URL, the access token
    ALOPS_LABEL_STUDIO_TOKEN; each request waits ALOPS_LABEL_STUDIO_TIMEOUT
    seconds (30) and is tried again ALOPS_LABEL_STUDIO_RETRIES times (3)
    when the server is down, slow or answers 5xx.

    \b
    Exit codes: 0 written; 2 bad alops.yaml or Label Studio settings, or no
    such project (`alops al export` first); 3 Label Studio is down, too slow
    or failing after the retries, or the disk is full; 4 the token is
    refused; 130 interrupted.
    """
    from alops.al.labelstudio import pull as pull_annotations

    del source
    config, al = _settings(ctx, "alops al pull")
    target = out or config.root / al.batch_dir / EXPORT_FILE
    written = pull_annotations(al.label_studio, al, target, env=_env())
    tasks = json.loads(written.read_text(encoding="utf-8"))
    annotations = sum(len(task.get("annotations") or ()) for task in tasks)
    click.echo(f"Wrote {_count(len(tasks), 'annotated task')} ({_count(annotations, 'annotation')}) to {written}")


def summary(report: ExportReport) -> str:
    """One line for a terminal or a CI log."""
    from alops.text import quote

    return (
        f"Label Studio project {quote(report.title)} ({report.project_action}, id {report.project_id}): "
        f"imported {report.imported:,} of {report.in_batch:,} tasks"
        + (f", {report.already:,} already there" if report.already else "")
        + f": {report.url}"
    )


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _settings(ctx: click.Context, command: str) -> tuple[Config, ActiveLearning]:
    from alops.config import load_config
    from alops.sections import require

    config = load_config(ctx.obj["config"])
    return config, require(config.al, "classes", command=command)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
