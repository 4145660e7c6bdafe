"""``alops package``: the serving image's build context of a released version, and the image's name.

The version is the one asked for, else the tag pipeline's own (``MODEL@vX.Y.Z``
in ``CI_COMMIT_TAG``), else the registry's latest. The image is named
``ALOPS_SERVE_IMAGE`` when set, else ``$CI_REGISTRY_IMAGE/MODEL:X.Y.Z`` (an image
tag cannot hold GTO's ``@``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alops import env as variables
from alops.errors import DataError

if TYPE_CHECKING:
    from alops.release.registry import Registry
    from alops.sections import Release


@dataclass(frozen=True)
class Context:
    model: str
    version: str
    path: Path  # the build context: Dockerfile, .dockerignore, the package
    image: str | None  # where the image goes; None outside CI without ALOPS_SERVE_IMAGE


def version_of(release: Release, env: Mapping[str, str], registry: Registry, asked: str | None) -> str:
    """The version to package: asked, else the tag pipeline's, else the registry's latest."""
    from alops.release.version import Version, option

    if asked:
        return str(option(asked))
    tag, prefix = env.get(variables.CI_COMMIT_TAG) or "", f"{release.model}@v"
    if tag.startswith(prefix):
        try:
            return str(Version.parse(tag[len(prefix) :]))
        except ValueError:
            pass  # not a registration tag of this model: the latest, as outside a tag pipeline
    found = registry.versions(release.model)
    if not found:
        raise DataError(f"{release.model} has no released version in {registry.where}: run `alops release` first")
    return found[-1]


def image_name(release: Release, version: str, env: Mapping[str, str]) -> str | None:
    if env.get(variables.SERVE_IMAGE):
        return env[variables.SERVE_IMAGE]
    base = env.get(variables.CI_REGISTRY_IMAGE)
    return f"{base}/{release.model}:{version}" if base else None


def write(
    release: Release,
    env: Mapping[str, str],
    registry: Registry,
    out: Path,
    *,
    version: str | None,
    base_image: str,
    alops_requirement: str | None,
) -> Context:
    """Download ``version``'s package and write the serving image's build context to ``out``."""
    import tempfile

    from alops.release.package import extract
    from alops.serve.image import write_context

    chosen = version_of(release, env, registry, version)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".alops-package-", dir=out.parent) as tmp:
        archive = registry.download(release.model, chosen, Path(tmp))
        unpacked = extract(archive, Path(tmp) / "package")
        write_context(unpacked, out, base_image=base_image, alops_requirement=alops_requirement)
    return Context(release.model, chosen, out, image_name(release, chosen, env))
