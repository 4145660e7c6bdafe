"""``alops flow``: print the plan for a branch."""

from __future__ import annotations

import os

import click

from alops.cli.options import branch_option


@click.command()
@branch_option
@click.option(
    "--default-branch",
    help="The project's default branch, for local use (default: CI_DEFAULT_BRANCH, else origin/HEAD, else main).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "dotenv"]),
    default="text",
    show_default=True,
    help="dotenv feeds `artifacts: reports: dotenv`.",
)
@click.pass_obj
def flow(obj: dict[str, str], branch: str | None, default_branch: str | None, fmt: str) -> None:
    """Print the plan for a branch: role, dataset, runner tags, jobs, push.

    Reads GitLab's predefined variables (CI_COMMIT_BRANCH, CI_COMMIT_TAG,
    CI_PIPELINE_SOURCE, CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, CI_DEFAULT_BRANCH).
    """
    from alops.config import load_config
    from alops.flow import current_plan, render

    plan = current_plan(load_config(obj["config"]), os.environ, branch=branch, default_branch=default_branch)
    click.echo(render(plan, fmt), nl=False)
