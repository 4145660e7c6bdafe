"""``alops.devset.refresh.run`` in a real git + DVC repository, pushing to a bare repository.

GitLab's HTTP API is faked with ``responses`` (each endpoint registered once,
every registered request must be made); git pushes to a bare repository named
by ``ALOPS_GIT_PUSH_URL``; DVC pushes to a local remote.

Building the repository (``git init``, ``dvc init``, ``dvc add``, ``dvc push``,
a dev set built by alops) takes seconds of DVC starts: it is done once per
module, and once more for the drifted version most tests need; each test gets
a copy of its own (work tree, ``.git``, DVC cache and remote) in milliseconds.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from alops.config import load_config
from alops.devset.refresh import run as refresh_mod
from alops.errors import EXIT_NOT_REPRESENTATIVE, AlopsError, ConfigError, DataError, ToolError

from devset_data import Refusing, adopt, copy_repo, git, make_repo, remote_objects, rows, sample, shifted, write_csv
from helpers import isolate

TOKEN = "glpat-refresh-secret-4711"
DAY = date(2025, 3, 14)
MRS = "https://gitlab.example.com/api/v4/projects/42/merge_requests"
MR_URL = "https://gitlab.example.com/grp/proj/-/merge_requests/9"
HOSTILE_TARGET = "main$(touch pwned)`touch pwned2`;rm -rf x"
FULL = rows(4000)


@dataclass(frozen=True)
class Template:
    """A repository and its DVC remote that tests copy and never change."""

    repo: Path
    remote: Path

    def copy(self, to: Path) -> Path:
        return copy_repo(self.repo, self.remote, to / "repo", to / "dvc-remote")


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The per-test ``clean_env`` isolation, for the module's templates (built before any test's fixtures run)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("template-home"))
        yield


@pytest.fixture(scope="module")
def base_template(isolated: None, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A git + DVC project: full data and a dev set alops built from it, both pushed to the DVC remote."""
    where = tmp_path_factory.mktemp("refresh-base")
    make_repo(where / "repo", where / "remote", FULL, sample(FULL), push=False)
    adopt(where / "repo")  # pushes the full data and the built dev set
    return Template(where / "repo", where / "remote")


