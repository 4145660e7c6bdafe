"""``alops experiments`` through the CLI: formats, hostile names, the output file, errors; GitLab faked with responses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from test_experiments import API, CONFIG, ENV, GATES, TOKEN, branch, manifest, mr, serve

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA
from alops.text import safe

#: A branch name git allows that a terminal or a browser would act on, and an MR title that is HTML.
HOSTILE = "experiment/\x1b]8;;https://evil.example\x07x<script>"
TITLE = '<img src=x onerror="alert(1)"> \x1b[2J&'


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "alops.yaml").write_text(CONFIG + GATES, encoding="utf-8")
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    return tmp_path


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "experiments", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def two_experiments(api: responses.RequestsMock) -> None:
    branches = [branch("main", default=True), branch("experiment/lr"), branch("experiment/forest")]
    serve(
        api,
        branches,
        [mr(7, "experiment/lr", "Lower C")],
        {
            "main": manifest("main", accuracy=0.9, loss=0.3),
            "experiment/lr": manifest("experiment/lr", accuracy=0.95, loss=0.25, **{"train.C": 0.1}),
            "experiment/forest": None,
        },
    )


def test_text_table(api: responses.RequestsMock, project: Path) -> None:
    two_experiments(api)
    code, out, err = invoke(project)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "2 experiment branches of project 42, sorted by accuracy (higher is better, best first)",
        "",
        "          branch             MR          commit    when              accuracy  loss  params       "
        "data                note         pipeline",
        "best      experiment/lr      !7 Lower C  22222222  2026-12-02 05:00  0.95      0.25  train.C=0.1  "
        "data/full@01234567               https://gitlab.example.com/grp/proj/-/pipelines/13",
        "baseline  main                           11111111  2026-12-02 05:00  0.9       0.3                "
        "data/full@01234567               https://gitlab.example.com/grp/proj/-/pipelines/4",
        "          experiment/forest              33333333  2026-12-01 09:00  -         -                  "
        "                    no manifest",
        "",
        "no manifest: the branch's latest successful pipeline kept no alops-manifest.json in the artifacts of job "
        "alops-run-gpu (ALOPS_BASELINE_JOB names another job)",
    ]


def test_json_shape(api: responses.RequestsMock, project: Path) -> None:
    two_experiments(api)
    code, out, _ = invoke(project, "--format", "json", "--sort", "loss")
    assert code == 0
    doc = json.loads(out)
    assert (doc["alops_experiments"], doc["project"], doc["default_branch"]) == (1, "42", "main")
    assert doc["sort"] == {"metric": "loss", "better": "lower", "ascending": True}
    assert [(r["branch"], r["best"], r["baseline"], r["value"]) for r in doc["rows"]] == [
        ("experiment/lr", True, False, 0.25),
        ("main", False, True, 0.3),
        ("experiment/forest", False, False, None),
    ]
    lr = doc["rows"][0]
    assert lr["merge_request"] == {"iid": 7, "title": "Lower C", "state": "opened", "url": mr(7, "a", "b")["web_url"]}
    assert (lr["params"], lr["params_all"]["params.yaml"]["train.model"]) == ({"train.C": 0.1}, "logreg")
    assert lr["metrics"] == {"metrics/full.json": {"loss": 0.25, "accuracy": 0.95}}
    assert lr["data"] == {"data/full": "0123456789abcdef0123456789abcdef.dir"}
    assert set(lr["data_all"]) == {"data/full", "models/full"}
    assert (lr["manifest"], doc["rows"][2]["manifest"], doc["rows"][2]["note"]) == (True, False, "no manifest")


def test_hostile_branch_names_and_titles_are_escaped_in_text(api: responses.RequestsMock, project: Path) -> None:
    serve(api, [branch(HOSTILE)], [mr(3, HOSTILE, TITLE)], {HOSTILE: manifest(HOSTILE)})
    code, out, _ = invoke(project)
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "experiment/\\x1b]8;;https://evil.example\\x07x<script>" in out
    assert '!3 <img src=x onerror="alert(1)"> \\x1b[2J&' in out


def test_html_page_escapes_and_links(api: responses.RequestsMock, project: Path) -> None:
    serve(
        api,
        [branch("main", default=True), branch(HOSTILE)],
        [mr(3, HOSTILE, TITLE)],
        {"main": None, HOSTILE: manifest(HOSTILE)},
    )
    out_file = project / "site" / "experiments.html"
    code, out, _ = invoke(project, "--format", "html", "--output", str(out_file))
    assert (code, out) == (0, f"wrote {out_file}: 1 experiment branch\n")
    page = out_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script>" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert f'<a href="{mr(3, "a", "b")["web_url"]}">' in page
    assert '<span class="badge pass">best</span>' in page and '<span class="badge base">baseline</span>' in page
    assert not list(out_file.parent.glob(".*"))  # written through a temporary file renamed over it


def test_a_bad_token_exits_4_with_what_to_do_and_no_token(api: responses.RequestsMock, project: Path) -> None:
    api.get(f"{API}/repository/branches", status=401, json={"message": "401 Unauthorized"})
    code, out, err = invoke(project)
    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith("Error: GitLab refused to list the branches and merge requests of project 42 (401")
    assert "ALOPS_GITLAB_TOKEN is a project access token" in err and TOKEN not in err


def test_no_project_exits_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_PROJECT_ID")
    code, _, err = invoke(project)
    assert code == EXIT_CONFIG
    assert "pass --project GROUP/NAME" in err


def test_the_project_option_names_a_path(api: responses.RequestsMock, project: Path) -> None:
    path_api = "https://gitlab.example.com/api/v4/projects/grp%2Fproj"
    api.get(f"{path_api}/repository/branches", json=[])
    api.get(f"{path_api}/merge_requests", json=[])
    code, out, _ = invoke(project, "--project", "grp/proj", "--limit", "0")
    assert code == 0
    assert out.startswith("0 experiment branches of project grp/proj, sorted by accuracy")
    assert "no default branch" in out


def test_the_job_comes_from_alops_baseline_job(
    api: responses.RequestsMock, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALOPS_BASELINE_JOB", "train-gpu")
    serve(api, [branch("experiment/lr")], [], {})
    api.get(
        f"{API}/jobs/artifacts/experiment%2Flr/raw/alops-manifest.json",
        body=manifest("experiment/lr"),
        match=[responses.matchers.query_param_matcher({"job": "train-gpu"})],
    )
    code, out, _ = invoke(project, "--format", "json")
    assert code == 0 and json.loads(out)["job"] == "train-gpu"


def test_json_is_strict_and_ascii(api: responses.RequestsMock, project: Path) -> None:
    body = manifest("experiment/lr").replace(b'"loss": 0.3', b'"loss": NaN')
    serve(api, [branch("experiment/lr")], [mr(2, "experiment/lr", "caf\u00e9 \u202e")], {"experiment/lr": body})
    code, out, _ = invoke(project, "--format", "json")
    assert code == 0 and out.isascii() and "NaN" not in out
    row = json.loads(out)["rows"][0]
    assert (row["metrics"]["metrics/full.json"]["loss"], row["merge_request"]["title"]) == (None, "caf\u00e9 \u202e")


CHROMIUM = Path("/usr/bin/chromium")
#: Read before the autouse fixture strips CI: in CI a missing Chromium fails, elsewhere it skips.
IN_CI = bool(os.environ.get("CI"))


@pytest.mark.slow
def test_the_page_in_chromium_shows_the_values_runs_nothing_and_requests_nothing(
    api: responses.RequestsMock, project: Path
) -> None:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: scripts/ensure-system-tools installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; in CI this test fails)")
    from playwright.sync_api import sync_playwright

    serve(
        api,
        [branch("main", default=True), branch(HOSTILE), branch("experiment/lr")],
        [mr(3, HOSTILE, TITLE)],
        {"main": manifest("main", accuracy=0.9), HOSTILE: manifest(HOSTILE, accuracy=0.97), "experiment/lr": None},
    )
    page = project / "experiments.html"
    assert invoke(project, "--format", "html", "-o", str(page))[0] == 0
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1200, "height": 800})
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        tab.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
        tab.set_content(page.read_text(encoding="utf-8"), wait_until="load")
        rows = tab.eval_on_selector_all("tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent.trim()))")
        links = tab.eval_on_selector_all("a", "as => as.map(a => a.href)")
        scripts = tab.eval_on_selector_all("script, img", "es => es.length")
        browser.close()
    assert rows[0][:7] == ["", "branch", "MR", "commit", "when", "accuracy", "loss"]
    best, base, missing = rows[1:]
    # The name and the title are shown as the text they are: no element, no dialog, no request.
    assert (best[0], best[1], best[2]) == ("best", safe(HOSTILE), f"!3 {safe(TITLE)}")
    assert "\\x1b]8;;" in best[1]  # the escape sequence is visible, not hidden
    assert (best[5], base[0], base[1], base[5]) == ("0.97", "baseline", "main", "0.9")
    assert (missing[1], missing[5], missing[-2]) == ("experiment/lr", "-", "no manifest")
    assert links[0] == mr(3, "a", "b")["web_url"]
    assert (scripts, dialogs, requests) == (0, [], [])


def test_limit_says_how_many_branches_it_left_out(api: responses.RequestsMock, project: Path) -> None:
    old = branch("experiment/old", date="2026-01-01T00:00:00Z")
    serve(api, [branch("main", default=True), branch("experiment/lr"), old], [], {"main": None, "experiment/lr": None})
    code, out, _ = invoke(project, "--limit", "1")
    assert code == 0
    assert out.splitlines()[-1] == "1 older experiment branch left out: --limit 0 lists them all"
    assert "experiment/old" not in out
