"""``alops devset``: build the dev dataset, check it still represents the full data."""

from __future__ import annotations

import click


@click.group()
def devset() -> None:
    """Build the dev dataset and check that it still represents the full data."""


def _register() -> None:
    # Each command lives in its own module (library imports stay inside the
    # command bodies, so this costs nothing until one runs).
    from alops.cli.devset_build import build
    from alops.cli.devset_check import check, refresh

    for command in (build, check, refresh):
        devset.add_command(command)


_register()
