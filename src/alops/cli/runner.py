"""``alops runner``: GitLab Runner set-up for alops jobs, over :mod:`alops.runner`.

``config`` renders a runner's configuration (``config.toml`` or Helm values);
``register`` creates the runner in GitLab. Each lives in its own module
(``alops.cli.runner_<name>``), imported only when called.
"""

from __future__ import annotations

import importlib

import click

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


class _Subcommands(click.Group):
    """The subcommands, imported from their modules when called."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        module, attr, _ = _COMMANDS[name]
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in sorted(_COMMANDS.items())])


@click.group(cls=_Subcommands)
def runner() -> None:
    """GitLab Runner for alops jobs: render its configuration, create it in GitLab."""
