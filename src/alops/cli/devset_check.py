"""``alops devset check`` and ``alops devset refresh``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops import env as variables
from alops.errors import NotRepresentativeError

_REPORT_DIR = click.option(
    "--report-dir",
    envvar=variables.DEVSET_REPORT_DIR,
    show_envvar=True,
    type=click.Path(file_okay=False),
    help="Where report.md and report.json are written (default: .alops/devset-check in the project, "
    "a folder git ignores; CI jobs pass a folder they keep as an artifact).",
)


@click.command()
@click.option("--full", "full_path", metavar="PATH", help="The full data (default: datasets.dev.build.source).")
@click.option("--dev", "dev_path", metavar="PATH", help="The dev set (default: datasets.dev.build.output).")
@_REPORT_DIR
@click.pass_obj
def check(obj: dict[str, str], full_path: str | None, dev_path: str | None, report_dir: str | None) -> None:
    """Check that the dev dataset still represents the full data.

    Compares the label distribution (χ²), every column (KS for numbers, χ² for
    categories, PSI for both) and the share of outliers and corrupt rows, with
    the thresholds of datasets.dev.check in alops.yaml.

    \b
    Exit codes: 0 representative; 5 not representative (rebuild it: the report
    says which column and why); 2 bad alops.yaml, or a file that is not a
    table; 4 data missing or unreadable (`alops data pull`).
    """
    from alops.config import load_config
    from alops.devset.check import report as check_report
    from alops.devset.check.run import check as run_check

    config = load_config(obj["config"])
    result = run_check(config, full=_absolute(full_path), dev=_absolute(dev_path))
    markdown, json_file = check_report.write(result, _report_dir(report_dir, config.root))
    click.echo(check_report.summary(result))
    click.echo(f"Report: {markdown} and {json_file}")
    if not result.representative:
        # Exit 5 leaves the way every documented exit code does: an AlopsError that main() maps.
        raise NotRepresentativeError(check_report.verdict(result))


@click.command()
@_REPORT_DIR
@click.option("--dry-run", is_flag=True, help="Rebuild and commit on the branch, but push nothing and open no MR.")
@click.option(
    "--target",
    metavar="BRANCH",
    help="Target branch of the merge request (default: CI_COMMIT_BRANCH, else CI_DEFAULT_BRANCH).",
)
@click.pass_obj
def refresh(obj: dict[str, str], report_dir: str | None, dry_run: bool, target: str | None) -> None:
    """Rebuild the dev dataset when it fails the check, and open a merge request.

    Runs `alops devset check`; when the dev set no longer represents the full
    data, rebuilds it, pushes it to the DVC remote, commits its .dvc file and
    the reports on a branch alops/devset-refresh-<date>-<sha>, pushes the
    branch and opens a merge request whose description is the report.

    \b
    Needs ALOPS_GITLAB_TOKEN: a project access token with the api and
    write_repository scopes, stored as a masked and protected CI/CD variable.

    \b
    Exit codes: 0 representative, or a merge request was opened (its URL is
    printed), or --dry-run finished; 2 bad alops.yaml or GitLab settings; 3 git,
    DVC or the GitLab API failed; 4 data missing or unreadable (`alops data
    pull`), ALOPS_GITLAB_TOKEN missing or refused, or the DVC remote unreachable;
    5 the rebuilt dev set still fails.
    """
    from alops.config import load_config
    from alops.devset.check import report as check_report
    from alops.devset.refresh.run import refresh as run_refresh

    config = load_config(obj["config"])
    where = _report_dir(report_dir, config.root)
    result = run_refresh(config, env=os.environ, report_dir=where, dry_run=dry_run, target=target)
    click.echo(check_report.summary(result.before))
    if result.after is None:
        click.echo("Nothing to do: the dev set represents the full data.")
        return
    click.echo(f"Rebuilt the dev set: {check_report.verdict(result.after)}")
    click.echo(f"Committed {result.commit} on branch {result.branch}.")
    if result.dry_run:
        click.echo("Dry run: pushed nothing, opened no merge request.")
    else:
        click.echo(f"Merge request: {result.url}")


def _report_dir(given: str | None, root: Path) -> Path:
    from alops.devset.check import report as check_report

    if given:
        return Path(given)
    found = check_report.default_dir(root)
    return Path(os.path.relpath(found)) if found.is_relative_to(Path.cwd()) else found


def _absolute(path: str | None) -> str | None:
    # Options are relative to where alops runs; alops.yaml's paths to the project.
    return str(Path(path).absolute()) if path else None
