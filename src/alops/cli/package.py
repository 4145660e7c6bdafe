"""``alops package``: the serving image's build context of a released version."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command()
@click.option(
    "--version",
    "version",
    metavar="X.Y.Z",
    help="The released version (default: the tag pipeline's MODEL@vX.Y.Z, else the latest released).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="alops-serve",
    show_default=True,
    help="The build context: Dockerfile, .dockerignore and the package.",
)
@click.option(
    "--base-image",
    required=True,
    help="The serving image's base: an image with alops installed (the job image), or any Python image with --alops.",
)
@click.option(
    "--alops",
    "alops_requirement",
    metavar="REQUIREMENT",
    help="pip requirement the image installs alops from, when the base image has none (alops[serve] @ URL).",
)
@click.option(
    "--dotenv",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write ALOPS_RELEASE_MODEL, ALOPS_RELEASE_VERSION and ALOPS_SERVE_IMAGE (artifacts: reports: dotenv).",
)
@click.pass_obj
def package(
    obj: dict[str, str],
    version: str | None,
    out: Path,
    base_image: str,
    alops_requirement: str | None,
    dotenv: Path | None,
) -> None:
    """Write the build context of the serving image of a released version.

    Downloads the version's package from the registry (GitLab's generic
    packages in CI, else .alops/registry) and writes OUT/Dockerfile beside
    it: the base image, the package's pinned requirements, a non-root user,
    `alops serve` on port 8080. Build it with BuildKit (the template's
    <prefix>-serve-image job) or `docker build OUT`. The image's name is
    ALOPS_SERVE_IMAGE, else $CI_REGISTRY_IMAGE/MODEL:X.Y.Z.

    \b
    Exit codes: 0 written; 2 bad alops.yaml or no release section; 3 the
    registry refused; 4 no such version, or a broken package.
    """
    from alops import atomic
    from alops import env as variables
    from alops.config import load_config
    from alops.release import serving
    from alops.release.registry import from_env
    from alops.release.ship import release_section
    from alops.text import safe

    config = load_config(obj["config"])
    env = dict(os.environ)
    registry = from_env(config.root, env)
    made = serving.write(
        release_section(config),
        env,
        registry,
        out,
        version=version,
        base_image=base_image,
        alops_requirement=alops_requirement,
    )
    click.echo(
        f"wrote {safe(str(out))}: the serving image of {safe(made.model)} {made.version} ({safe(registry.where)})"
    )
    if made.image:
        click.echo(f"image: {safe(made.image)}")
    if dotenv is not None:
        lines = [f"{variables.RELEASE_MODEL}={made.model}", f"{variables.RELEASE_VERSION}={made.version}"]
        lines += [f"{variables.SERVE_IMAGE}={made.image}"] if made.image else []
        atomic.write_text(dotenv, "\n".join(lines) + "\n")
