"""``alops.devset.refresh.git`` against real git: a work repository, a bare remote, an HTTP server that refuses.

No DVC here: ``commit`` only adds the paths it is given (the ``.dvc`` file is
a plain file to git), so these tests take a fraction of a second each.
"""

from __future__ import annotations

import base64
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from alops.devset.refresh import git as refresh_git
from alops.errors import ConfigError, ToolError

from devset_data import Refusing, git

TOKEN = "glpat-refresh-secret-4711"
BASIC = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
BRANCH = "alops/devset-refresh-20250314-0123abcd"
#: Git needs an identity from its configuration only: no guess from the host name, whatever the machine.
CONFIG_ONLY = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.useConfigOnly", "GIT_CONFIG_VALUE_0": "true"}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A repository on ``main`` with a tracked ``data/dev.csv.dvc`` and a report folder the project ignores."""
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "data").mkdir()
    (root / "data/dev.csv.dvc").write_text("outs:\n- md5: 1\n")
    (root / ".gitignore").write_text("ignored/\n")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "base")
    return root


def no_identity() -> dict[str, str]:
    """The test environment without the identity the test isolation gives git."""
    drop = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **CONFIG_ONLY}


def change(root: Path) -> None:
    (root / "data/dev.csv.dvc").write_text("outs:\n- md5: 2\n")
    (root / "report.md").write_text("# report\n")
    (root / "ignored").mkdir(exist_ok=True)
    (root / "ignored/check.md").write_text("# check\n")


def commit(root: Path, env: dict[str, str] | None = None, branch: str = BRANCH) -> str | None:
    return refresh_git.commit(
        root, branch, ["data/dev.csv.dvc"], ["report.md", "ignored/check.md"], "Refresh", env or dict(os.environ)
    )


def test_branch_name_is_the_day_and_the_base_commit() -> None:
    sha = "0123abcd" + "e" * 32
    assert refresh_git.branch_name(date(2025, 3, 4), sha) == "alops/devset-refresh-20250304-0123abcd"


def test_commit_puts_the_data_and_the_reports_git_tracks_on_the_branch(work: Path) -> None:
    base = refresh_git.head(work)
    change(work)
    sha = commit(work)
    assert sha == refresh_git.head(work) == git(work, "rev-parse", BRANCH).strip()
    assert git(work, "branch", "--show-current").strip() == BRANCH
    assert git(work, "rev-parse", "HEAD^").strip() == base
    assert git(work, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "Refresh",
        "data/dev.csv.dvc",
        "report.md",
    ]
    assert git(work, "rev-parse", "main").strip() == base  # main itself never moves
    # The identity the test environment gives git is the one used (it is not replaced).
    assert git(work, "log", "-1", "--format=%an <%ae>") == "alops tests <tests@alops.invalid>\n"


def test_commit_without_a_data_change_makes_nothing_and_unstages_the_reports(work: Path) -> None:
    base = refresh_git.head(work)
    (work / "report.md").write_text("# a new report alone\n")
    assert commit(work) is None
    assert refresh_git.head(work) == base and git(work, "branch", "--show-current").strip() == "main"
    assert git(work, "branch", "--list", "alops/*") == ""
    assert git(work, "diff", "--cached", "--name-only") == ""  # nothing left staged
    assert git(work, "status", "--porcelain") == "?? report.md\n"


def test_a_rerun_moves_the_branch_to_the_new_commit(work: Path) -> None:
    change(work)
    first = commit(work)
    git(work, "checkout", "--quiet", "main")  # the job runs again on the same base commit
    change(work)
    (work / "data/dev.csv.dvc").write_text("outs:\n- md5: 3\n")
    second = commit(work)
    assert second is not None and second != first and git(work, "rev-parse", BRANCH).strip() == second
    assert git(work, "rev-parse", f"{BRANCH}^").strip() == git(work, "rev-parse", "main").strip()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"GITLAB_USER_NAME": "Ada Lovelace", "GITLAB_USER_EMAIL": "ada@example.com"},
            "Ada Lovelace <ada@example.com>",
        ),
        ({"GITLAB_USER_NAME": "Ada Lovelace"}, "Ada Lovelace <alops@noreply.invalid>"),
        ({"GITLAB_USER_NAME": "", "GITLAB_USER_EMAIL": ""}, "alops devset refresh <alops@noreply.invalid>"),
    ],
)
def test_without_an_identity_the_commit_is_by_the_pipeline_user_or_alops(
    work: Path, extra: dict[str, str], expected: str
) -> None:
    change(work)
    # First: this environment really has no identity (the commit would fail without the fallback).
    probe = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=work, env=no_identity(), capture_output=True)
    assert probe.returncode != 0 and b"auto-detection is disabled" in probe.stderr
    commit(work, {**no_identity(), **extra})
    assert git(work, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == f"{expected}|{expected}\n"


def test_git_s_own_identity_wins_over_the_pipeline_user(work: Path) -> None:
    git(work, "config", "user.name", "Repo Bot")
    git(work, "config", "user.email", "bot@example.com")
    change(work)
    commit(work, {**no_identity(), "GITLAB_USER_NAME": "Ada", "GITLAB_USER_EMAIL": "ada@example.com"})
    assert git(work, "log", "-1", "--format=%an <%ae>") == "Repo Bot <bot@example.com>\n"


def test_push_sends_the_branch_and_keeps_the_token_out_of_every_argument(
    work: Path, bare: Path, argv: list[list[str]]
) -> None:
    change(work)
    sha = commit(work)
    refresh_git.push(work, str(bare), BRANCH, TOKEN, dict(os.environ))
    assert git(bare, "rev-parse", f"refs/heads/{BRANCH}").strip() == sha
    assert git(bare, "branch", "--format=%(refname)").split() == [f"refs/heads/{BRANCH}"]
    assert ["git", "push", "--force", "--", str(bare), f"HEAD:refs/heads/{BRANCH}"] in argv
    assert all(TOKEN not in a and BASIC not in a for args in argv for a in args)
    assert TOKEN not in (work / ".git/config").read_text()


def test_the_token_goes_as_a_header_after_the_caller_s_own_git_config(
    work: Path, refusing: Refusing, argv: list[list[str]]
) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": "X-Caller: kept",
    }
    with pytest.raises(ToolError) as err:
        refresh_git.push(work, refusing.url, BRANCH, TOKEN, env)
    assert [(h.get("X-Caller"), h.get("Authorization")) for h in refusing.headers] == [("kept", f"Basic {BASIC}")]
    message = str(err.value)
    assert message.startswith("`git push --force …` failed with exit code 128:\n")
    assert message.endswith(
        "\nGitLab refused the push: ALOPS_GITLAB_TOKEN needs the write_repository scope and role Developer "
        "or higher (CI_JOB_TOKEN cannot push), and alops/* branches must not be protected against it"
    )
    assert TOKEN not in message and BASIC not in message
    assert all(TOKEN not in a and BASIC not in a for args in argv for a in args)


