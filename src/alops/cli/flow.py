"""``alops flow``: print the plan for a branch."""

from __future__ import annotations

import os

import click


@click.command()
@click.option("--branch", "-b", help="Branch to plan for (default: from CI variables, else the checked-out branch).")
@click.option("--default-branch", envvar="ALOPS_DEFAULT_BRANCH", show_envvar=True, help="The project's default branch (default: CI_DEFAULT_BRANCH, else origin/HEAD, else main).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "dotenv"]), default="text", show_default=True, help="dotenv feeds `artifacts: reports: dotenv`.")
@click.pass_obj
def flow(obj: dict[str, str], branch: str | None, default_branch: str | None, fmt: str) -> None:
    """Print the plan for a branch: role, dataset, runner tags, jobs, push.

    Reads GitLab's predefined variables (CI_COMMIT_BRANCH, CI_COMMIT_TAG,
    CI_PIPELINE_SOURCE, CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, CI_DEFAULT_BRANCH).
    """
    from alops import flow as flows
    from alops.config import load_config

    config = load_config(obj["config"])
    env = os.environ
    git_branch = git_default = None
    if branch is None and not (env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_TAG") or env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")):
        from alops import git

        git_branch = git.current_branch(config.root)
    if not (default_branch or env.get("CI_DEFAULT_BRANCH")):
        from alops import git

        git_default = git.default_branch(config.root)
    ctx = flows.Context.from_env(env, branch=branch, default_branch=default_branch, git_branch=git_branch, git_default=git_default)
    click.echo(flows.render(flows.make_plan(config, ctx, env), fmt), nl=False)
