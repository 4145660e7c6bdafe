"""``alops runner``: GitLab Runner set-up for alops jobs, over :mod:`alops.runner`.

``config`` renders a runner's configuration (``config.toml`` or Helm values);
``register`` creates the runner in GitLab. Each lives in its own module
(``alops.cli.runner_<name>``), imported only when called.
"""

from __future__ import annotations

import click

from alops.cli.lazy import LazyGroup

#: name -> (module, function, one line of help).
_COMMANDS = {
    "config": (
        "alops.cli.runner_config",
        "config",
        "Render config.toml or Helm values for an executor (CPU or GPU).",
    ),
    "register": (
        "alops.cli.runner_register",
        "register",
        "Create a runner in GitLab (glrt- token); print the host's register command.",
    ),
}


class _Subcommands(LazyGroup):
    lazy = _COMMANDS


@click.group(cls=_Subcommands)
def runner() -> None:
    """GitLab Runner for alops jobs: render its configuration, create it in GitLab."""
