"""``alops image``: job images tagged by the hash of their inputs (over :mod:`alops.image`).

``tag`` prints ``NAME:deps-<hash>``; ``resolve`` (the plan job) looks that tag up in
this project's container registry and writes the dotenv the later jobs read: the
image by digest when it is built, else the tag the build job must build.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops import atomic
from alops import env as variables
from alops.text import safe

_dockerfile = click.option(
    "--dockerfile",
    required=True,
    help="The Dockerfile, a path from the repository root (the current directory).",
)
_inputs = click.option(
    "--input",
    "inputs",
    multiple=True,
    help="Another file or folder the image is built from (uv.lock); a folder: its git-tracked files. Repeatable.",
)
_name = click.option(
    "--name",
    default=None,
    help="The image name without a tag [default: $CI_REGISTRY_IMAGE/alops-job].",
)


@click.group()
def image() -> None:
    """Job images tagged by the hash of their inputs, resolved to digests in the project's registry."""


@image.command(short_help="Print NAME:deps-<hash> of a Dockerfile and its inputs.")
@_dockerfile
@_inputs
@_name
def tag(dockerfile: str, inputs: tuple[str, ...], name: str | None) -> None:
    """Print NAME:deps-<hash> of the Dockerfile, its .dockerignore and the inputs."""
    from alops.image.inputs import image_name, tag_of

    env = dict(os.environ)
    click.echo(tag_of(Path.cwd(), dockerfile, inputs, image_name(name, env)).ref)


@image.command(short_help="The tag's digest in this project's registry, or that it must be built.")
@_dockerfile
@_inputs
@_name
@click.option(
    "--dotenv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write ALOPS_JOB_IMAGE (when built), ALOPS_JOB_IMAGE_TAG and ALOPS_IMAGE_BUILD (when not) "
    "for artifacts: reports: dotenv.",
)
def resolve(dockerfile: str, inputs: tuple[str, ...], name: str | None, dotenv: Path | None) -> None:
    """Find the image's tag in this project's container registry: its digest, or that it must be built.

    Exit codes: 2 a missing input or a bad name, 3 GitLab refused or cannot be reached.
    """
    from alops.image.inputs import image_name, tag_of
    from alops.image.registry import lookup

    env = dict(os.environ)
    found = lookup(tag_of(Path.cwd(), dockerfile, inputs, image_name(name, env)), env)
    ref = found.image.ref
    if found.pinned:
        lines = [f"{variables.JOB_IMAGE}={found.pinned}", f"{variables.JOB_IMAGE_TAG}={ref}"]
        click.echo(f"{safe(ref)} is built: {safe(found.pinned)}")
    else:
        lines = [f"{variables.IMAGE_BUILD}={ref}", f"{variables.JOB_IMAGE_TAG}={ref}"]
        click.echo(f"{safe(ref)} is not in the registry: the image-build job builds it")
    if dotenv is not None:
        atomic.write_text(dotenv, "".join(line + "\n" for line in lines))
