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
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("alops-demo-report"),
    show_default=True,
    help="Copy the experiment's report (index.html, report.md, plots) here; it outlives the work directory.",
)
def demo(workdir: Path | None, keep: bool, report_dir: Path) -> None:
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

    First main, the default branch, is trained and its dvc.lock and metrics
    committed; experiment/demo changes a parameter, and after its run it is
    compared with main as its merge request would be: the metrics diff, the
    quality gate's verdict, and the report page `alops report` writes
    (copied to --report).
    """

    from alops.demo import demo as run_demo
    from alops.demo import environment, render
    from alops.errors import ConfigError
    from alops.report import files

    if workdir is not None and workdir.exists() and any(workdir.iterdir()):
        raise ConfigError(f"--workdir {workdir} is not empty: give a new or empty directory")
    temporary = workdir is None
    files.check_out(report_dir)  # before minutes of work: a --report that is not a report's folder is refused
    root = Path(tempfile.mkdtemp(prefix="alops-demo-")) if workdir is None else workdir
    try:
        report = run_demo(root, env=environment(os.environ), progress=lambda step: click.echo(f"… {step}", err=True))
        click.echo(render(report))
        page = _keep_report(root / "report", report_dir)
        click.echo("")
        click.echo(f"The experiment's report page: {page} (open it in a browser)")
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


def _keep_report(made: Path, dest: Path) -> Path:
    """Copy the demo's report folder to ``dest`` (replaced as a whole); the page's path."""
    from alops import atomic

    with atomic.writing_to(dest), atomic.replacing(dest, folder=True) as folder:
        shutil.copytree(made, folder, dirs_exist_ok=True)
    return dest / "index.html"
