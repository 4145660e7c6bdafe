"""Options several commands share, defined once so their help stays the same."""

from __future__ import annotations

import click

from alops.roles import ROLES

branch_option = click.option(
    "--branch", "-b", help="Branch to plan for (default: from CI variables, else the checked-out branch)."
)

flow_option = click.option(
    "--flow",
    type=click.Choice(["auto", *ROLES]),
    default="auto",
    show_default=True,
    help="auto: the role of the branch (from CI variables, else the checked-out branch).",
)
