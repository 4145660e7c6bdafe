"""``alops config``: validate alops.yaml, print its schema."""

from __future__ import annotations

import click


@click.group()
def config() -> None:
    """Validate alops.yaml or print its JSON Schema."""


@config.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.pass_obj
def validate(obj: dict[str, str], file: str | None) -> None:
    """Check FILE (default: --config) against the schema, and params.yaml against its allowed values."""
    from alops import params
    from alops.config import load_config

    cfg = load_config(file or obj["config"])
    params.require_valid(cfg)
    n = len(cfg.parameters.allowed) if cfg.parameters else 0
    click.echo(
        f"{cfg.path} is valid" + (f"; {n} parameter{'s' if n != 1 else ''} within their allowed values" if n else "")
    )


@config.command()
def schema() -> None:
    """Print the JSON Schema of alops.yaml.

    For completion in editors, put this first line in alops.yaml:
    # yaml-language-server: $schema=<URL or path of this schema>
    """
    import json

    from alops.config import schema as load_schema

    click.echo(json.dumps(load_schema(), indent=2))
