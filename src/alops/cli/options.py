"""Options several commands share, defined once so their help stays the same."""

from __future__ import annotations

import click

branch_option = click.option(
    "--branch", "-b", help="Branch to plan for (default: from CI variables, else the checked-out branch)."
)
