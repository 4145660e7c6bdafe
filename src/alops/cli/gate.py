"""``alops gate``: hold the flow's metrics to alops.yaml's quality gates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alops.cli.options import branch_option, flow_option

if TYPE_CHECKING:
    from alops.gate import GateResult


@click.command()
@flow_option
@branch_option
@click.option(
    "--against",
    metavar="REF",
    help="The baseline: REF's metrics files in git, else its CI artifacts "
    "(default in CI, off the default branch: the MR's target branch, else the default branch).",
)
@click.option(
    "--junit",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the checks as JUnit XML (artifacts: reports: junit).",
)
@click.option(
    "--metrics-report",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write GitLab's metrics report of the metrics (artifacts: reports: metrics).",
)
@click.pass_obj
def gate(
    obj: dict[str, str],
    flow: str,
    branch: str | None,
    against: str | None,
    junit: Path | None,
    metrics_report: Path | None,
) -> None:
    """Check the flow's metrics against alops.yaml's quality.thresholds.

    Each metric is held to its min and max, and with --against REF to its
    max_regression: the change for the worse against REF's metrics files
    (tracked by git, `cache: false` in dvc.yaml; fetched when a shallow CI
    clone lacks REF; when REF's commit has none of them, the run manifest
    in REF's CI artifacts; `better: lower` for a loss). In CI, a branch other
    than the default one is compared with its merge request's target branch,
    else the default branch. The baseline used is printed first. A gate whose
    metric no metrics file holds fails; a regression without a baseline is
    skipped, and says so.

    \b
    Exit codes: 0 every gate passed; 2 bad alops.yaml or no quality
    thresholds; 4 a metrics file is unreadable; 6 a gate failed.
    """
    from alops import atomic, metrics
    from alops import gate as gates
    from alops.compare import describe
    from alops.config import load_config
    from alops.errors import GateFailedError
    from alops.flow import current_plan
    from alops.text import safe

    config = load_config(obj["config"])
    env = dict(os.environ)
    plan = current_plan(config, env, branch=branch, role=None if flow == "auto" else flow)
    current = metrics.read(config, plan.dataset, plan.role) if config.quality else {}
    checked = gates.check(config, plan, current, env, against)
    snap = checked.baseline
    if snap is not None:
        click.echo(f"baseline: {safe(describe(snap))}" + (f": {safe(snap.note)}" if snap.source == "none" else ""))
    result = checked.result
    if junit:
        atomic.write_text(junit, gates.junit(result))
    if metrics_report:
        atomic.write_text(metrics_report, gates.metrics_report(current))
    click.echo(render(result))
    if result.failed:
        raise GateFailedError(f"{len(result.failed)} of {len(result.checks)} quality gates failed")


def render(result: GateResult) -> str:
    """One line per check: its outcome and why."""
    marks = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}
    return "\n".join(f"{marks[c.outcome]}  {c.message}" for c in result.checks)
