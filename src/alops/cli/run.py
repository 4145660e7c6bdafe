"""``alops run``: a flow's DVC stages, run here as its CI jobs run them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from alops.cli.options import branch_option, flow_option

if TYPE_CHECKING:
    from alops.run import RunResult


@click.command()
@flow_option
@click.option(
    "--job",
    type=click.Choice(["train", "evaluate", "all"]),
    default="all",
    show_default=True,
    help="Which CI job's stages to run.",
)
@branch_option
@click.option(
    "--pull/--no-pull", default=True, show_default=True, help="Pull the flow's dataset from the DVC remote first."
)
@click.option(
    "--push/--no-push",
    default=None,
    help="Push the stages' outputs and the run-cache to the flow's DVC remote afterwards. Default: in CI "
    "(CI or GITLAB_CI set) as the flow's role says; anywhere else nothing is pushed unless --push is given.",
)
@click.pass_obj
def run(obj: dict[str, str], flow: str, job: str, branch: str | None, pull: bool, push: bool | None) -> None:
    """Run the DVC stages of a flow here, as its CI jobs would.

    Pulls the flow's dataset (dev for feature branches, full otherwise), runs
    `dvc repro` on the train and evaluate stages that alops.yaml names, and
    prints the metrics. Outputs and run-cache go to the DVC remote only with
    --push, or in a CI job whose flow pushes (unless --no-push).
    """
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.run import RUN_JOBS, run_flow
    from alops.text import quote as printable

    env = dict(os.environ)  # the command line is where the environment comes from: the library is given it
    config = load_config(obj["config"])
    plan = current_plan(config, env, branch=branch, role=None if flow == "auto" else flow)
    jobs = RUN_JOBS if job == "all" else (job,)
    click.echo(f"Running the {plan.role} flow ({plan.reason}) on the {plan.dataset} dataset, ref {printable(plan.ref)}")
    result = run_flow(config, plan, jobs=jobs, pull=pull, push=push, env=env)
    click.echo(render(result))


def render(result: RunResult) -> str:
    """The result as aligned ``key value`` lines for people."""
    rows = []
    if result.pulled:
        p = result.pulled
        source = f"DVC remote `{p.remote}`" if p.remote else "the default DVC remote"
        rows.append(
            ("data", f"{p.dataset}: {', '.join(p.targets)} pulled from {source} ({p.files} files, {p.seconds:.1f} s)")
        )
    else:
        rows.append(("data", f"{result.dataset}: not pulled (--no-pull), using the workspace"))
    rows.append(("stages", " → ".join(result.stages)))
    if result.reproduced:
        rows.append(("updated", ", ".join(result.reproduced) + " (run, or restored from the run-cache)"))
    else:
        rows.append(("updated", "none: every stage was up to date"))
    pushed = "outputs and run-cache pushed to the DVC remote" if result.pushed else "no"
    rows.append(("push", f"{pushed} ({result.push_reason})" if result.push_reason else pushed))
    for name, values in result.metrics.items():
        rows.append(("metrics", f"{name}: " + ", ".join(f"{k} {_num(v)}" for k, v in values.items())))
    if not result.metrics:
        rows.append(("metrics", "(none yet: the evaluate job writes them)"))
    rows.append(("time", f"{result.seconds:.1f} s"))
    return "".join(f"{k:<8} {v}\n" for k, v in rows).rstrip("\n")


def _num(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
