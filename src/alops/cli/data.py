"""``alops data``: get a branch's dataset from its DVC remote, push what its pipeline produced."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import click

from alops import env as variables
from alops.cli.options import branch_option


@click.group()
def data() -> None:
    """Pull the dataset a branch needs from its DVC remote; push the pipeline's outputs."""


def _progress(env: Mapping[str, str]) -> bool:
    # DVC's own lines as they come on a terminal (redacted; DVC itself always writes to a pipe, so it
    # prints, and alops classifies, the same words either way); in CI logs only alops's one-line summary.
    return sys.stdout.isatty() and not env.get(variables.CI)


@data.command()
@click.option(
    "--dataset",
    type=click.Choice(["auto", "dev", "full"]),
    default="auto",
    show_default=True,
    help="auto: the dataset of the branch's flow (dev for feature branches, full otherwise).",
)
@branch_option
@click.option(
    "--run-cache/--no-run-cache",
    default=False,
    show_default=True,
    help="Also fetch DVC's run-cache, so `dvc repro` restores stages that ran elsewhere instead of running them.",
)
@click.option(
    "--cache-dir",
    envvar=variables.DVC_CACHE_DIR,
    show_envvar=True,
    type=click.Path(file_okay=False),
    help="A DVC cache shared by the jobs of this runner: the project uses it (linked, not copied) before pulling.",
)
@click.pass_obj
def pull(obj: dict[str, str], dataset: str, branch: str | None, run_cache: bool, cache_dir: str | None) -> None:
    """Pull only the DVC targets of one dataset into the workspace.

    Prints one line: objects and bytes fetched, objects already cached, time.
    """
    from alops import data as data_lib
    from alops.config import load_config
    from alops.flow import current_plan

    env = dict(os.environ)  # the command line is where the environment comes from: the library is given it
    config = load_config(obj["config"])
    plan = current_plan(config, env, branch=branch) if dataset == "auto" else None
    result = data_lib.pull(
        config, plan, dataset=dataset, run_cache=run_cache, cache_dir=cache_dir, env=env, progress=_progress(env)
    )
    click.echo(data_lib.pull_summary(result))


@data.command()
@branch_option
@click.option(
    "--run-cache/--no-run-cache",
    default=True,
    show_default=True,
    help="Also push DVC's run-cache, so later pipelines restore these stages instead of running them.",
)
@click.pass_obj
def push(obj: dict[str, str], branch: str | None, run_cache: bool) -> None:
    """Push the outputs of the branch's pipeline stages (and the run-cache) to its DVC remote.

    Only what the remote lacks is sent: running it again sends nothing, and a
    push cut short by a network fault is completed by the next one.
    """
    from alops import data as data_lib
    from alops.config import load_config
    from alops.flow import current_plan

    env = dict(os.environ)
    config = load_config(obj["config"])
    plan = current_plan(config, env, branch=branch)
    result = data_lib.push(config, plan, run_cache=run_cache, env=env, progress=_progress(env))
    click.echo(data_lib.push_summary(result))
