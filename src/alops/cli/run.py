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
@click.option(
    "--set",
    "overrides",
    metavar="KEY=VALUE",
    multiple=True,
    help="Set a parameter of the parameters file for this run, as `dvc exp run -S` does (repeatable). VALUE is "
    "read as YAML (0.1, true, 'text'); KEY must be in the file, and VALUE one of alops.yaml's "
    "parameters.allowed values when it lists KEY.",
)
@click.option(
    "--manifest",
    "manifest_path",
    metavar="PATH",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the run manifest (commit, params, data versions, metrics, environment) that "
    "`alops reproduce` reruns. Default: alops-manifest.json in the repository root.",
)
@click.pass_obj
def run(
    obj: dict[str, str],
    flow: str,
    job: str,
    branch: str | None,
    pull: bool,
    push: bool | None,
    overrides: tuple[str, ...],
    manifest_path: str | None,
) -> None:
    """Run the DVC stages of a flow here, as its CI jobs would.

    Pulls the flow's dataset (dev for feature branches, full otherwise), runs
    `dvc repro` on the train and evaluate stages that alops.yaml names, and
    prints the metrics. Outputs and run-cache go to the DVC remote only with
    --push, or in a CI job whose flow pushes (unless --no-push). Every run
    writes a run manifest (--manifest) that `alops reproduce` reruns.
    """
    from pathlib import Path

    from alops import manifest, params
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.run import RUN_JOBS, run_flow
    from alops.text import quote as printable
    from alops.text import safe

    env = dict(os.environ)  # the command line is where the environment comes from: the library is given it
    config = load_config(obj["config"])
    plan = current_plan(config, env, branch=branch, role=None if flow == "auto" else flow)
    jobs = RUN_JOBS if job == "all" else (job,)
    values = params.parse_overrides(config, overrides)  # checked before anything is pulled or changed
    target = Path(manifest_path) if manifest_path else config.root / manifest.FILE
    click.echo(f"Running the {plan.role} flow ({plan.reason}) on the {plan.dataset} dataset, ref {printable(plan.ref)}")
    if values:
        params.apply_overrides(config, values)
        shown = ", ".join(f"{safe(k)}={safe(_yaml(v))}" for k, v in values.items())
        click.echo(f"Set {shown} in {params.file_of(config)}")
    result = run_flow(config, plan, jobs=jobs, pull=pull, push=push, env=env)
    name = _shown_path(target)
    manifest.write(target, manifest.build(config, plan, result, env, overrides=values, name=name))
    click.echo(render(result))
    click.echo(f"{'manifest':<8} {safe(name)}")


def _yaml(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)  # true, not True: as the file has it


def _shown_path(path: object) -> str:
    from pathlib import Path

    p = Path(str(path))
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


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
