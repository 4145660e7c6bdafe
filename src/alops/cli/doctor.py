"""``alops doctor``: check this job environment for its role; exit 8 when a needed check fails."""

from __future__ import annotations

import os

import click

from alops.roles import ROLES


@click.command()
@click.option(
    "--role",
    type=click.Choice(["auto", *ROLES]),
    default="auto",
    show_default=True,
    help="auto: ALOPS_ROLE, else the role of the branch (as `alops flow` gives it).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def doctor(obj: dict[str, str], role: str, fmt: str) -> None:
    """Check DVC, its cache and remote, the GPU, the GitLab token and Label Studio for this job's role.

    Prints every check, then exits 8 when one the role needs failed (checks
    it does not need are warnings). Secrets are named, never shown.
    """
    from alops.config import load_config
    from alops.doctor import render, run
    from alops.errors import UnhealthyError

    report = run(load_config(obj["config"]), dict(os.environ), role)
    click.echo(render(report, fmt), nl=False)
    if report.failed:
        names = ", ".join(c.name for c in report.failed)
        raise UnhealthyError(f"this environment fails the {report.role} role's checks: {names} (see the table above)")
