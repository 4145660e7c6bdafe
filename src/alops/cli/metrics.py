"""``alops metrics``: the flow's metrics, params and data versions against a baseline."""

from __future__ import annotations

import os

import click

from alops.cli.options import branch_option, flow_option


@click.group()
def metrics() -> None:
    """Compare metrics, params and data versions with a baseline."""


@metrics.command()
@click.option(
    "--against",
    metavar="REF",
    help="The baseline branch or commit (default: the MR's target branch, else the default branch).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json", "text"]),
    default="text",
    show_default=True,
    help="md: Markdown tables (for a merge request); json: for scripts.",
)
@flow_option
@branch_option
@click.pass_obj
def diff(obj: dict[str, str], against: str | None, fmt: str, flow: str, branch: str | None) -> None:
    """Show the workspace's metrics, params and data versions against REF's.

    Every metric of either side is shown with its change; parameters and
    data versions only where they differ. REF's values come from git (fetched
    when a shallow CI clone lacks it); when REF's commit has none of the
    metrics files, from the run manifest its CI job kept as an artifact
    (ALOPS_BASELINE_JOB, default alops-run-gpu).

    \b
    Exit codes: 0 shown (also when there is no baseline: it says why);
    2 bad alops.yaml or no baseline known; 3 GitLab failed; 4 a metrics
    file or manifest is unreadable, or GitLab refused the token.
    """
    from alops import baseline, compare
    from alops.config import load_config
    from alops.errors import ConfigError
    from alops.flow import current_plan

    config = load_config(obj["config"])
    env = dict(os.environ)
    plan = current_plan(config, env, branch=branch, role=None if flow == "auto" else flow)
    ref = against or baseline.default_ref(config, env)
    if ref is None:
        raise ConfigError(
            "no baseline is known (no merge request target, CI_DEFAULT_BRANCH or origin/HEAD): "
            "pass --against REF, e.g. --against main"
        )
    result = compare.compare(baseline.current(config, plan, env), baseline.at_ref(config, plan, ref, env))
    click.echo(compare.render(result, fmt), nl=False)
