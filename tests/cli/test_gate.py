"""``alops gate`` on a real git repository: the flow's metrics files, a baseline at a revision, the reports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_GATE

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
"""
GATES = """quality:
  thresholds:
    accuracy: {min: 0.85, max_regression: 0.02}
    loss: {max: 0.5, max_regression: 0.05, better: lower}
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "alops.yaml").write_text(CONFIG + GATES, encoding="utf-8")
    (tmp_path / "metrics").mkdir()
    metrics(tmp_path, "dev", accuracy=0.95, loss=0.2)
    metrics(tmp_path, "full", accuracy=0.95, loss=0.2)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "baseline")
    git(tmp_path, "checkout", "-q", "-b", "feature/x")
    return tmp_path


def metrics(root: Path, dataset: str, **values: float) -> None:
    (root / f"metrics/{dataset}.json").write_text(json.dumps(values), encoding="utf-8")


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "gate", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_gates_pass_on_the_branch_s_dataset(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    metrics(repo, "full", accuracy=0.10, loss=9.0)  # not the feature flow's: never read

    code, out, err = invoke(repo)

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "pass  accuracy = 0.95 meets min 0.85 (must be >= 0.85)",
        "skip  accuracy: no baseline was given (--against REF)",
        "pass  loss = 0.2 meets max 0.5 (must be <= 0.5)",
        "skip  loss: no baseline was given (--against REF)",
    ]


def test_a_regression_against_the_target_branch_fails_with_its_own_code_and_reports(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    metrics(repo, "dev", accuracy=0.90, loss=0.22)

    code, out, err = invoke(repo, "--against", "main", "--junit", "gate.xml", "--metrics-report", "metrics.txt")

    assert code == EXIT_GATE
    assert "FAIL  accuracy: 0.95 → 0.9 at main, 0.05 worse, beyond max_regression 0.02" in out.splitlines()
    assert "pass  loss: 0.2 → 0.22 at main, 0.02 worse, within max_regression 0.05" in out.splitlines()
    assert err == "Error: 1 of 4 quality gates failed\n"
    suite = ET.parse(repo / "gate.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    assert (repo / "metrics.txt").read_text(encoding="utf-8") == "accuracy 0.9\nloss 0.22\n"


def test_the_experiment_flow_reads_the_full_metrics(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    metrics(repo, "full", accuracy=0.5, loss=0.2)
    code, out, _ = invoke(repo, "--flow", "experiment")
    assert code == EXIT_GATE and out.startswith("FAIL  accuracy = 0.5 misses min 0.85")


def test_a_missing_metrics_file_fails_the_gates_that_need_it(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "metrics/dev.json").unlink()
    code, out, _ = invoke(repo)
    assert code == EXIT_GATE
    assert out.splitlines()[0] == (
        "FAIL  accuracy is in no metrics file (pipeline.metrics): run the evaluate stage, or correct quality.thresholds"
    )


def test_an_unreadable_metrics_file_is_a_data_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "metrics/dev.json").write_text("{not json", encoding="utf-8")
    code, _, err = invoke(repo)
    assert code == EXIT_DATA and err.startswith(f"Error: {repo}/metrics/dev.json is not a readable metrics file")


def test_no_thresholds_is_a_config_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    code, _, err = invoke(repo)
    assert code == EXIT_CONFIG and "has no quality.thresholds: there is no gate to check" in err


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["gate", "--help"])
    assert "Exit codes: 0 every gate passed; 2 bad alops.yaml or no quality" in result.output
    assert "6 a gate failed" in result.output


def test_the_baseline_used_is_printed_first(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, out, _ = invoke(repo, "--against", "main")
    assert code == 0
    assert out.splitlines()[0] == f"baseline: main (git, commit {git(repo, 'rev-parse', 'main')[:8]})"
    assert "pass  accuracy: 0.95 → 0.95 at main, 0 worse, within max_regression 0.02" in out.splitlines()


def ci(monkeypatch: pytest.MonkeyPatch, branch: str) -> None:
    for name, value in {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_COMMIT_BRANCH": branch,
        "CI_DEFAULT_BRANCH": "main",
    }.items():
        monkeypatch.setenv(name, value)


def test_in_ci_a_branch_is_held_to_the_default_branch_without_against(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    ci(monkeypatch, "feature/x")
    metrics(repo, "dev", accuracy=0.90, loss=0.2)

    code, out, _ = invoke(repo)

    assert code == EXIT_GATE
    assert out.splitlines()[0].startswith("baseline: main (git, commit ")
    assert "FAIL  accuracy: 0.95 → 0.9 at main, 0.05 worse, beyond max_regression 0.02" in out.splitlines()


def test_in_ci_the_mr_target_branch_is_the_baseline(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    git(repo, "branch", "release/1", "main")
    ci(monkeypatch, "feature/x")
    monkeypatch.setenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "release/1")
    code, out, _ = invoke(repo)
    assert code == 0 and out.startswith("baseline: release/1 (git, commit ")


def test_in_ci_the_default_branch_itself_has_no_baseline(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "main")
    ci(monkeypatch, "main")
    code, out, _ = invoke(repo)
    assert code == 0
    assert "skip  accuracy: no baseline was given (--against REF)" in out.splitlines()
    assert not out.startswith("baseline:")


def test_a_baseline_that_has_no_metrics_says_why_and_skips_the_regressions(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    code, out, _ = invoke(repo, "--against", "no-such-branch")
    assert code == 0
    first, *checks = out.splitlines()
    assert first.startswith("baseline: no-such-branch (none): 'no-such-branch' is not a commit here, nor a branch")
    assert "skip  accuracy: no-such-branch has no value of it" in checks


def test_a_baseline_only_in_ci_artifacts_is_read_from_the_run_manifest(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import responses
    from responses import matchers

    monkeypatch.chdir(repo)
    git(repo, "checkout", "-q", "-b", "experiment/lr", "main")
    git(repo, "rm", "-q", "-r", "metrics")
    git(repo, "commit", "-q", "-m", "metrics only in CI")
    git(repo, "checkout", "-q", "feature/x")
    for name, value in {
        "CI_PROJECT_ID": "42",
        "ALOPS_GITLAB_URL": "https://gl.example",
        "CI_JOB_TOKEN": "jt-1234567",
    }.items():
        monkeypatch.setenv(name, value)
    manifest = {
        "alops_manifest": 1,
        "commit": "e" * 40,
        "dataset": "dev",
        "metrics": {"metrics/dev.json": {"accuracy": 0.99, "loss": 0.2}},
    }
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(
            "https://gl.example/api/v4/projects/42/jobs/artifacts/experiment%2Flr/raw/alops-manifest.json",
            body=json.dumps(manifest).encode(),
            match=[matchers.query_param_matcher({"job": "alops-run-gpu"})],
        )
        code, out, _ = invoke(repo, "--against", "experiment/lr")

    assert code == EXIT_GATE
    assert out.splitlines()[0] == "baseline: experiment/lr (artifacts, commit eeeeeeee)"
    assert "FAIL  accuracy: 0.99 → 0.95 at experiment/lr, 0.04 worse, beyond max_regression 0.02" in out.splitlines()
