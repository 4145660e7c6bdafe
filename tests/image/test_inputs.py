"""alops.image.inputs: the tag of a job image is a hash of exactly the files it is built from."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from alops.errors import ConfigError
from alops.image.inputs import image_name, input_files, tag_of

NAME = "registry.example.com/grp/proj/alops-job"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "runners/image").mkdir(parents=True)
    (root / "runners/image/Dockerfile").write_text("FROM python:3.11.13-slim-bookworm\n")
    (root / "runners/image/Dockerfile.dockerignore").write_text("*\n!uv.lock\n")
    (root / "uv.lock").write_text("version = 1\n")
    (root / "src/alops").mkdir(parents=True)
    (root / "src/alops/__init__.py").write_text("")
    git(root, "init", "-q")
    git(root, "add", ".")
    return root


def tag(root: Path, *inputs: str) -> str:
    return tag_of(root, "runners/image/Dockerfile", inputs, NAME).tag


def test_the_hash_is_sha256_over_sorted_length_prefixed_paths_and_bytes(repo: Path) -> None:
    digest = hashlib.sha256()
    for path in ["runners/image/Dockerfile", "runners/image/Dockerfile.dockerignore", "uv.lock"]:
        for part in (path.encode(), (repo / path).read_bytes()):
            digest.update(len(part).to_bytes(8, "big") + part)
    found = tag_of(repo, "runners/image/Dockerfile", ["uv.lock"], NAME)
    assert found.tag == "deps-" + digest.hexdigest()[:16]
    assert found.ref == f"{NAME}:{found.tag}"
    assert found.files == ("runners/image/Dockerfile", "runners/image/Dockerfile.dockerignore", "uv.lock")


def test_the_tag_is_the_same_from_another_cwd_and_with_other_spellings(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tag(repo, "uv.lock", "src")
    monkeypatch.chdir(repo / "src")
    assert tag_of(repo, str(repo / "runners/image/Dockerfile"), ["./src/", "uv.lock"], NAME).tag == first
    assert tag(repo, "src", "uv.lock", "uv.lock") == first  # order and repeats do not matter


@pytest.mark.parametrize("changed", ["uv.lock", "runners/image/Dockerfile", "runners/image/Dockerfile.dockerignore"])
def test_the_tag_changes_with_each_input(repo: Path, changed: str) -> None:
    before = tag(repo, "uv.lock")
    with (repo / changed).open("a") as f:
        f.write("# changed\n")
    assert tag(repo, "uv.lock") != before


def test_a_moved_file_with_the_same_bytes_changes_the_tag(repo: Path) -> None:
    before = tag(repo, "src")
    (repo / "src/alops/__init__.py").rename(repo / "src/alops/other.py")
    git(repo, "add", "-A", "src")
    assert tag(repo, "src") != before


def test_an_untracked_file_in_an_input_folder_does_not_change_the_tag(repo: Path) -> None:
    before = tag(repo, "src")
    (repo / "src/alops/__pycache__").mkdir()
    (repo / "src/alops/__pycache__/x.pyc").write_bytes(b"junk")
    (repo / "src/alops/scratch.py").write_text("print(1)\n")
    assert tag(repo, "src") == before
    git(repo, "add", "src/alops/scratch.py")
    assert tag(repo, "src") != before


def test_no_dockerignore_is_no_input(repo: Path) -> None:
    (repo / "runners/image/Dockerfile.dockerignore").unlink()
    assert input_files(repo, "runners/image/Dockerfile", ["uv.lock"]) == ["runners/image/Dockerfile", "uv.lock"]


@pytest.mark.parametrize(
    ("dockerfile", "inputs", "message"),
    [
        ("runners/image/Dockerfile.gpu", [], "the Dockerfile runners/image/Dockerfile.gpu does not exist"),
        ("runners/image/Dockerfile", ["requirements.txt"], "the image input requirements.txt does not exist"),
        ("runners/image/Dockerfile", ["../outside"], "--input '../outside' is outside the repository"),
    ],
)
def test_a_missing_input_is_a_config_error_naming_it(
    repo: Path, dockerfile: str, inputs: list[str], message: str
) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace(".", r"\.")):
        input_files(repo, dockerfile, inputs)


def test_a_folder_without_tracked_files_is_an_error(repo: Path) -> None:
    (repo / "empty").mkdir()
    (repo / "empty/untracked").write_text("x")
    with pytest.raises(ConfigError, match="the image input empty holds no git-tracked file"):
        input_files(repo, "runners/image/Dockerfile", ["empty"])


def test_the_default_name_is_under_ci_registry_image() -> None:
    assert image_name(None, {"CI_REGISTRY_IMAGE": "registry.example.com/grp/proj"}) == NAME
    assert image_name("localhost:5000/job-gpu", {}) == "localhost:5000/job-gpu"
    with pytest.raises(ConfigError, match="^no image name: pass --name"):
        image_name(None, {})


@pytest.mark.parametrize(
    "hostile",
    [
        "reg.example.com/a b",
        "reg.example.com/a\nALOPS_JOB_IMAGE=evil",
        "reg.example.com/$HOME",
        "Reg/Upper",
        "a:tag/b:1",
        "reg/x:latest",
        "reg/x@sha256:00",
        "reg/x'",
    ],
)
def test_hostile_names_are_refused(hostile: str) -> None:
    with pytest.raises(ConfigError, match="is not a registry image name"):
        image_name(hostile, {})
