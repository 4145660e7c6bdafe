"""The serving image's build context: a Dockerfile, its requirements, the package, a ``.dockerignore``.

``alops package`` writes it in the tag pipeline; a BuildKit job builds it. The image
runs ``alops serve`` as a non-root user on port 8080. What goes into the Dockerfile
comes from the package (hostile text: a package is a download) and is checked
first: the pip requirements must each be ``name[extras]==version``, and they go in
``requirements.txt``, never into a RUN line.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from alops import atomic
from alops.errors import ConfigError
from alops.serve.predictor import META_FILE, read_meta
from alops.text import clip, quote

PACKAGE_PATH = "/srv/package"
PORT = 8080
USER = "10001"
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
#: A pinned requirement: name, optional extras, ``==`` a version (PEP 440's characters only).
REQUIREMENT = re.compile(rf"^{_NAME}(?:\[{_NAME}(?:,{_NAME})*\])?==[0-9][A-Za-z0-9.+!_-]*$")
#: alops itself: pinned like the others, or a direct reference to a wheel or a git URL.
ALOPS_REQUIREMENT = re.compile(
    rf"^alops(?:\[{_NAME}(?:,{_NAME})*\])?(?:==[0-9][A-Za-z0-9.+!_-]*| @ (?:https|git\+https)://[A-Za-z0-9._~:/?#@!&+,;=%-]+)$"
)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
#: An image reference with a tag or a digest (docker/distribution's reference grammar).
IMAGE = re.compile(
    rf"^(?:(?P<registry>[A-Za-z0-9.-]+(?::[0-9]+)?)/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)

DOCKERIGNORE = """\
# The context is this folder: only what the Dockerfile copies goes to the builder.
*
!requirements.txt
!package
**/__pycache__
**/*.pyc
"""


def write_context(package_dir: Path, out: Path, *, base_image: str, alops_requirement: str | None) -> Path:
    """Write the serving image's build context of the package in ``package_dir`` to ``out`` (replaced whole).

    ``alops_requirement`` None: the base image has alops already (the job image), so only the
    package's requirements are installed, and the build checks that `alops` runs.
    """
    meta = read_meta(package_dir)
    _check_image(base_image)
    if alops_requirement is not None and not ALOPS_REQUIREMENT.match(alops_requirement):
        raise ConfigError(
            f"the alops requirement {quote(clip(alops_requirement, 80))} is not alops[serve]==X.Y.Z "
            "or alops[serve] @ https://…: give one of those"
        )
    requirements = meta.get("requirements", [])
    if not isinstance(requirements, list):
        raise ConfigError(f"{package_dir / META_FILE}: requirements: a list of pip requirements expected")
    for requirement in requirements:
        if not isinstance(requirement, str) or not REQUIREMENT.match(requirement):
            raise ConfigError(
                f"{package_dir / META_FILE}: requirements: {quote(clip(str(requirement), 80))} is not a pinned "
                "requirement (name[extras]==version): pin it in alops.yaml's release.requirements "
                "(or train with it installed, so the run manifest records its version) and release again"
            )
    with atomic.replacing(out, folder=True) as tmp:
        _copy_package(package_dir, tmp / "package")
        atomic.write_text(tmp / "requirements.txt", "".join(f"{r}\n" for r in requirements))
        atomic.write_text(tmp / ".dockerignore", DOCKERIGNORE)
        atomic.write_text(tmp / "Dockerfile", dockerfile(meta, base_image, alops_requirement))
    return out


def dockerfile(meta: dict[str, object], base_image: str, alops_requirement: str | None) -> str:
    """The Dockerfile's text; ``meta`` is a checked alops-package.json (its model, version and commit are safe)."""
    labels = [
        f'org.opencontainers.image.title="{meta["model"]}"',
        f'org.opencontainers.image.version="{meta["version"]}"',
    ]
    if meta.get("commit"):
        labels.append(f'org.opencontainers.image.revision="{meta["commit"]}"')
    health = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT}/healthz', timeout=3)"
    entry = ["alops", "serve", "--package", PACKAGE_PATH, "--host", "0.0.0.0", "--port", str(PORT)]
    exec_form = ", ".join(f'"{word}"' for word in entry)
    label_lines = " \\\n      ".join(labels)
    if alops_requirement is None:  # the base image brings alops: install the package's requirements, check alops runs
        install = "RUN python -m pip install --no-cache-dir -r /srv/requirements.txt && alops --version"
        argument = ""
    else:
        install = 'RUN python -m pip install --no-cache-dir "${ALOPS_REQUIREMENT}" -r /srv/requirements.txt'
        argument = f'ARG ALOPS_REQUIREMENT="{alops_requirement}"\n'
    return f"""\
# syntax=docker/dockerfile:1
# The serving image of {meta["model"]} {meta["version"]}, written by `alops package`.
ARG BASE_IMAGE={base_image}
FROM ${{BASE_IMAGE}}
{argument}LABEL {label_lines}
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    HOME=/tmp
COPY requirements.txt /srv/requirements.txt
{install}
COPY package {PACKAGE_PATH}
USER {USER}
EXPOSE {PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "{health}"]
ENTRYPOINT [{exec_form}]
"""


def _check_image(base_image: str) -> None:
    match = IMAGE.match(base_image)
    if match is None:
        raise ConfigError(
            f"the base image {quote(clip(base_image, 120))} is not an image reference (e.g. python:3.12-slim)"
        )
    tag, digest = match.group("tag"), match.group("digest")
    if digest is None and (tag is None or tag == "latest"):
        raise ConfigError(
            f"the base image {quote(base_image)} is not pinned: give a tag other than latest "
            "(python:3.12-slim) or a digest (python@sha256:…)"
        )


def _copy_package(source: Path, dest: Path) -> None:
    """Copy the package's regular files and folders; a link or a special file is refused (it could point anywhere)."""
    dest.mkdir()
    for folder, dirs, files in os.walk(source):
        here = Path(folder)
        target = dest / here.relative_to(source)
        for name in sorted(dirs) + sorted(files):
            path = here / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                raise ConfigError(f"{path}: a link or special file in the package: rebuild the package without it")
        for name in dirs:
            (target / name).mkdir()
        for name in files:
            shutil.copyfile(here / name, target / name)
