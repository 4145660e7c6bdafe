"""``alops init``: write alops.yaml and .gitlab-ci.yml for an existing DVC project."""

from __future__ import annotations

from pathlib import Path

import click

_SAID = {
    "written": "written",
    "would-write": "would be written",
    "unchanged": "unchanged",
    "kept": "kept as it is",
}


@click.command()
@click.option(
    "--dir",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, exists=True),
    help="The project: the top of a git repository with DVC.",
)
@click.option("--force", is_flag=True, help="Replace an alops.yaml or .gitlab-ci.yml that is already there.")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
def init(directory: str, force: bool, dry_run: bool) -> None:
    """Adopt alops in this DVC project: write alops.yaml and .gitlab-ci.yml.

    The datasets come from the .dvc files, the pipeline from dvc.yaml, the
    parameters from params.yaml. Files already there are kept (--force
    replaces them); running it again changes nothing.
    """
    from alops import __version__
    from alops.init import init as run_init

    result = run_init(Path(directory), __version__, force=force, dry_run=dry_run)
    for file in result.files:
        name = file.path.name
        if file.action == "would-write":
            click.echo(f"{name}: would be written ({file.reason}):\n")
            click.echo(file.text, nl=False)
        elif file.action == "add-include":
            click.echo(f"{name}: {file.reason} (or run with --force to replace the file):\n")
            click.echo(file.text, nl=False)
        else:
            click.echo(f"{name}: {_SAID[file.action]} ({file.reason})")
    proposal = result.proposal
    if proposal.advice:
        click.echo("\n" + proposal.advice, nl=False)
    if not result.changed and not dry_run:
        click.echo("Nothing changed.")
        return
    if dry_run:
        return
    steps = []
    if proposal.datasets.build is not None:
        steps.append("`alops devset build` (makes the dev set, see datasets.dev.build)")
    steps += [
        "widen parameters.allowed in alops.yaml" if proposal.params else "",
        "`alops config validate`",
        "commit alops.yaml and .gitlab-ci.yml",
    ]
    click.echo("\nNext: " + "; ".join(s for s in steps if s) + ".")
