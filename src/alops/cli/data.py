"""``alops data``: get a branch's dataset from its DVC remote."""

from __future__ import annotations

import os

import click


@click.group()
def data() -> None:
    """Pull the dataset a branch needs from its DVC remote."""


@data.command()
@click.option(
    "--dataset",
    type=click.Choice(["auto", "dev", "full"]),
    default="auto",
    show_default=True,
    help="auto: the dataset of the branch's flow (dev for feature branches, full otherwise).",
)
@click.option("--branch", "-b", help="Branch to plan for (default: from CI variables, else the checked-out branch).")
@click.pass_obj
def pull(obj: dict[str, str], dataset: str, branch: str | None) -> None:
    """Pull only the DVC targets of one dataset into the workspace."""
    from alops import data as data_lib
    from alops.config import load_config
    from alops.flow import current_plan

    config = load_config(obj["config"])
    plan = current_plan(config, os.environ, branch=branch) if dataset == "auto" else None
    result = data_lib.pull(config, plan, dataset=dataset)
    source = f"DVC remote `{result.remote}`" if result.remote else "the default DVC remote"
    why = f" for the {plan.role} flow" if plan else ""
    click.echo(
        f"Pulled the {result.dataset} dataset{why} ({', '.join(result.targets)}) from {source}: "
        f"{result.files} file{'s' if result.files != 1 else ''} in the workspace, {result.seconds:.1f} s"
    )
