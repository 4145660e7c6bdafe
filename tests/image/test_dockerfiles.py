"""runners/image/Dockerfile{,.gpu}: the job images install exactly what uv.lock pins.

No Docker engine here: hadolint lints them, and the build stage's `uv export` runs for real
against this checkout's uv.lock, so a lock without the group or extra a Dockerfile names fails here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from serve.test_image import hadolint
from test_runners import parse_dockerfile

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "runners/image"
CPU, GPU = IMAGE / "Dockerfile", IMAGE / "Dockerfile.gpu"
LOCK = tomllib.loads((REPO / "uv.lock").read_text("utf-8"))


def locked(name: str) -> str:
    return str(next(p["version"] for p in LOCK["package"] if p["name"] == name))


def arg_default(path: Path, name: str) -> str:
    found = re.findall(rf"^ARG {name}=(\S+)$", path.read_text("utf-8"), re.M)
    assert len(found) == 1, f"{path.name}: one ARG {name}=… default"
    return found[0]


def export_command(path: Path) -> list[str]:
    """The `uv export …` of the build stage, as an argument list (the --output-file dropped)."""
    build = parse_dockerfile(path.read_text("utf-8"))[1]
    runs = [i.args for i in build if i.keyword == "RUN" and "uv export" in i.args]
    assert len(runs) == 1
    command = runs[0][runs[0].index("uv export") :].split(";")[0]
    words = shlex.split(command)
    out = words.index("--output-file")
    return words[:out] + words[out + 2 :]


@pytest.mark.parametrize("path", [CPU, GPU], ids=lambda p: p.name)
def test_hadolint_finds_nothing(path: Path) -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(path)], capture_output=True, text=True
    )
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize("path", [CPU, GPU], ids=lambda p: p.name)
def test_the_build_installs_the_lock_with_hashes_and_nothing_unpinned(path: Path) -> None:
    final = parse_dockerfile(path.read_text("utf-8"))[-1]
    runs = [i.args for i in final if i.keyword == "RUN"]
    commands = [c.strip() for run in runs for c in run.split(";") if "pip install" in c]
    assert commands[0] == "pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements/requirements.txt"
    assert len(commands) == 2 and "--no-deps" in commands[1] and ".whl" in " ".join(runs), "then the wheel, no resolver"
    assert any("pip check" in run for run in runs)
    assert not any("--upgrade-deps" in run for run in runs), "pip stays the one the base image ships, not PyPI's newest"


@pytest.mark.parametrize("path", [CPU, GPU], ids=lambda p: p.name)
def test_the_dependency_layer_comes_before_src_and_the_per_commit_arguments(path: Path) -> None:
    """A change to src/ or a new VCS_REF must not reinstall the locked dependencies (BuildKit's cache)."""
    build, final = parse_dockerfile(path.read_text("utf-8"))[1], parse_dockerfile(path.read_text("utf-8"))[-1]
    keys = [f"{i.keyword} {i.args}" for i in build]
    export = next(n for n, k in enumerate(keys) if "uv export" in k)
    assert export < next(n for n, k in enumerate(keys) if k.startswith("COPY src/"))
    keys = [f"{i.keyword} {i.args}" for i in final]
    install = next(n for n, k in enumerate(keys) if "--require-hashes" in k)
    assert install < next(n for n, k in enumerate(keys) if k.startswith("ARG VCS_REF"))
    assert install < next(n for n, k in enumerate(keys) if "/wheels/" in k and k.startswith("COPY"))


@pytest.mark.parametrize("path", [CPU, GPU], ids=lambda p: p.name)
def test_uv_is_the_release_that_wrote_the_lock(path: Path) -> None:
    assert arg_default(path, "UV_VERSION") == locked("uv")
    assert 'pip install --no-cache-dir "uv==${UV_VERSION}"' in path.read_text("utf-8")


@pytest.mark.parametrize(("path", "has_torch"), [(CPU, False), (GPU, True)], ids=["Dockerfile", "Dockerfile.gpu"])
def test_the_export_runs_against_this_lock(path: Path, has_torch: bool) -> None:
    command = export_command(path)
    assert command[:5] == ["uv", "export", "--frozen", "--no-dev", "--no-emit-project"]
    uv = Path(sys.executable).with_name("uv")
    out = subprocess.run([str(uv), *command[1:]], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", out.stdout, re.M))
    assert pins["dvc-s3"] == locked("dvc-s3") and pins["matplotlib"] == locked("matplotlib")
    assert "alops" not in pins and "pytest" not in pins and "ruff" not in pins
    assert ("torch" in pins) is has_torch and ("scikit-learn" in pins) is has_torch
    if has_torch:
        assert pins["torch"] == "2.13.0" and pins["nvidia-cuda-runtime"] == locked("nvidia-cuda-runtime")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", out.stdout.split("\n", 2)[2].strip())
    assert all("--hash=sha256:" in block for block in blocks), "every requirement carries its hash"


def test_the_cuda_base_is_the_release_of_torch_s_cuda_runtime() -> None:
    base = arg_default(GPU, "CUDA_IMAGE")
    match = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.(\d+)-runtime-ubuntu22\.04", base)
    assert match, base
    runtime = locked("nvidia-cuda-runtime").split(".")  # 13.0.96: CUDA 13.0's cudart
    assert list(match.groups()[:2]) == runtime[:2]
    text = GPU.read_text("utf-8")
    assert "import torch" in text and "torch.version.cuda.startswith('13.0')" in text
    assert re.search(r"python3\.11 -m venv /opt/venv", text)


@pytest.mark.parametrize("path", [CPU, GPU], ids=lambda p: p.name)
def test_the_build_context_sends_the_lock(path: Path) -> None:
    ignore = path.with_name(path.name + ".dockerignore").read_text("utf-8").splitlines()
    assert "!uv.lock" in ignore
    copies = [i.args for i in parse_dockerfile(path.read_text("utf-8"))[1] if i.keyword == "COPY"]
    assert any("uv.lock" in c.split() for c in copies)
