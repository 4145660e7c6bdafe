"""Click groups whose subcommands live in other modules, imported only when one is called.

``alops flow`` in a CI job then pays only for ``alops.cli.flow``; ``alops --help``
lists every command from one line of help kept beside its module's name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import click

#: name -> (module, function, one line of help) of subcommands defined elsewhere.
Commands = Mapping[str, tuple[str, str, str]]


class LazyGroup(click.Group):
    """A group of the subcommands in :attr:`lazy` (imported when called) and any defined on it."""

    #: The subcommands that live in other modules; each subclass sets its own.
    lazy: Commands = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr, _ = self.lazy[name]
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = {name: help_ for name, (_, _, help_) in self.lazy.items()} | self.own_help(ctx)
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows.items()))

    def own_help(self, ctx: click.Context) -> dict[str, str]:
        """One line of help for each subcommand defined on the group itself."""
        return {name: command.get_short_help_str() for name, command in self.commands.items()}
