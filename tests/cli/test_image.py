"""alops image tag / resolve (the commands): output, exit codes, the dotenv the plan job leaves."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from alops.cli import cli
from alops.image.inputs import tag_of

API = "https://gitlab.example.com/api/v4"
REPOS = f"{API}/projects/42/registry/repositories"
REGISTRY = "registry.example.com/grp/proj"
NAME = f"{REGISTRY}/alops-job"
ENV = {
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_JOB_TOKEN": "job-token-0123456789abcdef",
    "CI_PROJECT_ID": "42",
    "CI_REGISTRY_IMAGE": REGISTRY,
}
DIGEST = "sha256:" + "cd" * 32


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "runners/image").mkdir(parents=True)
    (tmp_path / "runners/image/Dockerfile").write_text("FROM python:3.11.13-slim-bookworm\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["image", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def expected_tag(repo: Path, name: str = NAME) -> str:
    return tag_of(repo, "runners/image/Dockerfile", ["uv.lock"], name).tag


def test_tag_prints_the_name_and_hash_tag(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = invoke("tag", "--dockerfile", "runners/image/Dockerfile", "--input", "uv.lock", "--name", "r/job")
    assert (code, err) == (0, "")
    assert out == f"r/job:{expected_tag(repo)}\n"
    assert out.split(":")[1].startswith("deps-") and len(out.split(":")[1].strip()) == 5 + 16
    monkeypatch.setenv("CI_REGISTRY_IMAGE", REGISTRY)
    assert invoke("tag", "--dockerfile", "runners/image/Dockerfile", "--input", "uv.lock")[1] == (
        f"{NAME}:{expected_tag(repo)}\n"
    )


def test_tag_without_a_name_or_registry_exits_2(repo: Path) -> None:
    code, out, err = invoke("tag", "--dockerfile", "runners/image/Dockerfile")
    assert (code, out) == (2, "")
    assert err.startswith("Error: no image name: pass --name")


def test_tag_of_a_missing_input_exits_2_naming_it(repo: Path) -> None:
    code, out, err = invoke("tag", "--dockerfile", "runners/image/Dockerfile", "--input", "uv.lok", "--name", "r/j")
    assert (code, out) == (2, "")
    assert err.startswith("Error: the image input uv.lok does not exist")


def test_resolve_a_built_image_writes_its_digest(repo: Path, api: responses.RequestsMock) -> None:
    tag = expected_tag(repo)
    api.get(REPOS, json=[{"id": 5, "location": NAME}])
    api.get(f"{REPOS}/5/tags/{tag}", json={"name": tag, "digest": DIGEST})
    code, out, err = invoke(
        "resolve", "--dockerfile", "runners/image/Dockerfile", "--input", "uv.lock", "--dotenv", "i.env"
    )
    assert (code, err) == (0, "")
    assert out == f"{NAME}:{tag} is built: {NAME}@{DIGEST}\n"
    assert (repo / "i.env").read_text() == f"ALOPS_JOB_IMAGE={NAME}@{DIGEST}\nALOPS_JOB_IMAGE_TAG={NAME}:{tag}\n"


def test_resolve_a_missing_tag_asks_the_build_job_for_it(repo: Path, api: responses.RequestsMock) -> None:
    tag = expected_tag(repo, f"{REGISTRY}/job-gpu")
    api.get(REPOS, json=[{"id": 5, "location": NAME}, {"id": 6, "location": f"{REGISTRY}/job-gpu"}])
    api.get(f"{REPOS}/6/tags/{tag}", status=404, json={"message": "404 Tag Not Found"})
    args = ["--dockerfile", "runners/image/Dockerfile", "--input", "uv.lock", "--name", f"{REGISTRY}/job-gpu"]
    code, out, err = invoke("resolve", *args, "--dotenv", "i.env")
    assert (code, err) == (0, "")
    ref = f"{REGISTRY}/job-gpu:{tag}"
    assert out == f"{ref} is not in the registry: the image-build job builds it\n"
    assert (repo / "i.env").read_text() == f"ALOPS_IMAGE_BUILD={ref}\nALOPS_JOB_IMAGE_TAG={ref}\n"


def test_resolve_refused_exits_3_and_writes_nothing(repo: Path, api: responses.RequestsMock) -> None:
    api.get(REPOS, status=403, json={"message": "403 Forbidden"})
    code, out, err = invoke("resolve", "--dockerfile", "runners/image/Dockerfile", "--dotenv", "i.env")
    assert (code, out) == (3, "")
    assert err.startswith("Error: GitLab refused to read the container registry of project 42 (403: 403 Forbidden)")
    assert ENV["CI_JOB_TOKEN"] not in err
    assert not (repo / "i.env").exists()


@pytest.mark.parametrize("hostile", ["r/job\nALOPS_JOB_IMAGE=evil/x", "r/$CI_JOB_TOKEN", "r/a b"])
def test_resolve_refuses_a_hostile_name_before_any_request(
    repo: Path, api: responses.RequestsMock, hostile: str
) -> None:
    code, out, err = invoke(
        "resolve", "--dockerfile", "runners/image/Dockerfile", "--name", hostile, "--dotenv", "i.env"
    )
    assert (code, out) == (2, "")
    assert "is not a registry image name" in err and "\n" not in err.rstrip("\n")
    assert not (repo / "i.env").exists()