def test_without_a_token_no_authorization_is_sent(work: Path, refusing: Refusing) -> None:
    with pytest.raises(ToolError):
        refresh_git.push(work, refusing.url, BRANCH, None, dict(os.environ))
    assert len(refusing.headers) == 1 and "Authorization" not in refusing.headers[0]


def test_a_token_in_the_push_url_is_not_in_the_error_nor_in_the_output(
    work: Path, refusing: Refusing, capfd: pytest.CaptureFixture[str]
) -> None:
    url = refusing.url.replace("http://", f"http://oauth2:{TOKEN}@")
    with pytest.raises(ToolError) as err:
        refresh_git.push(work, url, BRANCH, TOKEN, dict(os.environ))
    assert TOKEN not in str(err.value) and BASIC not in str(err.value)
    assert "127.0.0.1" in str(err.value)  # what failed is still said
    out, errors = capfd.readouterr()
    assert TOKEN not in out + errors and BASIC not in out + errors


def test_a_token_git_quotes_is_redacted_whatever_it_looks_like(work: Path, refusing: Refusing) -> None:
    # An old-style token (no glpat- prefix that generic redaction would know), where git quotes it: the URL.
    token = "q7Zx2kLm9PwR4tVb8NcY"
    with pytest.raises(ToolError) as err:
        refresh_git.push(work, refusing.url.replace("/grp/", f"/{token}/grp/"), BRANCH, token, dict(os.environ))
    assert "127.0.0.1" in str(err.value) and "/grp/proj.git" in str(err.value)
    assert token not in str(err.value)


@pytest.mark.parametrize("count", ["abc", "-1", "1.5", "٣"])
def test_a_bogus_git_config_count_is_refused_before_git_runs(
    work: Path, bare: Path, argv: list[list[str]], count: str
) -> None:
    with pytest.raises(ConfigError) as err:
        refresh_git.push(work, str(bare), BRANCH, TOKEN, {**os.environ, "GIT_CONFIG_COUNT": count})
    assert str(err.value).startswith(f"GIT_CONFIG_COUNT={count!r} is not a count: ")
    assert argv == []


@pytest.mark.parametrize("branch", ["main", "alops/devset-refresh-", "refs/heads/main", "alops/other"])
def test_only_alops_s_own_branches_are_moved(work: Path, bare: Path, argv: list[list[str]], branch: str) -> None:
    change(work)
    with pytest.raises(ValueError, match="is not a branch of `alops devset refresh`"):
        commit(work, branch=branch)
    with pytest.raises(ValueError, match="is not a branch of `alops devset refresh`"):
        refresh_git.push(work, str(bare), branch, TOKEN, dict(os.environ))
    assert argv == [] and git(bare, "branch") == ""


@pytest.mark.parametrize(
    "suffix", ["a..b", "x:refs/heads/main", "x y", "x~1", "x^{}", "x.lock", "x/.y", "x@{0}", "x\nmain"]
)
def test_branch_names_that_are_not_refs_are_refused_by_git(work: Path, bare: Path, suffix: str) -> None:
    change(work)
    base = refresh_git.head(work)
    with pytest.raises(ToolError):
        commit(work, branch=refresh_git.BRANCH_PREFIX + suffix)
    with pytest.raises(ToolError):
        refresh_git.push(work, str(bare), refresh_git.BRANCH_PREFIX + suffix, TOKEN, dict(os.environ))
    assert refresh_git.head(work) == base and git(work, "branch", "--show-current").strip() == "main"
    assert git(work, "branch", "--list", "alops/*") == "" and git(bare, "branch") == ""


def test_a_branch_name_that_looks_like_shell_is_only_a_name(
    work: Path, bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    branch = refresh_git.BRANCH_PREFIX + "$(touch${IFS}pwned)`touch${IFS}pwned2`;rm${IFS}-rf${IFS}x"
    change(work)
    sha = commit(work, branch=branch)
    refresh_git.push(work, str(bare), branch, TOKEN, dict(os.environ))
    assert git(bare, "rev-parse", f"refs/heads/{branch}").strip() == sha
    assert not list(tmp_path.rglob("pwned*"))
