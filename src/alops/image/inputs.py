"""The tag of a job image: a hash of the files it is built from.

The hash covers, in sorted order of path, each input's repository-relative POSIX
path and bytes: the Dockerfile, its ``<Dockerfile>.dockerignore`` when there is one,
and every extra input (a file, or a folder: the git-tracked files under it, so an
untracked file in the checkout does not change the tag). A tag that exists in the
registry therefore names an image built from exactly these bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from alops import env as variables
from alops import git
from alops.errors import ConfigError

#: Hex digits of the sha256 in the tag: 64 bits, far from any collision among one project's images.
DIGITS = 16
TAG_PREFIX = "deps-"
#: An image name as the registry and a dotenv report both take it: no whitespace, quotes or `$`
#: (https://github.com/distribution/reference/blob/main/reference.go grammar, lower case path, host:port).
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*\Z")


@dataclass(frozen=True)
class ImageTag:
    """An image name and the tag its inputs give it."""

    name: str
    tag: str
    files: tuple[str, ...]

    @property
    def ref(self) -> str:
        """``NAME:TAG``."""
        return f"{self.name}:{self.tag}"


def image_name(name: str | None, env: Mapping[str, str]) -> str:
    """``name``, or ``$CI_REGISTRY_IMAGE/alops-job``; checked to be a plain image name."""
    if not name:
        registry = env.get(variables.CI_REGISTRY_IMAGE, "")
        if not registry:
            raise ConfigError(
                f"no image name: pass --name (e.g. registry.example.com/group/project/alops-job); "
                f"in a CI job {variables.CI_REGISTRY_IMAGE} gives the default $CI_REGISTRY_IMAGE/alops-job"
            )
        name = f"{registry}/alops-job"
    if not _NAME.match(name):
        from alops.text import quote

        raise ConfigError(
            f"image name {quote(name)} is not a registry image name: use lower-case letters, digits, `.`, `_`, `-` "
            "and `/` (a host may have a :port), without a tag, whitespace or `$`"
        )
    return name


def input_files(root: Path, dockerfile: str, inputs: Sequence[str]) -> list[str]:
    """The repository-relative POSIX paths the tag covers, sorted; a missing input is a ConfigError."""
    files = set()
    docker = _relative(root, dockerfile, "--dockerfile")
    if not (root / docker).is_file():
        raise ConfigError(f"the Dockerfile {docker} does not exist: pass --dockerfile with a path from {root}")
    files.add(docker)
    ignore = f"{docker}.dockerignore"
    if (root / ignore).is_file():
        files.add(ignore)
    for given in inputs:
        path = _relative(root, given, "--input")
        if (root / path).is_file():
            files.add(path)
        elif (root / path).is_dir():
            files.update(_tracked(root, path))
        else:
            raise ConfigError(f"the image input {path} does not exist: pass --input with a file or folder from {root}")
    return sorted(files)


def tag_of(root: Path, dockerfile: str, inputs: Sequence[str], name: str) -> ImageTag:
    """The image ``name`` tagged ``deps-<hash>`` of the Dockerfile and ``inputs`` under ``root``."""
    files = input_files(root, dockerfile, inputs)
    digest = hashlib.sha256()
    for path in files:
        data = (root / path).read_bytes()
        # Length-prefixed, so no two different sets of (path, bytes) give the same stream.
        for part in (path.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return ImageTag(name=name, tag=TAG_PREFIX + digest.hexdigest()[:DIGITS], files=tuple(files))


def _relative(root: Path, given: str, option: str) -> str:
    from alops.text import quote

    path = Path(given)
    absolute = path if path.is_absolute() else root / path
    try:
        relative = absolute.resolve().relative_to(root.resolve())
    except ValueError:
        raise ConfigError(f"{option} {quote(given)} is outside the repository {root}: name a path inside it") from None
    return PurePosixPath(relative).as_posix()


def _tracked(root: Path, folder: str) -> list[str]:
    listed = git.output(root, "ls-files", "-z", "--", folder, strip=False)
    if listed is None:
        raise ConfigError(f"cannot list the git-tracked files of {folder}: run alops image from a git checkout")
    files = [name for name in listed.split("\0") if name]
    if not files:
        raise ConfigError(f"the image input {folder} holds no git-tracked file: commit its files or drop it")
    # ls-files lists paths relative to the cwd given; run from the root, they are root-relative.
    return [name for name in files if (root / name).is_file()]
