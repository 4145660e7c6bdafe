"""``alops al sync --from BRANCH``: an al branch's data versions into this branch, as one commit."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alops.al.sync.run import SyncReport


@click.command()
@click.option("--from", "branch", required=True, metavar="BRANCH", help="The active-learning branch, e.g. al/digits.")
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="The git remote to fetch BRANCH from when there is no local branch of that name.",
)
@click.option(
    "--pull/--no-pull", default=False, show_default=True, help="Pull the new data from the DVC remote afterwards."
)
@click.pass_obj
def sync(obj: dict[str, str], branch: str, remote: str, pull: bool) -> None:
    """Bring an al branch's data versions into the current branch as one commit that touches no code.

    Takes the al branch's .dvc files of alops.yaml's datasets and of
    active_learning's pool, labelled set and label log (and, in dvc.lock, the
    outputs of stages that make those paths), where only the al branch changed
    them since the two branches diverged. Code, parameters, dvc.yaml and the
    stages' other entries in dvc.lock stay as they are: after `alops data pull`
    (or `dvc pull`, or --pull) `dvc status` shows the stages that read the new
    data as changed, and `dvc repro` retrains on it. The commit names the
    branch, its commit and the rounds it brings (trailer ALOps-Synced-From).
    Running it again brings nothing.

    \b
    Exit codes: 0 synced, or already up to date; 2 no such branch, the data
    files have uncommitted changes, or a data file changed on both branches
    (a conflict: nothing is written); 3 git or dvc failed; 4 the DVC remote
    cannot be reached (--pull); 130 interrupted.
    """
    from alops.al.sync.run import sync as run_sync
    from alops.config import load_config

    env = dict(os.environ)  # the command line is where the environment comes from
    report = run_sync(load_config(obj["config"]), branch, remote=remote, pull=pull, env=env)
    click.echo(render(report))


def render(report: SyncReport) -> str:
    """What changed, for a terminal or a CI log."""
    from alops.text import safe

    source = f"{report.ref}@{report.source[:12]}"
    if report.commit is None:
        return safe(f"Already up to date with {source}: no data version to bring.")
    numbers = [i.round for i in report.rounds]
    which = "round" if len(numbers) == 1 else "rounds"
    rounds = f"{which} {', '.join(map(str, numbers))} (+{sum(i.labels for i in report.rounds)} labels)"
    lines = [f"Synced the data of {source} in commit {report.commit[:12]}: {rounds if numbers else 'no new round'}"]
    for change in report.changes:
        what = change.file if change.stage is None else f"{change.file} (stage {change.stage}, {change.output})"
        lines.append(f"  {what}: {change.ours or 'new'} -> {change.theirs}")
    if report.pulled:
        lines.append("Pulled the new data. Next: `dvc repro` (or `alops run`) trains on it.")
    else:
        lines.append("Next: `alops data pull` (or `dvc pull`) gets the data, then `dvc repro` trains on it.")
    return safe("\n".join(lines), keep="\n")
