"""``alops metrics diff`` on a real git repository: the workspace against a branch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
"""
DVC = "outs:\n- md5: {md5}\n  hash: md5\n  path: {name}\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def state(root: Path, *, accuracy: float, loss: float, lr: float, dev: str) -> None:
    (root / "metrics").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "metrics/dev.json").write_text(json.dumps({"accuracy": accuracy, "loss": loss}), encoding="utf-8")
    (root / "params.yaml").write_text(f"train:\n  lr: {lr}\n  model: logreg\n", encoding="utf-8")
    (root / "data/dev.dvc").write_text(DVC.format(md5=dev, name="dev"), encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    state(tmp_path, accuracy=0.9, loss=0.3, lr=0.01, dev="a" * 32 + ".dir")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "baseline")
    git(tmp_path, "checkout", "-q", "-b", "feature/x")
    state(tmp_path, accuracy=0.95, loss=0.3, lr=0.1, dev="b" * 32 + ".dir")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "metrics", "diff", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_text_against_a_branch(repo: Path) -> None:
    code, out, err = invoke(repo, "--against", "main")

    assert (code, err) == (0, "")
    commit = git(repo, "rev-parse", "main")[:8]
    assert out.splitlines() == [
        f"Baseline: main (git, commit {commit})",
        "Metrics:",
        "  file              metric    baseline  current  change",
        "  metrics/dev.json  accuracy  0.9       0.95     +0.05 (+5.56%)",
        "  metrics/dev.json  loss      0.3       0.3      0",
        "Parameters: 1 changed:",
        "  params.yaml  train.lr  0.01  →  0.1",
        "Data versions: 1 changed:",
        "  data/dev  aaaaaaaa  →  bbbbbbbb",
    ]


def test_markdown_and_json(repo: Path) -> None:
    code, out, _ = invoke(repo, "--against", "main", "--format", "md")
    assert code == 0
    assert "| metrics/dev.json | accuracy | 0.9 | 0.95 | +0.05 (+5.56%) |" in out.splitlines()
    assert "| data/dev | aaaaaaaa | bbbbbbbb |" in out.splitlines()

    code, out, _ = invoke(repo, "--against", "main", "--format", "json")
    doc = json.loads(out)
    assert (code, doc["against"]["label"], doc["against"]["source"]) == (0, "main", "git")
    assert doc["params"] == [{"file": "params.yaml", "param": "train.lr", "baseline": 0.01, "current": 0.1}]


def test_the_default_baseline_is_the_mr_target_branch(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "branch", "release/1", "main")
    monkeypatch.setenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "release/1")
    monkeypatch.setenv("CI_DEFAULT_BRANCH", "main")
    code, out, _ = invoke(repo, "--branch", "feature/x")
    assert code == 0 and out.startswith("Baseline: release/1 (git, commit ")


def test_no_known_baseline_asks_for_against(repo: Path) -> None:
    code, out, err = invoke(repo)
    assert (code, out) == (EXIT_CONFIG, "")
    assert err == (
        "Error: no baseline is known (no merge request target, CI_DEFAULT_BRANCH or origin/HEAD): "
        "pass --against REF, e.g. --against main\n"
    )


def test_a_baseline_without_metrics_says_why_and_shows_the_current_metrics(repo: Path) -> None:
    code, out, _ = invoke(repo, "--against", "no-such-branch", "--flow", "feature")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("No baseline to compare with: 'no-such-branch' is not a commit here, nor a branch")
    assert lines[1:] == [
        "Metrics (current):",
        "  metrics/dev.json  accuracy  0.95",
        "  metrics/dev.json  loss      0.3",
    ]


def test_help_names_the_options() -> None:
    result = CliRunner().invoke(cli, ["metrics", "diff", "--help"])
    assert result.exit_code == 0
    for option in ("--against REF", "--format [md|json|text]", "--flow", "--branch"):
        assert option in result.output
    assert "Metrics, params and data versions against a baseline." in CliRunner().invoke(cli, ["--help"]).output