@pytest.fixture(scope="module")
def drifted_template(base_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The same project after its full data changed (x0 shifted by 1 sd) and was committed: the dev set fails."""
    root = base_template.copy(tmp_path_factory.mktemp("refresh-drifted"))
    change_full_data(root, shifted(FULL, "x0", 2.0))
    return Template(root, root.parent / "dvc-remote")


@pytest.fixture
def repo(base_template: Template, tmp_path: Path) -> Path:
    """A copy of the project whose dev set represents its full data."""
    return base_template.copy(tmp_path)


@pytest.fixture
def drifted(drifted_template: Template, tmp_path: Path) -> Path:
    """A copy of the project whose full data drifted from its dev set (and was committed)."""
    return drifted_template.copy(tmp_path)


def change_full_data(root: Path, table: list[list[Any]]) -> None:
    from alops import dvc

    write_csv(root / "data/full.csv", table)
    dvc.add(["data/full.csv"], cwd=root, env=dict(os.environ))
    git(root, "commit", "--quiet", "-am", "new full data")


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def env_for(bare: Path, **extra: str) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "ALOPS_GITLAB_TOKEN": TOKEN,
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_PATH": "grp/proj",
        "CI_COMMIT_BRANCH": "main",
        "ALOPS_GIT_PUSH_URL": str(bare),
        **extra,
    }


def test_a_representative_dev_set_changes_nothing(repo: Path, bare: Path, api: responses.RequestsMock) -> None:
    head = git(repo, "rev-parse", "HEAD")
    result = refresh_mod.refresh(load_config(repo / "alops.yaml"), env=env_for(bare), report_dir=repo / "devset-check")
    assert result.before.representative and result.after is None and result.branch is None
    assert git(repo, "rev-parse", "HEAD") == head and git(bare, "branch") == ""
    assert sorted(p.name for p in result.reports) == ["report.json", "report.md"]


def test_dry_run_commits_on_the_branch_and_sends_nothing(
    drifted: Path, bare: Path, api: responses.RequestsMock
) -> None:
    repo = drifted
    base = git(repo, "rev-parse", "HEAD").strip()
    before = remote_objects(repo.parent / "dvc-remote")
    env = {k: v for k, v in env_for(bare).items() if k != "ALOPS_GITLAB_TOKEN"}  # not needed for a dry run
    result = refresh_mod.refresh(
        load_config(repo / "alops.yaml"), env=env, report_dir=repo / "devset-check", dry_run=True, today=DAY
    )
    assert result.dry_run and result.url is None
    assert result.after is not None and result.after.representative
    assert result.branch == f"alops/devset-refresh-20250314-{base[:8]}"
    assert git(repo, "branch", "--show-current").strip() == result.branch
    assert git(repo, "rev-parse", "HEAD^").strip() == base
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "data/dev.csv.dvc",
        "data/dev.csv.report.json",  # the Markdown report says the same as before: unchanged
        "devset-check/rebuilt.json",
        "devset-check/rebuilt.md",
        "devset-check/report.json",
        "devset-check/report.md",
    ]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("Refresh the dev dataset: 2 of 13 checks failed\n\n- x0: ks failed\n- x0: psi failed\n")
    assert git(bare, "branch") == "" and remote_objects(repo.parent / "dvc-remote") == before


def test_reports_in_an_ignored_folder_stay_out_of_the_commit(
    drifted: Path, bare: Path, api: responses.RequestsMock
) -> None:
    repo = drifted
    (repo / ".gitignore").write_text("devset-check/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "--quiet", "-m", "check reports are not tracked")
    result = refresh_mod.refresh(
        load_config(repo / "alops.yaml"), env=env_for(bare), report_dir=repo / "devset-check", dry_run=True
    )
    assert result.commit and (repo / "devset-check/report.md").is_file()
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "data/dev.csv.dvc",
        "data/dev.csv.report.json",
    ]


def test_refresh_pushes_data_and_branch_and_opens_a_merge_request(
    drifted: Path,
    bare: Path,
    api: responses.RequestsMock,
    argv: list[list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = drifted
    monkeypatch.chdir(tmp_path)
    base = git(repo, "rev-parse", "HEAD").strip()
    branch = f"alops/devset-refresh-20250314-{base[:8]}"
    api.get(MRS, json=[], match=[matchers.query_param_matcher({"source_branch": branch, "state": "opened"})])
    create = api.post(
        MRS,
        status=201,
        json={"iid": 9, "web_url": MR_URL},
        match=[
            matchers.header_matcher({"PRIVATE-TOKEN": TOKEN}),
            matchers.json_params_matcher(
                {
                    "source_branch": branch,
                    "target_branch": HOSTILE_TARGET,
                    "title": "Refresh the dev dataset (2025-03-14): 2 checks failed",
                    "remove_source_branch": True,
                },
                strict_match=False,
            ),
        ],
    )
    env = env_for(
        bare, CI_COMMIT_BRANCH=HOSTILE_TARGET, CI_PIPELINE_URL="https://gitlab.example.com/grp/proj/-/pipelines/5"
    )
    config = load_config(repo / "alops.yaml")
    result = refresh_mod.refresh(config, env=env, report_dir=repo / "devset-check", today=DAY)

    assert (result.url, result.branch) == (MR_URL, branch)
    # The branch is on the "GitLab" remote, with the new .dvc file; its data is on the DVC remote.
    assert git(bare, "rev-parse", f"refs/heads/{branch}").strip() == result.commit
    dvc_file = git(bare, "show", f"{branch}:data/dev.csv.dvc")
    assert dvc_file == (repo / "data/dev.csv.dvc").read_text()
    md5 = next(line.split()[-1] for line in dvc_file.splitlines() if "md5:" in line)
    assert md5 in remote_objects(repo.parent / "dvc-remote")
    # The description is the report: why the dev set failed, and how it does now.
    import json

    description = json.loads(create.calls[0].request.body)["description"]
    assert description.startswith(
        "Opened by `alops devset refresh` in pipeline https://gitlab.example.com/grp/proj/-/pipelines/5: "
    )
    assert "**After the rebuild:** The dev set `data/dev.csv` represents the full data" in description
    assert "## Dev set check: ❌ not representative" in description and "| `x0` | numeric | KS |" in description
    # Hostile names went nowhere near a shell; the token nowhere but the API header and git's environment.
    assert not list(tmp_path.glob("pwned*")) and not list(repo.glob("pwned*"))
    assert all(TOKEN not in arg for args in argv for arg in args)
    assert any(args[:3] == ["git", "push", "--force"] for args in argv)
    for path in [*result.reports, repo / ".git/config"]:
        assert TOKEN not in path.read_text()
    everything = git(bare, "log", "-p", "--all") + git(repo, "log", "-p", "--all")
    assert TOKEN not in everything and base64.b64encode(f"oauth2:{TOKEN}".encode()).decode() not in everything


def test_a_rerun_reuses_the_branch_and_the_merge_request(
    drifted: Path, bare: Path, api: responses.RequestsMock
) -> None:
    repo = drifted
    base = git(repo, "rev-parse", "HEAD").strip()
    branch = f"alops/devset-refresh-20250314-{base[:8]}"
    config = load_config(repo / "alops.yaml")
    env = env_for(bare)
    api.get(MRS, json=[])
    api.post(MRS, status=201, json={"iid": 9, "web_url": MR_URL})
    first = refresh_mod.refresh(config, env=env, report_dir=repo / "devset-check", today=DAY)
    # The job runs again on the same commit (a retry): the same branch is pushed again, the MR updated.
    git(repo, "checkout", "--quiet", "--force", base)
    subprocess.run([sys.executable, "-m", "dvc", "checkout", "--force"], cwd=repo, check=True, capture_output=True)
    api.upsert(responses.GET, MRS, json=[{"iid": 9, "web_url": MR_URL, "title": "x", "description": "y"}])
    api.put(f"{MRS}/9", json={"iid": 9, "web_url": MR_URL})
    second = refresh_mod.refresh(config, env=env, report_dir=repo / "devset-check", today=DAY)
    assert (first.branch, first.url) == (second.branch, second.url) == (branch, MR_URL)
    assert git(bare, "rev-parse", f"refs/heads/{branch}").strip() == second.commit != first.commit


def test_a_missing_token_fails_before_the_rebuild(drifted: Path, bare: Path, api: responses.RequestsMock) -> None:
    repo = drifted
    dev = (repo / "data/dev.csv").read_bytes()
    env = {k: v for k, v in env_for(bare).items() if k != "ALOPS_GITLAB_TOKEN"}
    with pytest.raises(DataError) as err:
        refresh_mod.refresh(load_config(repo / "alops.yaml"), env=env, report_dir=repo / "devset-check")
    assert str(err.value).startswith("ALOPS_GITLAB_TOKEN is not set: create a project access token with the ")
    assert "masked and protected" in str(err.value)
    assert (repo / "data/dev.csv").read_bytes() == dev
    assert git(repo, "branch", "--show-current").strip() == "main"


def test_a_rebuild_that_changes_nothing_exits_not_representative(
    repo: Path, bare: Path, api: responses.RequestsMock
) -> None:
    # The dev set is the builder's own (``adopt`` built it), and the thresholds are stricter than any
    # sample can meet: the rebuild gives the same bytes, so there is nothing to propose.
    path = repo / "alops.yaml"
    path.write_text(path.read_text().replace("  dev:\n", "  dev:\n    check: {psi_max: 0}\n"))
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "strict thresholds")
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(AlopsError) as err:
        refresh_mod.refresh(load_config(path), env=env_for(bare), report_dir=repo / "devset-check")
    assert err.value.exit_code == EXIT_NOT_REPRESENTATIVE
    assert str(err.value).startswith("the rebuilt dev set is the same as before and still fails the check (")
    assert "another seed, or a larger fraction" in str(err.value)
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain", "data/dev.csv.dvc") == ""
    assert git(bare, "branch") == ""


def test_the_token_reaches_git_only_as_an_http_header(
    drifted: Path, api: responses.RequestsMock, argv: list[list[str]], refusing: Refusing
) -> None:
    repo = drifted
    with pytest.raises(ToolError) as err:
        refresh_mod.refresh(
            load_config(repo / "alops.yaml"),
            env=env_for(repo, ALOPS_GIT_PUSH_URL=refusing.url),
            report_dir=repo / "devset-check",
        )
    expected = "Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert [h.get("Authorization") for h in refusing.headers] == [expected]
    assert "GitLab refused the push: ALOPS_GITLAB_TOKEN needs the write_repository scope" in str(err.value)
    assert TOKEN not in str(err.value) and expected not in str(err.value)
    assert all(TOKEN not in arg and expected not in arg for args in argv for arg in args)


GITLAB = {"ALOPS_GITLAB_TOKEN": f" {TOKEN}\n", "CI_SERVER_URL": "https://gitlab.example.com/"}


@pytest.mark.parametrize(
    ("env", "target", "expected"),
    [
        (
            {
                "CI_PROJECT_ID": "42",
                "CI_PROJECT_PATH": "grp/proj",
                "CI_COMMIT_BRANCH": "dev",
                "CI_DEFAULT_BRANCH": "main",
            },
            None,
            refresh_mod.Destination(TOKEN, "https://gitlab.example.com/grp/proj.git", "42", "dev"),
        ),
        (  # a pipeline of a tag, or a schedule without a branch: the default branch
            {"CI_PROJECT_PATH": "grp/proj", "CI_DEFAULT_BRANCH": "main", "ALOPS_GIT_PUSH_URL": "/srv/p.git"},
            None,
            refresh_mod.Destination(TOKEN, "/srv/p.git", "grp/proj", "main"),
        ),
        (
            {"CI_PROJECT_PATH": "grp/proj", "CI_COMMIT_BRANCH": "dev"},
            "release/1",
            refresh_mod.Destination(TOKEN, "https://gitlab.example.com/grp/proj.git", "grp/proj", "release/1"),
        ),
    ],
)
def test_destination(env: dict[str, str], target: str | None, expected: refresh_mod.Destination) -> None:
    assert refresh_mod.destination({**GITLAB, **env}, target) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CI_COMMIT_BRANCH": "main"},
            "the GitLab project is unknown: set CI_PROJECT_ID or CI_PROJECT_PATH (GitLab sets both in CI)",
        ),
        ({"CI_PROJECT_ID": "42"}, "the merge request's target branch is unknown: pass --target BRANCH"),
    ],
)
def test_destination_unknown_says_what_to_set(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        refresh_mod.destination({**GITLAB, **env})
    assert str(err.value) == message


def test_destination_checks_the_token_first() -> None:
    with pytest.raises(DataError, match="^ALOPS_GITLAB_TOKEN is not set: "):
        refresh_mod.destination({"ALOPS_GITLAB_TOKEN": "  "})


@pytest.mark.parametrize(
    ("pipeline", "by"),
    [
        ("https://gitlab.example.com/grp/proj/-/pipelines/5", "`alops devset refresh` in pipeline https://"),
        ("javascript:alert(1)", "`alops devset refresh`: "),  # only a web address becomes a link
        ("", "`alops devset refresh`: "),
    ],
)
def test_the_merge_request_description_names_the_pipeline_only_by_its_web_address(
    drifted: Path, pipeline: str, by: str
) -> None:
    from alops.devset.check.run import check

    failed = check(load_config(drifted / "alops.yaml"))
    assert not failed.representative
    text = refresh_mod.description(failed, failed, {"CI_PIPELINE_URL": pipeline})
    assert text.startswith(f"Opened by {by}")
    assert "javascript" not in text
    assert "\n\n**After the rebuild:** The dev set `data/dev.csv` no longer represents the full data " in text
    assert "\n\n## Dev set check: ❌ not representative\n\n" in text  # then the failed check in full
