"""``alops schedule``: the project's GitLab pipeline schedules, kept as alops.yaml's ``schedules:`` says."""

from __future__ import annotations

import os

import click


@click.group()
def schedule() -> None:
    """The project's GitLab pipeline schedules (query rounds, the dev set's check)."""


@schedule.command()
@click.option("--dry-run", is_flag=True, help="Read GitLab and print the plan; change nothing.")
@click.pass_obj
def sync(obj: dict[str, str], dry_run: bool) -> None:
    """Create, update and delete the project's pipeline schedules so they are alops.yaml's `schedules:`.

    A schedule is alops's when its description is "alops: NAME" (NAME is its
    key under `schedules:`): missing ones are created, changed fields (cron,
    ref, timezone, active) and variables are edited, and alops's schedules no
    longer in alops.yaml are deleted. Schedules made by hand (any other
    description) are never touched. A second run changes nothing.

    Needs ALOPS_GITLAB_TOKEN, a project access token with the api scope
    (CI_JOB_TOKEN cannot manage schedules); the project is CI_PROJECT_ID or
    CI_PROJECT_PATH, the server ALOPS_GITLAB_URL or CI_SERVER_URL.

    \b
    Exit codes: 0 in sync (or --dry-run printed the plan); 2 bad alops.yaml (a
    cron that is not five fields) or no project; 3 the GitLab API failed;
    4 ALOPS_GITLAB_TOKEN missing or refused.
    """
    from alops.config import load_config
    from alops.schedules import render
    from alops.schedules import sync as run_sync

    config = load_config(obj["config"])
    click.echo(render(run_sync(config.schedules, env=dict(os.environ), dry_run=dry_run)))
