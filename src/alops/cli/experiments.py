"""``alops experiments``: the project's experiment branches and merge requests, side by side."""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops import env as variables
from alops.experiments import DEFAULT_JOB, DEFAULT_LIMIT, FORMATS


@click.command()
@click.option(
    "--sort",
    metavar="METRIC",
    help="The metric to sort by: a key path (accuracy) or FILE:KEY (default: the first quality gate's metric).",
)
@click.option(
    "--ascending/--descending",
    default=None,
    help="Smallest or largest first (default: best first, by the metric's gate's `better`; largest first for a metric "
    "without a gate, where --ascending also makes the smallest the best).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the table to this file (atomically) instead of printing it.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="Read the manifests of at most this many experiment branches, the most recently committed (0: all).",
)
@click.option(
    "--include-merged", is_flag=True, help="Also list merged merge requests of experiment branches (finished ones)."
)
@click.option(
    "--project",
    metavar="PATH",
    envvar=[variables.CI_PROJECT_ID, variables.CI_PROJECT_PATH],
    show_envvar=True,
    help="The GitLab project: GROUP/NAME or its numeric id.",
)
@click.option(
    "--job",
    metavar="NAME",
    envvar=variables.BASELINE_JOB,
    show_envvar=True,
    help=f"The CI job whose artifacts hold each branch's alops-manifest.json (default: {DEFAULT_JOB}).",
)
@click.pass_obj
def experiments(
    obj: dict[str, str],
    sort: str | None,
    ascending: bool | None,
    fmt: str,
    output: Path | None,
    limit: int,
    include_merged: bool,
    project: str | None,
    job: str | None,
) -> None:
    """List the experiment branches and their merge requests with metrics, params and data versions.

    Each branch whose name matches the experiment role's pattern (alops.yaml
    `branches:`, or ALOPS_EXPERIMENT_BRANCHES) is read from GitLab with the
    run manifest of its latest successful pipeline (the alops-manifest.json
    in the artifacts of --job); the default branch is the baseline row. A row
    shows the branch's open merge request, the commit that ran, when, the
    metrics, the parameters that differ from the default branch's, the data
    versions of its dataset and the pipeline. Rows are sorted by --sort (rows
    without that metric last), the best one is marked "best".

    Needs ALOPS_GITLAB_TOKEN, a project access token with the read_api
    scope (CI_JOB_TOKEN cannot list branches), and the server
    (ALOPS_GITLAB_URL or CI_SERVER_URL). A branch whose pipelines kept no
    manifest is listed with "no manifest".

    \b
    Exit codes: 0 listed; 2 bad alops.yaml, no project, or a --sort metric
    that is in several metrics files; 3 GitLab failed or cannot be reached;
    4 the token is missing or refused.
    """
    from alops import atomic
    from alops import experiments as table
    from alops.config import load_config

    config = load_config(obj["config"])
    env = dict(os.environ)
    found = table.collect(
        config,
        env,
        project=table.project_id(env, project),
        job=job,
        include_merged=include_merged,
        limit=limit,
        sort=sort,
        ascending=ascending,
    )
    text = table.render(found, fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    with atomic.writing_to(output):
        output.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(output, text)
    count = sum(not r.baseline for r in found.rows)
    click.echo(f"wrote {click.format_filename(output)}: {count} experiment branch{'es' if count != 1 else ''}")
