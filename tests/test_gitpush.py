"""``alops.gitpush``: where the loop's and the refresh's commits are pushed, with which token, by whom."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from alops import gitpush
from alops.errors import ConfigError

TOKEN = "glpat-push-secret-4711"


@pytest.mark.parametrize(
    ("env", "server", "expected"),
    [
        ({"ALOPS_GIT_PUSH_URL": "/srv/repo.git", "CI_PROJECT_PATH": "grp/proj"}, "https://h", "/srv/repo.git"),
        (
            {"CI_PROJECT_PATH": "grp/sub/proj"},
            "https://gitlab.example.com/",
            "https://gitlab.example.com/grp/sub/proj.git",
        ),
    ],
)
def test_push_url(env: dict[str, str], server: str, expected: str) -> None:
    assert gitpush.push_url({**env, "ALOPS_GITLAB_TOKEN": TOKEN}, server) == expected


@pytest.mark.parametrize(("env", "server"), [({}, "https://gitlab.example.com"), ({"CI_PROJECT_PATH": "g/p"}, None)])
def test_push_url_unknown_says_what_to_set(env: dict[str, str], server: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        gitpush.push_url(env, server)
    assert str(err.value) == (
        "cannot tell where to push: CI_PROJECT_PATH is not set (GitLab sets it in CI jobs); "
        "outside CI set ALOPS_GIT_PUSH_URL to the repository's HTTPS URL"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ALOPS_GIT_PUSH_URL": "/srv/repo.git", "ALOPS_GITLAB_TOKEN": TOKEN}, ("/srv/repo.git", TOKEN)),
        (
            {"ALOPS_GITLAB_TOKEN": TOKEN, "CI_PROJECT_PATH": "grp/proj", "CI_SERVER_URL": "https://gitlab.example.com"},
            ("https://gitlab.example.com/grp/proj.git", TOKEN),
        ),
        ({"ALOPS_GITLAB_TOKEN": "  ", "CI_PROJECT_PATH": "grp/proj"}, ("origin", None)),
        ({"CI_PROJECT_PATH": "grp/proj", "CI_JOB_TOKEN": "job"}, ("origin", None)),
    ],
)
def test_destination(env: dict[str, str], expected: tuple[str, str | None]) -> None:
    assert gitpush.destination(env) == expected


def test_the_token_travels_as_a_header_after_the_callers_own_configuration() -> None:
    given = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.useConfigOnly", "GIT_CONFIG_VALUE_0": "true"}
    out = gitpush.authenticated(given, TOKEN)
    basic = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert out["GIT_CONFIG_COUNT"] == "2" and out["GIT_CONFIG_KEY_1"] == "http.extraHeader"
    assert out["GIT_CONFIG_VALUE_1"] == f"Authorization: Basic {basic}"
    assert out["GIT_TERMINAL_PROMPT"] == "0" and out["GIT_CONFIG_KEY_0"] == "user.useConfigOnly"
    assert "GIT_CONFIG_COUNT" not in gitpush.authenticated({}, None)
    with pytest.raises(ConfigError, match="GIT_CONFIG_COUNT='x' is not a count"):
        gitpush.authenticated({"GIT_CONFIG_COUNT": "x"}, TOKEN)


def test_redact_takes_the_token_in_clear_and_as_git_sends_it() -> None:
    basic = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    said = gitpush.redact(f"fatal: {TOKEN} and Basic {basic}", TOKEN)
    assert TOKEN not in said and basic not in said


def test_a_refusal_gets_a_hint_and_other_failures_none() -> None:
    assert "write_repository" in gitpush.refused_hint("remote: HTTP Basic: Access denied 403", ", and more")
    assert gitpush.refused_hint("remote: HTTP Basic: Access denied 403", ", and more").endswith(", and more")
    assert gitpush.refused_hint("! [rejected] HEAD -> al/x (fetch first)") == ""


def test_the_committer_is_the_pipeline_s_user_when_git_has_none(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    bare = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1"}
    bare |= {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.useConfigOnly", "GIT_CONFIG_VALUE_0": "true"}
    out = gitpush.committer(
        tmp_path, {**bare, "GITLAB_USER_NAME": "Ada", "GITLAB_USER_EMAIL": "ada@example.com"}, ("x", "y")
    )
    assert (out["GIT_AUTHOR_NAME"], out["GIT_COMMITTER_EMAIL"]) == ("Ada", "ada@example.com")
    assert (
        gitpush.committer(tmp_path, bare, ("alops al ingest", "alops@noreply.invalid"))["GIT_AUTHOR_NAME"]
        == "alops al ingest"
    )
    named = {
        **bare,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b",
    }
    assert gitpush.committer(tmp_path, named, ("x", "y")) == named
