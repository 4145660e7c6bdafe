"""`alops init` on the command line: what it says, and its exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli

pytest_plugins = ["dvc_projects"]  # split_project, plain_project: small real git + DVC projects


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_init_then_validate_then_init_again(split_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(split_project)
    assert invoke("init") == (
        0,
        "alops.yaml: written (created)\n"
        ".gitlab-ci.yml: written (created)\n"
        "\n"
        "Next: widen parameters.allowed in alops.yaml; `alops config validate`; commit alops.yaml and .gitlab-ci.yml.\n",
        "",
    )
    assert invoke("config", "validate") == (0, "alops.yaml is valid; 3 parameters within their allowed values\n", "")
    assert invoke("init") == (
        0,
        "alops.yaml: unchanged (already as alops init writes it)\n"
        ".gitlab-ci.yml: unchanged (already as alops init writes it)\n"
        "Nothing changed.\n",
        "",
    )


def test_a_plain_project_is_told_how_to_split_its_stages(plain_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(plain_project)
    code, out, err = invoke("init")
    assert (code, err) == (0, "")
    assert out.startswith(
        "alops.yaml: written (created)\n.gitlab-ci.yml: written (created)\n\ndvc.yaml's stages are not split by dataset"
    )
    assert "    foreach: [dev, full]\n    do:\n      cmd: python prepare.py data/raw-${item}.csv\n" in out
    assert out.endswith(
        "\nNext: `alops devset build` (makes the dev set, see datasets.dev.build); widen parameters.allowed in "
        "alops.yaml; `alops config validate`; commit alops.yaml and .gitlab-ci.yml.\n"
    )
    code, out, err = invoke("config", "validate")
    assert (code, out) == (0, "alops.yaml is valid; 3 parameters within their allowed values\n")
    assert err == "Note: datasets.dev.targets[0]: data/raw-dev.csv.dvc is not built yet: run `alops devset build`\n"


def test_dry_run_prints_the_files(split_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(split_project)
    code, out, _ = invoke("init", "--dry-run")
    assert code == 0
    assert out.startswith("alops.yaml: would be written (create):\n\n# yaml-language-server: $schema=")
    assert "\n.gitlab-ci.yml: would be written (create):\n\n# The ALOps pipeline of this project" in out
    assert not Path("alops.yaml").exists() and not Path(".gitlab-ci.yml").exists()


def test_an_existing_gitlab_ci_gets_the_include_to_add(split_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(split_project)
    Path(".gitlab-ci.yml").write_text("test:\n  script: [pytest]\n")
    code, out, _ = invoke("init")
    assert code == 0
    assert (
        ".gitlab-ci.yml: exists without the alops include: add this block to it (or run with --force to replace "
        "the file):\n\ninclude:\n  - project: mlops/alops\n    ref: 0.1.0\n    file: /ci-templates/alops.yml\n"
        "    inputs:\n      gate: false  # true once alops.yaml has quality.thresholds (see `alops gate`)\n"
        "      releases: false  # true once alops.yaml has a release section (see `alops release`)\n"
        "  - project: mlops/alops\n    ref: 0.1.0\n    file: /ci-templates/workflow.yml\n"
    ) in out
    assert Path(".gitlab-ci.yml").read_text() == "test:\n  script: [pytest]\n"


def test_outside_a_git_repository_exits_2(tmp_path: Path) -> None:
    code, out, err = invoke("init", "--dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"Error: {tmp_path} is not in a git repository: run `git init` and `dvc init` there first\n"


def test_init_is_listed_in_help() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    assert re.search(r"^  init +Adopt alops in a DVC project: alops.yaml, .gitlab-ci.yml.$", out, re.MULTILINE)
