"""Where released packages live: GitLab's generic package registry in CI, a local folder otherwise.

A registry never rewrites a version: uploading a version that is there with other
bytes is a DataError; with the same bytes it is a no-op (a retried job).

GitLab (https://docs.gitlab.com/user/packages/generic_packages/): one generic package
per model, one package version per release, two files in it (the archive and the
run's ``alops-manifest.json``). The CI job token can publish and download them. Each
file is limited by the instance's "Maximum generic package file size" (5 GiB by
default; Admin > Settings > CI/CD > Package registry > Package file size limits).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from alops import env as variables
from alops.errors import ConfigError, DataError, ToolError
from alops.release.notes import Link

if TYPE_CHECKING:
    import gitlab

    from alops.release.package import Package

MANIFEST = "alops-manifest.json"
#: alops's model names (alops.yaml's release.model); all of them are valid GitLab package names too.
_MODEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?")
#: GitLab's own rules, checked as well: a name or version goes into the URL path as is.
_GITLAB_NAME = re.compile(r"[A-Za-z0-9._-]+")
_GITLAB_VERSION = re.compile(r"(\.?[\w+-]+\.?)+", re.ASCII)
_ATTEMPTS = 3
_CHUNK = 1 << 20


class Registry(Protocol):
    """A package registry: upload a version once, download it, list the versions of a model."""

    where: str  # for messages: "GitLab package registry of project 42", a folder

    def upload(self, package: Package, manifest_file: Path) -> list[Link]: ...

    def download(self, model: str, version: str, dest_dir: Path) -> Path: ...

    def versions(self, model: str) -> list[str]: ...


def check(model: str, version: str | None = None) -> None:
    """ConfigError unless ``model`` is a model name and ``version`` an ``X.Y.Z`` (they go into paths and URLs)."""
    from alops.release.version import Version

    if not (_MODEL.fullmatch(model) and _GITLAB_NAME.fullmatch(model)):
        raise ConfigError(
            f"{model!r} is not a model name: lowercase letters, digits and '-', starting and ending with a letter "
            "or digit (release.model in alops.yaml)"
        )
    if version is None:
        return
    try:
        ok = str(Version.parse(version)) == version and bool(_GITLAB_VERSION.fullmatch(version))
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{version!r} is not a version: expected MAJOR.MINOR.PATCH such as 1.2.0")


def sort_versions(found: set[str]) -> list[str]:
    """Versions oldest first (by number: 1.10.0 after 1.9.0); anything else is left out."""
    from alops.release.version import Version

    parsed = []
    for text in found:
        try:
            if str(Version.parse(text)) == text:
                parsed.append(Version.parse(text))
        except ValueError:
            continue
    return [str(v) for v in sorted(parsed)]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(package: Package, manifest_file: Path) -> list[tuple[str, Path]]:
    from alops.release.package import file_name

    check(package.model, package.version)
    if not manifest_file.is_file():
        raise DataError(f"{manifest_file}: file not found: give the alops-manifest.json of the released run")
    return [(file_name(package.model, package.version), package.archive), (MANIFEST, manifest_file)]


class LocalRegistry:
    """``root/<model>/<version>/`` holding the archive and ``alops-manifest.json`` (default ``.alops/registry``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = f"the local registry {root}"

    def upload(self, package: Package, manifest_file: Path) -> list[Link]:
        from alops import atomic

        files = _files(package, manifest_file)
        folder = self.root / package.model / package.version
        if not folder.is_dir():
            staged = folder.with_name(f".{folder.name}.alops-tmp-{secrets.token_hex(4)}")
            with atomic.writing_to(folder):
                try:
                    staged.mkdir(parents=True)
                    for name, path in files:
                        shutil.copyfile(path, staged / name)
                    os.rename(staged, folder)  # fails when a job beside this one put the version there first
                except OSError as exc:
                    atomic.remove(staged)
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
        for name, path in files:
            there = folder / name
            if not there.is_file() or sha256(there) != sha256(path):
                raise DataError(
                    f"{folder} already holds {package.model} {package.version} with other bytes in {name}: a "
                    "registry never rewrites a version: release a new version"
                )
        return [Link(name, (folder / name).resolve().as_uri(), "package") for name, _ in files]

    def download(self, model: str, version: str, dest_dir: Path) -> Path:
        from alops import atomic
        from alops.release.package import file_name

        check(model, version)
        source = self.root / model / version / file_name(model, version)
        if not source.is_file():
            raise DataError(_absent(model, version, self.where, self.versions(model)))
        dest = dest_dir / source.name
        with atomic.writing_to(dest), atomic.replacing(dest, folder=False) as tmp:
            shutil.copyfile(source, tmp)
        return dest

    def versions(self, model: str) -> list[str]:
        from alops.release.package import file_name

        check(model)
        base = self.root / model
        found = {p.name for p in base.iterdir() if (p / file_name(model, p.name)).is_file()} if base.is_dir() else set()
        return sort_versions(found)


def _absent(model: str, version: str, where: str, versions: list[str]) -> str:
    there = f"it has {', '.join(versions)}" if versions else f"it has no version of {model}"
    return f"{model} {version} is not in {where} ({there}): release it first (`alops release` on its release branch)"


class GenericPackages:
    """GitLab's generic package registry of one project, through python-gitlab."""

    def __init__(self, client: gitlab.Gitlab, project_id: int | str, api_url: str) -> None:
        self.client = client
        self.project_id = project_id
        self.api_url = api_url.rstrip("/")
        self.where = f"the GitLab package registry of project {project_id}"

    def _project(self) -> Any:
        return self.client.projects.get(self.project_id, lazy=True)

    def url(self, model: str, version: str, name: str) -> str:
        """The file's download URL, as a GitLab Release's asset link (link_type package) gives it."""
        from alops.gitlab import quote_ref

        project = quote_ref(str(self.project_id))
        return f"{self.api_url}/projects/{project}/packages/generic/{model}/{version}/{name}"

    def upload(self, package: Package, manifest_file: Path) -> list[Link]:
        files = _files(package, manifest_file)
        there = self._uploaded(package.model, package.version)
        for name, path in files:
            digest = sha256(path)
            if name in there:
                if there[name] != digest:
                    raise DataError(
                        f"{self.where} already holds {package.model} {package.version} with another {name} "
                        f"(sha256 {there[name][:12]}…, this one {digest[:12]}…): a registry never rewrites a "
                        "version: release a new version"
                    )
                continue
            self._put(package.model, package.version, name, path, digest)
        return [Link(name, self.url(package.model, package.version, name), "package") for name, _ in files]

    def _put(self, model: str, version: str, name: str, path: Path, digest: str) -> None:
        import gitlab.exceptions
        import requests

        from alops.gitlab import reaching

        what = f"upload {name} to {self.where}"
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with reaching(self.client), path.open("rb") as fh:
                    # A file object streams (python-gitlab would read `path` into memory) but cannot be sent
                    # twice: python-gitlab's own retries are off here, and each attempt opens the file again.
                    answer = self._project().generic_packages.upload(
                        package_name=model,
                        package_version=version,
                        file_name=name,
                        data=fh,
                        select="package_file",
                        retry_transient_errors=False,
                        max_retries=0,
                    )
            except gitlab.exceptions.GitlabError as exc:
                code = getattr(exc, "response_code", None)
                if code in (429, 500, 502, 503, 504) and attempt < _ATTEMPTS:
                    time.sleep(attempt)
                    continue
                raise self._error(exc, what, path) from None
            except ToolError:
                if attempt < _ATTEMPTS:
                    time.sleep(attempt)
                    continue
                raise
            except requests.exceptions.RequestException as exc:  # pragma: no cover - reaching() maps these
                raise ToolError(f"cannot {what}: {exc}") from None
            got = getattr(answer, "file_sha256", None)
            if got and got != digest:
                raise ToolError(
                    f"GitLab stored {name} of {model} {version} with sha256 {got[:12]}…, not {digest[:12]}…: the "
                    f"upload was damaged on the way: delete that package version in {self.where} and run again"
                )
            return

    def _uploaded(self, model: str, version: str) -> dict[str, str]:
        """File name -> sha256 of the files of ``model`` ``version`` already there (the newest of each name)."""
        import gitlab.exceptions
        from gitlab.v4.objects import ProjectPackage

        from alops.gitlab import reaching

        project = self._project()
        found: dict[str, tuple[int, str]] = {}
        try:
            with reaching(self.client):
                for pkg in project.packages.list(
                    package_name=model, package_version=version, package_type="generic", iterator=True
                ):
                    if pkg.name != model or pkg.version != version:  # GitLab's filter matches parts of names
                        continue
                    # The list entries carry no project_id, which python-gitlab's package_files path needs.
                    known = ProjectPackage(project.packages, {"id": pkg.id, "project_id": self.project_id}, lazy=True)
                    for f in known.package_files.list(iterator=True):
                        if f.file_name not in found or int(f.id) > found[f.file_name][0]:
                            found[f.file_name] = (int(f.id), str(f.file_sha256 or ""))
        except gitlab.exceptions.GitlabError as exc:
            raise self._error(exc, f"list {model} {version} in {self.where}", None) from None
        return {name: digest for name, (_, digest) in found.items()}

    def download(self, model: str, version: str, dest_dir: Path) -> Path:
        import gitlab.exceptions

        from alops import atomic
        from alops.gitlab import reaching
        from alops.release.package import file_name, read_meta

        check(model, version)
        name = file_name(model, version)
        dest = dest_dir / name
        try:
            with atomic.writing_to(dest), atomic.replacing(dest, folder=False) as tmp:
                with reaching(self.client), tmp.open("wb") as fh:
                    self._project().generic_packages.download(
                        package_name=model,
                        package_version=version,
                        file_name=name,
                        streamed=True,
                        action=fh.write,
                        chunk_size=_CHUNK,
                    )
                meta = read_meta(tmp)
                if (meta["model"], meta["version"]) != (model, version):
                    raise DataError(
                        f"{name} in {self.where} holds {meta['model']} {meta['version']}, not {model} {version}: "
                        "someone uploaded it by hand: delete that package version and release again"
                    )
        except gitlab.exceptions.GitlabError as exc:
            if getattr(exc, "response_code", None) == 404:
                raise DataError(_absent(model, version, self.where, self.versions(model))) from None
            raise self._error(exc, f"download {name} from {self.where}", None) from None
        return dest

    def versions(self, model: str) -> list[str]:
        import gitlab.exceptions

        from alops.gitlab import reaching

        check(model)
        try:
            with reaching(self.client):
                found = {
                    str(p.version)
                    for p in self._project().packages.list(package_name=model, package_type="generic", iterator=True)
                    if p.name == model
                }
        except gitlab.exceptions.GitlabError as exc:
            raise self._error(exc, f"list the versions of {model} in {self.where}", None) from None
        return sort_versions(found)

    def _error(self, exc: Exception, what: str, path: Path | None) -> Exception:
        from alops.gitlab import api_error, redact

        code = getattr(exc, "response_code", None)
        said = redact(str(getattr(exc, "error_message", "") or exc), self.client)
        if code in (401, 403):
            return DataError(
                f"GitLab refused to {what} ({code}: {said}): in a CI job the job token (CI_JOB_TOKEN) can publish "
                f"and read the project's packages; otherwise set {variables.GITLAB_TOKEN} to a token with the api "
                "scope (role Developer or higher); and check that the package registry is on for the project "
                "(Settings > General > Visibility > Package registry)"
            )
        if code == 413 and path is not None:
            size = path.stat().st_size / (1 << 20)
            return ToolError(
                f"GitLab refused to {what}: {path.name} is {size:.1f} MiB, over the instance's maximum generic "
                "package file size (5 GiB by default): an administrator can raise it in Admin > Settings > CI/CD > "
                "Package registry > Package file size limits, or make the model smaller"
            )
        if code == 404:
            return ConfigError(
                f"GitLab cannot {what}: not found ({said}): check CI_PROJECT_ID and that the package registry is on "
                "for the project (Settings > General > Visibility > Package registry)"
            )
        return api_error(exc, self.client, what)


def from_env(root: Path, env: Mapping[str, str]) -> Registry:
    """GitLab's registry when a server, a project and a token are set (a CI job); else the local folder.

    GitLab: ``CI_API_V4_URL`` (or ``ALOPS_GITLAB_URL``), ``CI_PROJECT_ID`` and
    ``ALOPS_GITLAB_TOKEN`` or ``CI_JOB_TOKEN``. Local: ``ALOPS_REGISTRY_DIR`` (relative to
    the project) or ``.alops/registry``.
    """
    server = env.get(variables.CI_API_V4_URL) or env.get(variables.GITLAB_URL)
    project = env.get(variables.CI_PROJECT_ID)
    token = env.get(variables.GITLAB_TOKEN, "").strip() or env.get(variables.CI_JOB_TOKEN, "").strip()
    if server and project and token:
        from alops.gitlab import client_from_env, server_url

        api = env.get(variables.CI_API_V4_URL) or f"{server_url(env)}/api/v4"
        return GenericPackages(client_from_env(env), project, api)
    folder = env.get(variables.REGISTRY_DIR)
    return LocalRegistry(root / folder if folder else root / ".alops" / "registry")
