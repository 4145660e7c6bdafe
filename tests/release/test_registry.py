"""Package registries: a local folder (for real), GitLab's generic packages (through ``responses``)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from alops.errors import ConfigError, DataError, ToolError
from alops.release import package, registry
from alops.release.notes import Link
from alops.release.registry import GenericPackages, LocalRegistry

API = "https://gitlab.example.com/api/v4"
PROJECT = f"{API}/projects/42"
JOB_TOKEN = "job-token-0123456789"
ENV = {"CI_API_V4_URL": API, "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": JOB_TOKEN}
GENERIC = f"{PROJECT}/packages/generic/digits/1.2.0"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def built(tmp_path: Path) -> tuple[package.Package, Path]:
    from release.test_package import make_manifest, make_project, make_release

    root = make_project(tmp_path / "repo")
    manifest = make_manifest()
    manifest_file = tmp_path / "alops-manifest.json"
    manifest_file.write_text(json.dumps(manifest))
    return package.build(root, make_release(), manifest, "1.2.0", tmp_path / "out"), manifest_file


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the local folder ------------------------------------------------------------------------------


def test_local_upload_download_and_versions(tmp_path: Path, built: tuple[package.Package, Path]) -> None:
    pkg, manifest_file = built
    reg = LocalRegistry(tmp_path / "registry")
    assert reg.versions("digits") == []
    links = reg.upload(pkg, manifest_file)
    folder = tmp_path / "registry" / "digits" / "1.2.0"
    assert sorted(p.name for p in folder.iterdir()) == ["alops-manifest.json", "digits-1.2.0.tar.gz"]
    assert links == [
        Link("digits-1.2.0.tar.gz", (folder / "digits-1.2.0.tar.gz").as_uri(), "package"),
        Link("alops-manifest.json", (folder / "alops-manifest.json").as_uri(), "package"),
    ]
    assert reg.upload(pkg, manifest_file) == links  # a retried job: the same bytes are fine
    got = reg.download("digits", "1.2.0", tmp_path / "down")
    assert got == tmp_path / "down" / "digits-1.2.0.tar.gz"
    assert got.read_bytes() == pkg.archive.read_bytes()
    (tmp_path / "registry" / "digits" / "1.10.0").mkdir()
    (tmp_path / "registry" / "digits" / "1.10.0" / "digits-1.10.0.tar.gz").write_bytes(b"x")
    (tmp_path / "registry" / "digits" / "0.9.0").mkdir()  # no archive: not a version
    (tmp_path / "registry" / "digits" / "junk").mkdir()
    assert reg.versions("digits") == ["1.2.0", "1.10.0"]


def test_local_never_rewrites_a_version(tmp_path: Path, built: tuple[package.Package, Path]) -> None:
    pkg, manifest_file = built
    reg = LocalRegistry(tmp_path / "registry")
    reg.upload(pkg, manifest_file)
    before = (tmp_path / "registry" / "digits" / "1.2.0" / "alops-manifest.json").read_bytes()
    manifest_file.write_text("{}")
    with pytest.raises(DataError, match=r"already holds digits 1.2.0 with other bytes in alops-manifest.json: a regi"):
        reg.upload(pkg, manifest_file)
    assert (tmp_path / "registry" / "digits" / "1.2.0" / "alops-manifest.json").read_bytes() == before


def test_local_download_of_an_absent_version_lists_what_is_there(
    tmp_path: Path, built: tuple[package.Package, Path]
) -> None:
    reg = LocalRegistry(tmp_path / "registry")
    with pytest.raises(
        DataError, match=r"digits 1.3.0 is not in the local registry .* \(it has no version of digits\)"
    ):
        reg.download("digits", "1.3.0", tmp_path / "down")
    reg.upload(*built)
    with pytest.raises(DataError, match=r"\(it has 1.2.0\): release it first"):
        reg.download("digits", "1.3.0", tmp_path / "down")


@pytest.mark.parametrize(
    ("model", "version"),
    [("../etc", "1.0.0"), ("Digits", "1.0.0"), ("digits", "../1.0.0"), ("digits", "1.0"), ("digits", "v1.0.0")],
)
def test_hostile_names_and_versions_never_reach_a_path(tmp_path: Path, model: str, version: str) -> None:
    with pytest.raises(ConfigError, match="is not a"):
        LocalRegistry(tmp_path).download(model, version, tmp_path / "down")
    assert list(tmp_path.iterdir()) == []


def test_from_env_picks_gitlab_in_ci_and_the_folder_otherwise(tmp_path: Path) -> None:
    gl = registry.from_env(tmp_path, ENV)
    assert isinstance(gl, GenericPackages)
    assert gl.where == "the GitLab package registry of project 42"
    assert gl.client.job_token == JOB_TOKEN
    assert gl.url("digits", "1.2.0", "digits-1.2.0.tar.gz") == f"{GENERIC}/digits-1.2.0.tar.gz"
    local = registry.from_env(tmp_path, {"CI_API_V4_URL": API, "CI_PROJECT_ID": "42"})  # no token
    assert isinstance(local, LocalRegistry) and local.root == tmp_path / ".alops" / "registry"
    chosen = registry.from_env(tmp_path, {"ALOPS_REGISTRY_DIR": "reg"})
    assert isinstance(chosen, LocalRegistry) and chosen.root == tmp_path / "reg"
    token = registry.from_env(
        tmp_path, {"ALOPS_GITLAB_URL": "https://gl.example", "CI_PROJECT_ID": "7", "ALOPS_GITLAB_TOKEN": "glpat-x"}
    )
    assert isinstance(token, GenericPackages) and token.api_url == "https://gl.example/api/v4"


# --- GitLab's generic packages ----------------------------------------------------------------------


def gitlab_registry() -> GenericPackages:
    found = registry.from_env(Path("/nonexistent"), ENV)
    assert isinstance(found, GenericPackages)
    return found


def listing(api: responses.RequestsMock, packages: list[dict[str, Any]], version: str | None = "1.2.0") -> None:
    query = {"package_name": "digits", "package_type": "generic"} | ({"package_version": version} if version else {})
    api.get(
        f"{PROJECT}/packages",
        json=packages,
        match=[matchers.query_param_matcher(query), matchers.header_matcher({"JOB-TOKEN": JOB_TOKEN})],
    )


def body_of(request: Any) -> bytes:
    body = request.body
    return body.read() if hasattr(body, "read") else bytes(body or b"")


def put(api: responses.RequestsMock, name: str, path: Path, status: int = 201, **extra: Any) -> list[bytes]:
    seen: list[bytes] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(body_of(request))
        body = {"id": 9, "file_name": name, "file_sha256": sha(path)} | extra
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    api.add_callback(
        responses.PUT,
        f"{GENERIC}/{name}",
        callback=answer,
        match=[
            matchers.query_param_matcher({"select": "package_file"}),
            matchers.header_matcher({"JOB-TOKEN": JOB_TOKEN}),
        ],
    )
    return seen


def test_upload_puts_both_files_and_returns_package_links(
    api: responses.RequestsMock, built: tuple[package.Package, Path]
) -> None:
    pkg, manifest_file = built
    listing(api, [])
    archive_sent = put(api, "digits-1.2.0.tar.gz", pkg.archive)
    manifest_sent = put(api, "alops-manifest.json", manifest_file)
    links = gitlab_registry().upload(pkg, manifest_file)
    assert archive_sent == [pkg.archive.read_bytes()]
    assert manifest_sent == [manifest_file.read_bytes()]
    assert links == [
        Link("digits-1.2.0.tar.gz", f"{GENERIC}/digits-1.2.0.tar.gz", "package"),
        Link("alops-manifest.json", f"{GENERIC}/alops-manifest.json", "package"),
    ]


def package_files(api: responses.RequestsMock, files: list[dict[str, Any]]) -> None:
    listing(
        api, [{"id": 5, "name": "digits-extra", "version": "1.2.0"}, {"id": 7, "name": "digits", "version": "1.2.0"}]
    )
    api.get(f"{PROJECT}/packages/7/package_files", json=files)


def test_a_retried_upload_sends_only_what_is_missing(
    api: responses.RequestsMock, built: tuple[package.Package, Path]
) -> None:
    pkg, manifest_file = built
    package_files(api, [{"id": 1, "file_name": "digits-1.2.0.tar.gz", "file_sha256": sha(pkg.archive)}])
    sent = put(api, "alops-manifest.json", manifest_file)
    gitlab_registry().upload(pkg, manifest_file)
    assert len(sent) == 1


def test_a_version_there_with_other_bytes_is_never_rewritten(
    api: responses.RequestsMock, built: tuple[package.Package, Path]
) -> None:
    pkg, manifest_file = built
    package_files(
        api,
        [
            {"id": 1, "file_name": "digits-1.2.0.tar.gz", "file_sha256": sha(pkg.archive)},
            {"id": 3, "file_name": "digits-1.2.0.tar.gz", "file_sha256": "b" * 64},  # the newest is what GitLab serves
        ],
    )
    with pytest.raises(DataError, match=r"already holds digits 1.2.0 with another digits-1.2.0.tar.gz \(sha256 bbbbbb"):
        gitlab_registry().upload(pkg, manifest_file)


def test_a_transient_failure_is_retried_with_the_whole_file(
    api: responses.RequestsMock, built: tuple[package.Package, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("alops.release.registry.time.sleep", lambda s: None)
    pkg, manifest_file = built
    listing(api, [])
    failed = put(api, "digits-1.2.0.tar.gz", pkg.archive, status=502)
    api.add(responses.PUT, f"{GENERIC}/digits-1.2.0.tar.gz", body=requests.exceptions.ConnectionError("reset"))
    archive_sent = put(api, "digits-1.2.0.tar.gz", pkg.archive)
    put(api, "alops-manifest.json", manifest_file)
    gitlab_registry().upload(pkg, manifest_file)
    assert failed == [pkg.archive.read_bytes()]
    assert archive_sent == [pkg.archive.read_bytes()]  # the third attempt sends the file from its start


def test_a_damaged_upload_is_a_tool_error(api: responses.RequestsMock, built: tuple[package.Package, Path]) -> None:
    pkg, manifest_file = built
    listing(api, [])
    put(api, "digits-1.2.0.tar.gz", pkg.archive, file_sha256="c" * 64)
    with pytest.raises(ToolError, match=r"GitLab stored digits-1.2.0.tar.gz of digits 1.2.0 with sha256 cccccccccccc…"):
        gitlab_registry().upload(pkg, manifest_file)


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [
        (401, DataError, r"GitLab refused to upload digits-1.2.0.tar.gz .*\(401: .*the job token \(CI_JOB_TOKEN\) can"),
        (403, DataError, r"\(403: .*ALOPS_GITLAB_TOKEN to a token with the api scope .*Package registry\)"),
        (404, ConfigError, r"not found .*check CI_PROJECT_ID and that the package registry is on"),
        (413, ToolError, r"digits-1.2.0.tar.gz is 0.0 MiB, over .*\(5 GiB by default\): an administrator can raise"),
        (400, ToolError, r"GitLab failed to upload digits-1.2.0.tar.gz .* \(400: bad\)"),
    ],
)
def test_refusals_say_what_to_do_and_never_show_the_token(
    api: responses.RequestsMock, built: tuple[package.Package, Path], status: int, error: type, says: str
) -> None:
    pkg, manifest_file = built
    listing(api, [])
    api.put(f"{GENERIC}/digits-1.2.0.tar.gz", status=status, json={"message": f"bad {JOB_TOKEN}"[:3]})
    with pytest.raises(error, match=says) as err:
        gitlab_registry().upload(pkg, manifest_file)
    assert JOB_TOKEN not in str(err.value)


def test_download_streams_to_the_file_and_checks_it(
    api: responses.RequestsMock, built: tuple[package.Package, Path], tmp_path: Path
) -> None:
    pkg, _ = built
    api.get(
        f"{GENERIC}/digits-1.2.0.tar.gz",
        body=pkg.archive.read_bytes(),
        content_type="application/octet-stream",
        match=[matchers.header_matcher({"JOB-TOKEN": JOB_TOKEN})],
    )
    got = gitlab_registry().download("digits", "1.2.0", tmp_path / "down")
    assert got == tmp_path / "down" / "digits-1.2.0.tar.gz"
    assert got.read_bytes() == pkg.archive.read_bytes()
    # Written chunk by chunk, never held in memory:
    assert api.calls[0].request.req_kwargs["stream"] is True  # type: ignore[attr-defined]


def test_download_of_an_absent_version_lists_the_versions_there(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.get(f"{GENERIC}/digits-1.2.0.tar.gz", status=404, json={"message": "404 Package Not Found"})
    listing(
        api,
        [
            {"id": 1, "name": "digits", "version": "1.10.0"},
            {"id": 2, "name": "digits", "version": "1.9.0"},
            {"id": 3, "name": "digits-other", "version": "3.0.0"},
        ],
        version=None,
    )
    with pytest.raises(
        DataError, match=r"digits 1.2.0 is not in the GitLab package registry of project 42 \(it has 1.9"
    ):
        gitlab_registry().download("digits", "1.2.0", tmp_path / "down")
    assert not (tmp_path / "down" / "digits-1.2.0.tar.gz").exists()


def test_a_downloaded_file_that_is_not_the_package_is_refused(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.get(f"{GENERIC}/digits-1.2.0.tar.gz", body=b"<html>sign in</html>")
    with pytest.raises(DataError, match="is not an alops package"):
        gitlab_registry().download("digits", "1.2.0", tmp_path / "down")
    assert not (tmp_path / "down" / "digits-1.2.0.tar.gz").exists()


def test_an_unreachable_gitlab_is_a_tool_error(api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("gitlab.utils.time.sleep", waits.append)  # python-gitlab's backoff, without the minutes
    api.get(f"{PROJECT}/packages", body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(ToolError, match="GitLab at https://gitlab.example.com cannot be reached"):
        gitlab_registry().versions("digits")
    assert len(waits) == 10  # python-gitlab retried first (its default for transient errors)


def test_local_upload_that_loses_a_race_keeps_the_first_version(
    tmp_path: Path, built: tuple[package.Package, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg, manifest_file = built
    folder = tmp_path / "registry" / "digits" / "1.2.0"
    real_rename = os.rename

    def first_there(src: str, dst: str) -> None:  # another job renames its version into place just before this one
        folder.mkdir(parents=True)
        (folder / "digits-1.2.0.tar.gz").write_bytes(b"the other job's bytes")
        real_rename(src, dst)

    monkeypatch.setattr("alops.release.registry.os.rename", first_there)
    with pytest.raises(DataError, match="already holds digits 1.2.0 with other bytes in digits-1.2.0.tar.gz"):
        LocalRegistry(tmp_path / "registry").upload(pkg, manifest_file)
    assert (folder / "digits-1.2.0.tar.gz").read_bytes() == b"the other job's bytes"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["1.2.0"]  # no staging folder left
