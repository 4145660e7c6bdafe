"""``alops al retrain``: the decision from git trailers (a real repository), the trigger against GitLab's API
faked with ``responses`` (exact paths and JSON bodies, every registered request sent)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from responses import matchers

from alops.al import retrain
from alops.cli import cli
from alops.config import load_config
from alops.errors import EXIT_DATA, DataError

API = "https://gitlab.example.com/api/v4/projects/42"
TOKEN = "glpat-not-a-real-token-0123"
URL = "https://gitlab.example.com/grp/proj/-/pipelines/99"
CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
active_learning:
  labels: data/labels
  retrain: {min_new_labels: 50}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, message: str) -> None:
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)


def ingest(repo: Path, round_: int, labels: int) -> None:
    commit(
        repo,
        f"alops al ingest: round {round_}, +{labels} labels (0 pseudo)\n\n"
        f"ALOps-Round: {round_}\nALOps-Labels: {labels}\nALOps-Ingest: {round_:032x}",
    )


def trained(repo: Path, round_: int) -> None:
    commit(repo, f"alops al record: model trained on rounds up to {round_}\n\nALOps-Trained-Round: {round_}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=al/digits")
    (root / "alops.yaml").write_text(CONFIG)
    git(root, "add", "alops.yaml")
    commit(root, "project")
    return root


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def invoke(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(repo / "alops.yaml"), "al", "retrain", *args])
    return result.exit_code, result.stdout, result.stderr


def test_counts_the_labels_after_the_last_trained_round(repo: Path) -> None:
    ingest(repo, 1, 40)
    trained(repo, 1)
    ingest(repo, 2, 30)
    ingest(repo, 3, 25)
    decision = retrain.decide(load_config(repo / "alops.yaml"))
    assert (decision.new_labels, decision.min_new_labels, decision.retrain) == (55, 50, True)
    assert retrain.decide(load_config(repo / "alops.yaml"), min_new_labels=56).retrain is False


def test_below_the_threshold_says_so_and_exits_0(repo: Path) -> None:
    ingest(repo, 1, 20)
    assert invoke(repo, "--trigger") == (
        0,
        "No retraining: 20 new labels since the last trained model (at least 50 start training)\n",
        "",
    )


def test_trigger_with_the_project_token_creates_a_pipeline(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(repo, 1, 60)
    for key, value in {
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "42",
        "ALOPS_GITLAB_TOKEN": TOKEN,
        "CI_JOB_TOKEN": "job-1",
    }.items():
        monkeypatch.setenv(key, value)
    body = {"ref": "al/digits", "variables": [{"key": "ALOPS_AL_STEP", "value": "train"}]}
    api.post(
        f"{API}/pipeline",
        status=201,
        json={"id": 99, "web_url": URL},
        match=[matchers.json_params_matcher(body), matchers.header_matcher({"PRIVATE-TOKEN": TOKEN})],
    )
    assert invoke(repo, "--trigger") == (
        0,
        "Retrain: 60 new labels since the last trained model (at least 50 start training)\n"
        f"Started pipeline #99 on 'al/digits' (ALOPS_GITLAB_TOKEN): {URL}\n",
        "",
    )


def test_trigger_with_only_the_job_token_uses_the_trigger_api(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(repo, 1, 50)
    env = {
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "42",
        "CI_JOB_TOKEN": "job-1",
        "CI_COMMIT_BRANCH": "al/other",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    body = {"ref": "al/other", "token": "job-1", "variables": {"ALOPS_AL_STEP": "train"}, "inputs": {}}
    api.post(
        f"{API}/trigger/pipeline",
        status=201,
        json={"id": 100, "web_url": URL},
        match=[matchers.json_params_matcher(body)],
    )
    code, out, _ = invoke(repo, "--trigger")
    assert code == 0
    assert out.splitlines()[-1] == f"Started pipeline #100 on 'al/other' (the trigger API with CI_JOB_TOKEN): {URL}"
    # the token goes in the body only, as `curl -F token=$CI_JOB_TOKEN` sends it (python-gitlab#1021)
    (call,) = api.calls
    assert not {"JOB-TOKEN", "PRIVATE-TOKEN", "Authorization"} & set(call.request.headers)


def test_dry_run_and_no_flag_send_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(repo, 1, 50)
    monkeypatch.setenv("CI_JOB_TOKEN", "job-1")
    with responses.RequestsMock(assert_all_requests_are_fired=True):
        code, out, _ = invoke(repo, "--dry-run")
        assert (code, out.splitlines()[-1]) == (
            0,
            "Dry run: would start a pipeline on 'al/digits' with ALOPS_AL_STEP=train",
        )
        code, out, _ = invoke(repo)
        assert (code, out.splitlines()[-1]) == (0, "Not started: pass --trigger to start the train pipeline")


def test_no_token_is_exit_4(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(repo, 1, 50)
    monkeypatch.setenv("CI_SERVER_URL", "https://gitlab.example.com")
    code, _, err = invoke(repo, "--trigger")
    assert code == EXIT_DATA
    assert "needs ALOPS_GITLAB_TOKEN (a project access token with the api scope) or, in a CI job, CI_JOB_TOKEN" in err


def test_gitlab_refusing_is_a_data_error_without_the_token(repo: Path, api: responses.RequestsMock) -> None:
    ingest(repo, 1, 50)
    env = {"CI_SERVER_URL": "https://gitlab.example.com", "CI_PROJECT_ID": "42", "ALOPS_GITLAB_TOKEN": TOKEN}
    api.post(f"{API}/pipeline", status=403, json={"message": "403 Forbidden"})
    decision = retrain.decide(load_config(repo / "alops.yaml"))
    with pytest.raises(DataError) as err:
        retrain.trigger(decision, "al/digits", env=env)
    assert "GitLab refused to start a pipeline on 'al/digits' in project 42 (403: 403 Forbidden)" in str(err.value)
    assert TOKEN not in str(err.value)


def test_help_ends_with_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["al", "retrain", "--help"])
    assert "Exit codes: 0 decided" in result.output
