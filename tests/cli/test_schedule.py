"""``alops schedule sync`` end to end: alops.yaml's schedules, GitLab faked with ``responses``, exact output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from responses import matchers

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA

API = "https://gitlab.example.com/api/v4/projects/42/pipeline_schedules"
TOKEN = "glpat-not-a-real-token-0123"
CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
schedules:
  al-query:
    cron: "0 3 * * *"
    ref: al/digits
    variables: {ALOPS_AL_STEP: query}
"""


def invoke(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "alops.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "alops.yaml"), "schedule", "sync", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def gitlab_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "42",
        "ALOPS_GITLAB_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(key, value)


def test_sync_creates_then_a_second_run_changes_nothing(tmp_path: Path) -> None:
    created = {
        "id": 7,
        "description": "alops: al-query",
        "ref": "refs/heads/al/digits",
        "cron": "0 3 * * *",
        "cron_timezone": "UTC",
        "active": True,
    }
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(API, json=[])
        body = {"description": "alops: al-query", "ref": "al/digits", "cron": "0 3 * * *"}
        api.post(
            API,
            status=201,
            json=created,
            match=[matchers.json_params_matcher({**body, "cron_timezone": "UTC", "active": True})],
        )
        api.post(f"{API}/7/variables", status=201, json={"key": "ALOPS_AL_STEP", "value": "query"})
        code, out, err = invoke(tmp_path, CONFIG)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "1 created, 0 updated, 0 deleted, 0 unchanged (2 API writes)"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(API, json=[created])
        api.get(f"{API}/7", json={**created, "variables": [{"key": "ALOPS_AL_STEP", "value": "query"}]})
        code, out, err = invoke(tmp_path, CONFIG)
    assert (code, out, err) == (
        0,
        "unchanged alops: al-query (#7)\n0 created, 0 updated, 0 deleted, 1 unchanged (0 API writes)\n",
        "",
    )


def test_dry_run_prints_the_plan(tmp_path: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(API, json=[{"id": 9, "description": "alops: old", "ref": "main", "cron": "0 0 * * *"}])
        code, out, _ = invoke(tmp_path, CONFIG, "--dry-run")
    assert code == 0
    assert out == (
        "create    alops: al-query: cron: '0 3 * * *'; ref: 'al/digits'; cron_timezone: 'UTC'; active: true; "
        "+ variable ALOPS_AL_STEP\n"
        "delete    alops: old (#9)\n"
        "dry run, nothing changed: 1 to create, 0 to update, 1 to delete, 0 unchanged\n"
    )


def test_only_a_job_token_is_exit_4_with_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALOPS_GITLAB_TOKEN")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-1")
    code, out, err = invoke(tmp_path, CONFIG)
    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith("Error: alops schedule sync needs ALOPS_GITLAB_TOKEN: a project access token with the api")
    assert "a job token cannot read or change pipeline schedules" in err


def test_a_cron_of_four_fields_is_exit_2(tmp_path: Path) -> None:
    code, _, err = invoke(tmp_path, CONFIG.replace('"0 3 * * *"', '"0 3 * *"'))
    assert code == EXIT_CONFIG
    assert "schedules.al-query.cron" in err, err


def test_help_ends_with_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["schedule", "sync", "--help"])
    assert result.exit_code == 0
    assert "Exit codes: 0 in sync" in result.output
    assert "CI_JOB_TOKEN cannot manage schedules" in result.output
