"""``alops demo``: the example project's flows, end to end, in a scratch directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Work here (must be empty or new; kept afterwards). Default: a temporary directory.",
)
@click.option("--keep", is_flag=True, help="Keep the temporary directory to look around afterwards.")
def demo(workdir: Path | None, keep: bool) -> None:
    """Run the example project's feature and experiment flows and an active-learning round in a scratch repository.

    Builds a git+DVC copy of examples/project-skeleton with its data on a
    local DVC remote, then for feature/demo and experiment/demo clones it
    fresh and runs its flow's train and evaluate stages as `alops run` does:
    feature on the dev dataset, pushing nothing; experiment on the full
    dataset, pushing outputs and run-cache to that local remote (as `alops
    run --push`). Last, on al/digits, one round of active learning: train,
    score the unlabelled pool, `alops al query`, the skeleton's labelling
    oracle (the digits' held-back labels) answers, `alops al ingest` makes
    the new data version, retrain. Needs no GitLab, no Label Studio and no
    network.
    """

    from alops.demo import demo as run_demo
    from alops.demo import environment, render
    from alops.errors import ConfigError

    if workdir is not None and workdir.exists() and any(workdir.iterdir()):
        raise ConfigError(f"--workdir {workdir} is not empty: give a new or empty directory")
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix="alops-demo-")) if workdir is None else workdir
    try:
        report = run_demo(root, env=environment(os.environ), progress=lambda step: click.echo(f"… {step}", err=True))
        click.echo(render(report))
        click.echo("")
        click.echo("Next: start a project from examples/project-skeleton (its README lists the one-time steps),")
        click.echo("      see any branch's plan with `alops flow --branch NAME`, and run it with `alops run`;")
        click.echo('      its README\'s "Active learning" runs a round command by command.')
        if temporary and not keep:
            click.echo(f"Done in {report.seconds:.1f} s; the work directory was removed (--keep keeps it).")
        else:
            click.echo(f"Done in {report.seconds:.1f} s; everything is in {root}")
    finally:
        if temporary and not keep:
            shutil.rmtree(root, ignore_errors=True)
