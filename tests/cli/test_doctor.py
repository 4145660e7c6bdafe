"""``alops doctor``: the table, JSON, exit 0 when healthy and 8 when a needed check fails; no secret printed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from click.testing import CliRunner

from alops.cli import cli


def invoke(project: Path, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["-c", str(project / "alops.yaml"), "doctor", *args], env=env, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def no_gpu_path(tmp_path: Path) -> dict[str, str]:
    """A PATH without nvidia-smi (only the interpreter's and the basic system tools)."""
    return {"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"])}


def test_healthy_cpu_role_exits_0_with_the_table(project: Path, tmp_path: Path) -> None:
    code, out, err = invoke(project, "--role", "feature", env=no_gpu_path(tmp_path))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "role: feature"
    assert [line.split()[:2] for line in lines[1:-1]] == [
        ["OK", "dvc"],
        ["OK", "cache"],
        ["OK", "remote"],
        ["SKIP", "gpu"],
        ["WARN", "gitlab"],
        ["SKIP", "label"],
    ]
    assert lines[-1] == "healthy"


def test_gpu_role_without_a_gpu_exits_8_after_the_whole_table(project: Path, tmp_path: Path) -> None:
    code, out, err = invoke(project, "--role", "experiment", env=no_gpu_path(tmp_path))
    assert code == 8
    assert out.splitlines()[0] == "role: experiment" and len(out.splitlines()) == 8
    assert "FAIL  gpu           needed  no GPU visible" in out
    assert err == "Error: this environment fails the experiment role's checks: gpu (see the table above)\n"


def test_role_auto_takes_alops_role(project: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(project, "--format", "json", env=no_gpu_path(tmp_path) | {"ALOPS_ROLE": "feature"})
    report = json.loads(out)
    assert (code, report["role"], report["healthy"]) == (0, "feature", True)
    assert {c["name"]: c["needed"] for c in report["checks"]} == {
        "dvc": True,
        "cache": True,
        "remote": False,
        "gpu": False,
        "gitlab token": False,
        "label studio": False,
    }


def test_secrets_are_named_never_shown(project: Path, tmp_path: Path) -> None:
    secrets = {
        "ALOPS_GITLAB_TOKEN": "glpat-never-print-me-000",
        "ALOPS_GITLAB_URL": "http://127.0.0.1:9",  # nothing listens: the token check fails, naming no value
        "ALOPS_LABEL_STUDIO_URL": "http://user:hunter2secret@127.0.0.1:9",
        "ALOPS_LABEL_STUDIO_TOKEN": "ls-never-print-me-111",
        "AWS_SECRET_ACCESS_KEY": "aws-never-print-me-222",
    }
    for fmt in ("table", "json"):
        code, out, err = invoke(project, "--role", "feature", "--format", fmt, env=no_gpu_path(tmp_path) | secrets)
        assert code == 0
        assert "ALOPS_GITLAB_TOKEN present; GitLab at http://127.0.0.1:9 cannot be reached" in (
            out if fmt == "table" else json.loads(out)["checks"][4]["detail"]
        )
        for value in ("glpat-never-print-me-000", "hunter2secret", "ls-never-print-me-111", "aws-never-print-me-222"):
            assert value not in out + err
