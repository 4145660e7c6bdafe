"""``alops al record`` with real git: a bare remote as the project's repository, pushed to as CI would."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.al.history import read
from alops.cli import cli
from alops.errors import EXIT_FAILURE

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json", "metrics/extra-{dataset}.json"]
active_learning:
  labels: data/labels
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(clone, bare remote): the clone on al/digits with a trained model's dvc.lock and metrics in its work tree."""
    remote, root = tmp_path / "remote.git", tmp_path / "project"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=al/digits", str(remote)], check=True)
    # GitLab takes push options (ci.skip); a bare repository only when told to, and this hook keeps what it got.
    git(remote, "config", "receive.advertisePushOptions", "true")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\nprintf "%s\\n" "${GIT_PUSH_OPTION_0-}" >> "$GIT_DIR/push-options"\n')
    hook.chmod(0o755)
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=al/digits")
    (root / "alops.yaml").write_text(CONFIG)
    (root / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (root / ".gitignore").write_text("/data/labels\n")
    git(root, "add", "alops.yaml", "dvc.lock", ".gitignore")
    git(root, "commit", "--quiet", "-m", "project")
    git(root, "push", "--quiet", str(remote), "HEAD:refs/heads/al/digits")
    labels = root / "data/labels"
    labels.mkdir(parents=True)
    for n in (1, 2):
        (labels / f"round-{n:04d}.json").write_text(json.dumps({"round": n}))
    (root / "dvc.lock").write_text("schema: '2.0'\nstages: {train@full: {outs: []}}\n")
    (root / "metrics").mkdir()
    (root / "metrics/full.json").write_text('{"accuracy": 0.9}\n')
    (root / "metrics/dev.json").write_text('{"accuracy": 0.5}\n')  # not the full dataset's: not recorded
    monkeypatch.setenv("ALOPS_GIT_PUSH_URL", str(remote))
    monkeypatch.setenv("CI_COMMIT_BRANCH", "al/digits")
    return root, remote


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "al", "record", *args])
    return result.exit_code, result.stdout, result.stderr


def test_commits_dvc_lock_and_the_full_metrics_with_the_trained_round_and_pushes(repos: tuple[Path, Path]) -> None:
    root, remote = repos
    code, out, err = invoke(root, "--push")
    assert (code, err) == (0, "")
    sha = git(remote, "rev-parse", "al/digits")
    assert out == (
        f"Recorded the model of rounds up to 2: dvc.lock, metrics/full.json in {sha[:12]}, pushed to 'al/digits'\n"
    )
    assert git(remote, "show", "--name-only", "--format=%s%n%(trailers:only)", sha).splitlines() == [
        "alops al record: model trained on rounds up to 2",
        "ALOps-Trained-Round: 2",
        "",
        "",
        "dvc.lock",
        "metrics/full.json",
    ]
    assert [t.round for t in read(root).trainings] == [2]
    assert (remote / "push-options").read_text() == "\nci.skip\n"  # the set-up push had none
    assert git(root, "status", "--porcelain", "--", "metrics/dev.json") == "?? metrics/dev.json"


def test_nothing_changed_makes_no_commit(repos: tuple[Path, Path]) -> None:
    root, remote = repos
    assert invoke(root, "--push")[0] == 0
    before = git(remote, "rev-parse", "al/digits")
    assert invoke(root, "--push") == (
        0,
        "Nothing to record: dvc.lock, metrics/full.json unchanged since the last commit (round 2)\n",
        "",
    )
    assert git(remote, "rev-parse", "al/digits") == before
    assert git(root, "rev-list", "--count", "HEAD") == "2"


def test_the_branch_moved_the_record_goes_on_top(repos: tuple[Path, Path], tmp_path: Path) -> None:
    root, remote = repos
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "--quiet", "--branch", "al/digits", str(remote), str(other)], check=True)
    (other / "data.dvc").write_text("outs: []\n")
    git(other, "add", "data.dvc")
    git(other, "commit", "--quiet", "-m", "alops al ingest: round 3\n\nALOps-Round: 3\nALOps-Labels: 5")
    git(other, "push", "--quiet", "origin", "al/digits")
    code, out, _ = invoke(root, "--push")
    assert code == 0, out
    log = git(remote, "log", "--format=%s", "al/digits").splitlines()
    assert log == ["alops al record: model trained on rounds up to 2", "alops al ingest: round 3", "project"]


def test_without_push_it_only_commits(repos: tuple[Path, Path]) -> None:
    root, remote = repos
    code, out, _ = invoke(root, "--no-push")
    assert code == 0 and out.endswith(" (not pushed: --push to push it)\n")
    assert git(remote, "rev-list", "--count", "al/digits") == "1"


def test_without_a_label_log_the_round_comes_from_git(repos: tuple[Path, Path]) -> None:
    root, _ = repos
    for path in (root / "data/labels").iterdir():
        path.unlink()
    (root / "data/labels").rmdir()
    git(root, "commit", "--quiet", "--allow-empty", "-m", "ingest\n\nALOps-Round: 4\nALOps-Labels: 9")
    code, out, _ = invoke(root, "--no-push")
    assert code == 0 and out.startswith("Recorded the model of rounds up to 4: ")


def test_no_dvc_lock_is_a_step_error(repos: tuple[Path, Path]) -> None:
    root, _ = repos
    git(root, "rm", "--quiet", "--force", "dvc.lock")
    code, _, err = invoke(root)
    assert code == EXIT_FAILURE
    assert err == "Error: there is no dvc.lock to record: run `alops run` first (the train job does)\n"


def test_a_refused_push_says_what_to_do(
    repos: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, _ = repos
    monkeypatch.setenv("ALOPS_GIT_PUSH_URL", str(tmp_path / "missing.git"))
    code, _, err = invoke(root, "--push")
    assert code == 3
    assert err.startswith("Error: git push of the training record to al/digits failed: ")


def test_without_a_push_url_it_pushes_to_origin_even_without_push_options(
    repos: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, remote = repos
    monkeypatch.delenv("ALOPS_GIT_PUSH_URL")
    git(root, "remote", "add", "origin", str(remote))
    git(remote, "config", "receive.advertisePushOptions", "false")  # not GitLab: no ci.skip to send
    code, out, err = invoke(root, "--push")
    assert (code, err) == (0, ""), out
    assert git(remote, "log", "-1", "--format=%s", "al/digits") == "alops al record: model trained on rounds up to 2"
