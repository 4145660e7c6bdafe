"""``alops report``: the experiment report, as files and as one note on the merge request, edited in place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alops.cli.options import branch_option, flow_option

if TYPE_CHECKING:
    from collections.abc import Mapping

    import gitlab

    from alops.report.content import Content


@click.command()
@flow_option
@branch_option
@click.option(
    "--against", metavar="REF", help="The baseline (default: the MR's target branch, else the default branch)."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("alops-report"),
    show_default=True,
    help="The folder to write report.md, index.html and the plots into (replaced as a whole).",
)
@click.option(
    "--post/--no-post",
    default=None,
    help="Post the report as a note on the branch's merge request (default: in CI, when there is one).",
)
@click.option(
    "--fail-on-error",
    is_flag=True,
    default=False,
    help="GitLab failing to take the note fails the command (exit 3); also report.fail_on_error.",
)
@click.pass_obj
def report(
    obj: dict[str, str],
    flow: str,
    branch: str | None,
    against: str | None,
    out: Path,
    post: bool | None,
    fail_on_error: bool,
) -> None:
    """Write the experiment report and post it to the merge request, updated in place.

    The report holds the quality gate's verdict, the metrics, parameters and
    data versions against the baseline, plots (confusion matrix and per-class
    scores from report.confusion; the metric across the branch's latest
    successful pipelines) and how to reproduce the run. It is written to
    --out as report.md, a self-contained index.html and PNG files, and posted
    as one note on the merge request, found again by a hidden marker and
    edited on every pipeline.

    \b
    Posting needs ALOPS_GITLAB_TOKEN (api scope): GitLab's CI_JOB_TOKEN cannot
    write notes. Without it, without a merge request, or when GitLab fails,
    the files are still written and the command says so and exits 0
    (--fail-on-error: exit 3 when GitLab fails).

    \b
    Exit codes: 0 written (posted or not, and said why); 2 bad alops.yaml or
    options; 3 GitLab failed with --fail-on-error, or --out cannot be written;
    4 a metrics file or the manifest is unreadable.
    """
    from alops import env as variables
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.report import content as contents
    from alops.report import files
    from alops.text import safe

    config = load_config(obj["config"])
    env = dict(os.environ)
    plan = current_plan(config, env, branch=branch, role=None if flow == "auto" else flow)
    files.check_out(out)  # before anything is read: a wrong --out costs nothing
    found = contents.build(config, plan, env, against=against, out=out, gitlab_client=lambda: _client(env))
    files.write(found, out)
    click.echo(f"Wrote {out / 'report.md'}, {out / 'index.html'} and {len(found.plots)} plot(s)")
    for left in found.left_out:
        click.echo(f"  not shown: {safe(left.title)}: {safe(left.why)}")
    if post is None:
        post = bool(env.get(variables.CI))
        if not post:
            click.echo("Not posted to a merge request (outside CI): pass --post to post it")
            return
    if post:
        _post(found, env, out, fail_on_error or config.report.fail_on_error)


def _client(env: Mapping[str, str]) -> tuple[gitlab.Gitlab | None, str]:
    from alops import env as variables
    from alops import gitlab as api
    from alops.errors import AlopsError

    if not env.get(variables.CI_PROJECT_ID):
        return None, f"{variables.CI_PROJECT_ID} is not set (outside CI): the branch's earlier pipelines are unknown"
    try:
        return api.client_from_env(env), ""
    except AlopsError as exc:
        return None, str(exc)


def _post(found: Content, env: Mapping[str, str], out: Path, fail_on_error: bool) -> None:
    import requests

    from alops import env as variables
    from alops import gitlab as api
    from alops.errors import AlopsError
    from alops.report import markdown, note
    from alops.text import quote

    where = f"the report is in {out}/ (index.html)" + (f" and at {found.page_url}" if found.page_url else "")
    if not env.get(variables.GITLAB_TOKEN, "").strip():
        held = (
            "only CI_JOB_TOKEN is set, and GitLab's job token cannot write notes"
            if env.get(variables.CI_JOB_TOKEN)
            else "no GitLab token is set"
        )
        click.echo(
            f"Warning: the note was not written to the merge request: {variables.GITLAB_TOKEN} is not set ({held}). Set the CI/CD variable {variables.GITLAB_TOKEN} to a project access token with "
            f"the api scope (role Reporter or higher), masked; {where}",
            err=True,
        )
        return
    project = env.get(variables.CI_PROJECT_ID)
    if not project:
        click.echo(f"Warning: the note was not written: {variables.CI_PROJECT_ID} is not set; {where}", err=True)
        return
    import gitlab.exceptions

    try:
        client = api.client_from_env(env)
    except AlopsError as exc:
        _failed(str(exc), where, fail_on_error)
        return
    try:
        mr = note.merge_request(client, project, found.branch, env)
        if mr is None:
            click.echo(f"No open merge request of branch {quote(found.branch)}: the note was not written; {where}")
            return
        images = note.upload(client, project, found.plots)
        posted = note.post(mr, markdown.render(found, images), found.marker)
    except (gitlab.exceptions.GitlabError, requests.RequestException) as exc:
        error = api.api_error(exc, client, "write the report's note on the merge request")
        _failed(str(error), where, fail_on_error)
        return
    click.echo(f"Note {posted.action} on merge request !{posted.mr_iid}" + (f": {posted.url}" if posted.url else ""))


def _failed(message: str, where: str, fail_on_error: bool) -> None:
    from alops.errors import ToolError

    if fail_on_error:
        raise ToolError(f"{message}; {where}")
    click.echo(f"Warning: the note was not written to the merge request: {message}; {where}", err=True)
