"""``alops report`` on a real git repository, GitLab faked with ``responses``: the note edited in place."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from responses import matchers

from alops.cli import cli
from alops.errors import EXIT_TOOL

API = "https://gitlab.example.com/api/v4"
PROJECT = f"{API}/projects/42"
NOTES = f"{PROJECT}/merge_requests/7/notes"
BRANCH = "experiment/lr"
MARKER = "<!-- alops-report flow=experiment -->"
CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
quality:
  thresholds:
    accuracy: {min: 0.85, max_regression: 0.02}
report:
  confusion: "metrics/{dataset}-confusion.csv"
"""
CI = {
    "CI": "true",
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_PROJECT_ID": "42",
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_PIPELINE_ID": "1001",
    "CI_PIPELINE_URL": "https://gitlab.example.com/grp/proj/-/pipelines/1001",
    "CI_JOB_URL": "https://gitlab.example.com/grp/proj/-/jobs/5001",
    "CI_JOB_TOKEN": "job-token-secret",
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main with accuracy 0.95 in git; the workspace (the run of the MR's branch) with 0.97 and its confusion rows."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "metrics").mkdir()
    metrics(tmp_path, accuracy=0.95, f1_macro=0.94)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "baseline")
    metrics(tmp_path, accuracy=0.97, f1_macro=0.96)
    rows = ["actual,predicted", *(["0,0"] * 9), "0,1", *(["1,1"] * 8), "1,0", "2,2", "2,2"]
    (tmp_path / "metrics/full-confusion.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path


def metrics(root: Path, **values: float) -> None:
    (root / "metrics/full.json").write_text(json.dumps(values), encoding="utf-8")


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def invoke(root: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(root)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "report", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def no_history(api: responses.RequestsMock, branch: str = BRANCH) -> None:
    query = {"ref": branch, "status": "success", "order_by": "id", "sort": "desc", "per_page": "10"}
    api.get(f"{PROJECT}/pipelines", json=[], match=[matchers.query_param_matcher(query)])


def uploads(api: responses.RequestsMock) -> None:
    for name in ("confusion.png", "per-class.png"):
        api.post(
            f"{PROJECT}/uploads",
            json={"alt": name, "url": f"/uploads/abc/{name}", "markdown": f"![{name}](/uploads/abc/{name})"},
            match=[matchers.header_matcher({"PRIVATE-TOKEN": "project-token"})],
        )


def posted_body(root: Path) -> str:
    """report.md as posted: the uploads' Markdown where the file has its relative images."""
    text = (root / "alops-report/report.md").read_text("utf-8")
    text = text.replace("![Confusion matrix](confusion.png)", "![confusion.png](/uploads/abc/confusion.png)")
    return text.replace(
        "![Per-class precision, recall and F1](per-class.png)", "![per-class.png](/uploads/abc/per-class.png)"
    )


ENV = {**CI, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": BRANCH, "ALOPS_GITLAB_TOKEN": "project-token"}


def test_two_pipelines_create_the_note_then_edit_it_in_place(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pipeline 1: the MR has no note of ours yet: one POST.
    no_history(api)
    uploads(api)
    api.get(NOTES, json=[{"id": 3, "body": "LGTM", "system": False}])
    first = api.post(NOTES, json={"id": 99, "body": "x"}, status=201)

    code, out, err = invoke(repo, monkeypatch, ENV)

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Wrote alops-report/report.md, alops-report/index.html and 2 plot(s)"
    assert out.splitlines()[-1] == "Note created on merge request !7"
    body = json.loads(first.calls[0].request.body)
    assert body == {"body": posted_body(repo)}
    note = body["body"]
    assert note.startswith(MARKER + "\n## Experiment report: `experiment/lr`\n")
    assert "**Quality gate: ✅ pass (2 checks)**" in note
    assert "- ✅ pass: `accuracy: 0.95 → 0.97 at main, 0 worse, within max_regression 0.02`" in note
    assert "| metrics/full.json | accuracy | 0.95 | 0.97 |" in note
    assert "[Pipeline](https://gitlab.example.com/grp/proj/-/pipelines/1001)" in note
    assert (
        "[Report page](https://gitlab.example.com/grp/proj/-/jobs/5001/artifacts/file/alops-report/index.html)" in note
    )
    assert "alops reproduce https://gitlab.example.com/grp/proj/-/pipelines/1001\n" in note
    assert "job-token-secret" not in note and "project-token" not in note

    # Pipeline 2: the list now holds our note: a PUT of that note, no second POST.
    api.reset()
    metrics(repo, accuracy=0.96, f1_macro=0.95)
    no_history(api)
    uploads(api)
    api.get(NOTES, json=[{"id": 3, "body": "LGTM"}, {"id": 99, "body": MARKER + "\nold"}])
    second = api.put(f"{NOTES}/99", json={"id": 99, "body": "y"})

    code, out, err = invoke(repo, monkeypatch, ENV)

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "Note updated on merge request !7"
    assert json.loads(second.calls[0].request.body) == {"body": posted_body(repo)}
    assert "| metrics/full.json | accuracy | 0.95 | 0.96 |" in posted_body(repo)
    assert [c.request.method for c in api.calls] == ["GET", "POST", "POST", "GET", "PUT"]


def test_the_open_merge_request_of_the_branch_is_found_without_an_iid(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "alops.yaml").write_text(CONFIG.split("report:")[0], encoding="utf-8")
    env = {k: v for k, v in ENV.items() if k not in ("CI_MERGE_REQUEST_IID", "CI_PIPELINE_SOURCE")}
    env["CI_COMMIT_BRANCH"] = BRANCH
    no_history(api)
    api.get(
        f"{PROJECT}/merge_requests",
        json=[{"id": 1, "iid": 12, "web_url": "https://gitlab.example.com/grp/proj/-/merge_requests/12"}],
        match=[matchers.query_param_matcher({"source_branch": BRANCH, "state": "opened"})],
    )
    api.get(f"{PROJECT}/merge_requests/12/notes", json=[])
    api.post(f"{PROJECT}/merge_requests/12/notes", json={"id": 5}, status=201)

    code, out, err = invoke(repo, monkeypatch, env)

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "Note created on merge request !12: https://gitlab.example.com/grp/proj/-/merge_requests/12#note_5"
    )


def test_no_merge_request_writes_the_files_and_says_so(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in ENV.items() if k not in ("CI_MERGE_REQUEST_IID", "CI_PIPELINE_SOURCE")}
    env["CI_COMMIT_BRANCH"] = BRANCH
    no_history(api)
    api.get(f"{PROJECT}/merge_requests", json=[])

    code, out, err = invoke(repo, monkeypatch, env)

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "No open merge request of branch 'experiment/lr': the note was not written; the report is in alops-report/ "
        "(index.html) and at https://gitlab.example.com/grp/proj/-/jobs/5001/artifacts/file/alops-report/index.html"
    )
    assert (repo / "alops-report/index.html").is_file()


def test_with_only_the_job_token_the_note_is_not_written_and_it_says_what_to_set(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in ENV.items() if k != "ALOPS_GITLAB_TOKEN"}
    api.get(f"{PROJECT}/pipelines", status=403, json={"message": "403 Forbidden"})

    code, out, err = invoke(repo, monkeypatch, env)

    assert code == 0
    assert err == (
        "Warning: the note was not written to the merge request: ALOPS_GITLAB_TOKEN is not set (only CI_JOB_TOKEN is "
        "set, and GitLab's job token cannot write notes). Set the CI/CD variable ALOPS_GITLAB_TOKEN to a project "
        "access token with the api scope (role Reporter or higher), masked; the report is in alops-report/ "
        "(index.html) and at https://gitlab.example.com/grp/proj/-/jobs/5001/artifacts/file/alops-report/index.html\n"
    )
    assert "  not shown: accuracy across pipelines: the earlier pipelines could not be read: GitLab refused" in out
    assert "job-token-secret" not in out + err
    assert (repo / "alops-report/report.md").read_text("utf-8").startswith(MARKER)


def test_a_429_is_retried_after_retry_after(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_history(api)
    uploads(api)
    api.get(NOTES, status=429, headers={"Retry-After": "1"}, json={"message": "429 Too Many Requests"})
    api.get(NOTES, json=[])
    api.post(NOTES, json={"id": 99}, status=201)

    started = time.monotonic()
    code, out, err = invoke(repo, monkeypatch, ENV)

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "Note created on merge request !7"
    assert time.monotonic() - started >= 1.0  # it waited as GitLab asked


def test_gitlab_failing_for_good_warns_and_exits_0_or_3_with_fail_on_error(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for args, expected, configured in (((), 0, False), (("--fail-on-error",), EXIT_TOOL, False), ((), EXIT_TOOL, True)):
        text = CONFIG + ("  fail_on_error: true\n" if configured else "")
        (repo / "alops.yaml").write_text(text, encoding="utf-8")
        api.reset()
        no_history(api)
        failing = api.post(f"{PROJECT}/uploads", status=500, json={"message": "500 Internal Server Error"})

        code, out, err = invoke(repo, monkeypatch, ENV, *args)

        assert code == expected
        assert len(failing.calls) == 4  # the first try and 3 retries, no more
        message = (
            "the note was not written to the merge request: GitLab failed to write the report's note on the merge "
            "request (500: 500 Internal Server Error); the report is in alops-report/ (index.html)"
        )
        if expected == 0:
            assert err.startswith(f"Warning: {message}")
        else:
            assert err.startswith("Error: GitLab failed to write the report's note on the merge request (500")
        assert (repo / "alops-report/index.html").is_file()


def test_a_hostile_branch_name_is_escaped_in_the_note_and_the_page(
    repo: Path, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = "experiment/<img src=x onerror=alert(1)>|@all`#1"
    env = {**ENV, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch}
    no_history(api, branch)
    uploads(api)
    api.get(NOTES, json=[])
    created = api.post(NOTES, json={"id": 99}, status=201)

    code, _, err = invoke(repo, monkeypatch, env)

    assert (code, err) == (0, "")
    note = json.loads(created.calls[0].request.body)["body"]
    assert "## Experiment report: ``experiment/<img src=x onerror=alert(1)>|@all`#1``\n" in note
    page = (repo / "alops-report/index.html").read_text("utf-8")
    assert "<img src=x" not in page
    assert "Experiment report: experiment/&lt;img src=x onerror=alert(1)&gt;|@all`#1</h1>" in page


def test_outside_ci_it_writes_the_files_and_posts_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "checkout", "-q", "-b", BRANCH)

    code, out, err = invoke(repo, monkeypatch, {})

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Wrote alops-report/report.md, alops-report/index.html and 2 plot(s)",
        "  not shown: accuracy across pipelines: CI_PROJECT_ID is not set (outside CI): the branch's earlier "
        "pipelines are unknown",
        "Not posted to a merge request (outside CI): pass --post to post it",
    ]
    assert sorted(p.name for p in (repo / "alops-report").iterdir()) == [
        "confusion.png",
        "index.html",
        "per-class.png",
        "report.md",
    ]


def test_out_must_not_be_a_folder_of_other_files(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "checkout", "-q", "-b", BRANCH)

    code, _, err = invoke(repo, monkeypatch, {}, "--out", "metrics")

    assert code == 2
    assert err == (
        "Error: --out metrics holds files that are not a report's (full-confusion.csv, full.json): it would be "
        "replaced as a whole; name an empty or new folder (default alops-report)\n"
    )
    assert (repo / "metrics/full.json").is_file()


@pytest.mark.slow
def test_the_skeleton_s_evaluate_stage_feeds_the_confusion_plots(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib import image

    git(project, "checkout", "-q", "-b", "feature/report")
    ran = CliRunner().invoke(cli, ["-c", str(project / "alops.yaml"), "run"], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    rows = (project / "metrics/dev-confusion.csv").read_text("utf-8").splitlines()
    assert (
        rows[0] == "actual,predicted"
        and len(rows) - 1 == json.loads((project / "metrics/dev.json").read_text())["test_rows"]
    )

    started = time.monotonic()
    code, out, err = invoke(project, monkeypatch, {})
    elapsed = time.monotonic() - started

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Wrote alops-report/report.md, alops-report/index.html and 2 plot(s)"
    for name in ("confusion.png", "per-class.png"):
        assert image.imread(project / "alops-report" / name).shape[1] >= 400
    note = (project / "alops-report/report.md").read_text("utf-8")
    assert "![Confusion matrix](confusion.png) ![Per-class precision, recall and F1](per-class.png)" in note
    assert "| metrics/dev.json | accuracy |" in note
    assert "| python | `3." in note  # the manifest alops run wrote
    assert elapsed < 10  # about 3 s on a busy 2-core machine, matplotlib's import most of it
