"""``alops devset check`` and ``alops devset refresh``: exit codes and what they print."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_NOT_REPRESENTATIVE

from devset_data import adopt, make_repo, rows, sample, shifted, write_config, write_csv

FULL = rows(4000)
DEV = sample(FULL)
TOKEN = "glpat-cli-secret-0815"


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "devset", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "data/full.csv", FULL)
    write_csv(tmp_path / "data/dev.csv", DEV)
    write_config(tmp_path)
    return tmp_path


def test_check_passes_and_writes_the_report(data: Path) -> None:
    code, out, err = invoke(data, "check")
    assert (code, err) == (0, "")
    assert out == (
        "Dev set data/dev.csv (400 rows) vs full data data/full.csv (4,000 rows): representative, all 13 tests passed.\n"
        "Report: .alops/devset-check/report.md and .alops/devset-check/report.json\n"
    )
    assert json.loads((data / ".alops/devset-check/report.json").read_text())["representative"] is True
    assert (data / ".alops/.gitignore").read_text() == "*\n"
    subprocess.run(["git", "init", "--quiet"], cwd=data, check=True)
    untracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=data, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert sorted(untracked) == ["", "?? alops.yaml", "?? data/dev.csv", "?? data/full.csv"]  # no report


def test_check_fails_with_exit_5_and_says_which_column(data: Path) -> None:
    write_csv(data / "data/full.csv", shifted(FULL, "x0", 2.0))
    code, out, err = invoke(data, "check", "--report-dir", "out")
    assert code == EXIT_NOT_REPRESENTATIVE
    # Exit 5 leaves as every AlopsError does: "Error: " and the verdict on stderr.
    assert err == (
        "Error: The dev set data/dev.csv no longer represents the full data data/full.csv: 2 of 13 tests failed: "
        "x0 (KS), x0 (PSI). Rebuild it with `alops devset refresh` (or `alops devset build`).\n"
    )
    lines = out.splitlines()
    assert lines[0] == (
        "Dev set data/dev.csv (400 rows) vs full data data/full.csv (4,000 rows): NOT representative, "
        "2 of 13 tests failed:"
    )
    assert lines[1].startswith("  x0  KS  p=") and "< 0.01  mean " in lines[1]
    assert lines[2].startswith("  x0  PSI  ") and "> 0.2  mean " in lines[2]
    assert lines[3] == "Report: out/report.md and out/report.json"
    assert "❌ not representative" in (data / "out/report.md").read_text()


def test_check_takes_other_paths(data: Path) -> None:
    shutil.copy(data / "data/dev.csv", data / "other.csv")
    code, out, _ = invoke(data, "check", "--dev", "other.csv", "--full", "data/full.csv")
    assert code == 0 and f"Dev set {data / 'other.csv'} (400 rows)" in out


def test_check_of_missing_data_is_a_data_error(data: Path) -> None:
    (data / "data/dev.csv").unlink()
    code, out, err = invoke(data, "check")
    assert (code, out) == (EXIT_DATA, "")
    assert (
        err == "Error: data/dev.csv does not exist: run `alops data pull` (or `dvc pull`) to get it, or fix the path\n"
    )


def test_check_without_the_label_column_names_file_and_column(data: Path) -> None:
    (data / "alops.yaml").write_text((data / "alops.yaml").read_text().replace("label: label", "label: target"))
    code, _, err = invoke(data, "check")
    assert code == EXIT_CONFIG
    # The builder's message for the same problem: the key in alops.yaml, the table, its columns.
    assert err.startswith(f"Error: {data / 'alops.yaml'}:")
    assert (
        f": datasets.dev.build.label: column 'target' is not in {data / 'data/full.csv'}; its columns: id, label, "
        in err
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo", tmp_path / "dvc-remote", FULL, DEV)
    adopt(root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def stale(repo: Path) -> None:
    """The full data changes and is committed: the dev set no longer represents it."""
    import subprocess

    from alops import dvc

    table = shifted(FULL, "x0", 2.0)
    write_csv(repo / "data/full.csv", table)
    dvc.add(["data/full.csv"], cwd=repo, env=dict(os.environ))
    subprocess.run(["git", "commit", "--quiet", "-am", "new data"], cwd=repo, check=True)


def test_refresh_with_nothing_to_do(repo: Path, api: responses.RequestsMock) -> None:
    code, out, err = invoke(repo, "refresh")
    assert (code, err) == (0, "")
    assert out.endswith("representative, all 13 tests passed.\nNothing to do: the dev set represents the full data.\n")


def test_refresh_without_a_token_says_which_variable(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale(repo)
    code, out, err = invoke(repo, "refresh")
    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        "Error: ALOPS_GITLAB_TOKEN is not set: create a project access token with the write_repository and api "
        "scopes (role Developer or higher) and add it as the CI/CD variable ALOPS_GITLAB_TOKEN, masked and "
        "protected, so only pipelines of protected branches can read it (CI_JOB_TOKEN cannot push or open "
        "merge requests)\n"
    )


def test_refresh_dry_run(repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    stale(repo)
    code, out, err = invoke(repo, "refresh", "--dry-run")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "NOT representative, 2 of 13 tests failed:" in lines[0]
    assert lines[-3].startswith("Rebuilt the dev set: The dev set data/dev.csv represents the full data")
    assert lines[-2].startswith("Committed ") and " on branch alops/devset-refresh-" in lines[-2]
    assert lines[-1] == "Dry run: pushed nothing, opened no merge request."


def test_refresh_opens_a_merge_request_and_never_shows_the_token(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess

    stale(repo)
    bare = tmp_path / "gitlab.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    url = "https://gitlab.example.com/grp/proj/-/merge_requests/3"
    api.get("https://gitlab.example.com/api/v4/projects/grp%2Fproj/merge_requests", json=[])
    api.post(
        "https://gitlab.example.com/api/v4/projects/grp%2Fproj/merge_requests",
        status=201,
        json={"iid": 3, "web_url": url},
    )
    for key, value in {
        "ALOPS_GITLAB_TOKEN": TOKEN,
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_PATH": "grp/proj",
        "CI_DEFAULT_BRANCH": "main",
        "ALOPS_GIT_PUSH_URL": str(bare),
    }.items():
        monkeypatch.setenv(key, value)
    code, out, err = invoke(repo, "refresh")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"Merge request: {url}"
    branch = out.split(" on branch ")[1].split(".\n")[0]
    assert subprocess.run(["git", "branch", "--list"], cwd=bare, capture_output=True, text=True).stdout.strip() == (
        branch
    )
    assert TOKEN not in out + err
    for report in (repo / ".alops/devset-check").iterdir():
        assert TOKEN not in report.read_text()


def test_refresh_help_documents_the_exit_codes(data: Path) -> None:
    code, out, _ = invoke(data, "refresh", "--help")
    assert code == 0
    assert "Exit codes: 0 representative, or a merge request was opened" in " ".join(out.split())
    assert "(default: .alops/devset-check in the project, a folder git ignores;" in " ".join(out.split())
    assert "[env var: ALOPS_DEVSET_REPORT_DIR]" in out
