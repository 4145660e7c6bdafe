"""``alops config``: validate alops.yaml, print its schema."""

from __future__ import annotations

import click


@click.group()
def config() -> None:
    """Validate alops.yaml or print its JSON Schema."""


@config.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--no-project",
    is_flag=True,
    help="Check only the file and the parameters, not dvc.yaml, the datasets' targets and the CI inputs.",
)
@click.pass_obj
def validate(obj: dict[str, str], file: str | None, no_project: bool) -> None:
    """Check FILE (default: --config) against the schema, params.yaml against its allowed values,
    parameters.constraints against parameters.allowed, and the project: pipeline stages and metrics in dvc.yaml, the datasets' targets, and the CI
    template's inputs (ALOPS_*_BRANCHES, ALOPS_CPU_TAGS, ALOPS_GPU_TAGS) against the file."""
    import os

    from alops import params
    from alops.config import load_config
    from alops.errors import ConfigError
    from alops.matrix import space

    cfg = load_config(file or obj["config"])
    problems = params.check(cfg) + space.problems(cfg)
    notes: tuple[str, ...] = ()
    if not no_project:
        from alops import project

        found = project.check(cfg, os.environ)
        problems += found.problems
        notes = found.notes
    for note in notes:
        click.echo(f"Note: {note}", err=True)
    if problems:
        n = len(problems)
        raise ConfigError(
            f"{cfg.path} does not fit the project ({n} problem{'s' if n > 1 else ''}):\n"
            + "\n".join(f"  {p}" for p in problems)
        )
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

    from alops.schema import schema as load_schema

    click.echo(json.dumps(load_schema(), indent=2))
