"""Committing and pushing to the project's repository from a CI job: who commits, where to, with which token.

``alops devset refresh``, ``alops al ingest`` and ``alops al record`` all push a
commit they made. The token never goes into a command line (any user on the
machine can read process arguments, and CI logs echo failed commands): git gets
it as an ``http.extraHeader`` through ``GIT_CONFIG_*`` environment variables
(git ≥ 2.31), and any message that could quote it is redacted, in clear and in
the Basic-auth form git sends.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Mapping
from pathlib import Path

from alops import env as variables
from alops import proc
from alops.errors import ConfigError

_CONFIG_COUNT = "GIT_CONFIG_COUNT"  # git's own variable (not alops's, so not in alops.env): we extend what it names
#: What git says when a push is refused for want of rights.
REFUSED = ("403", "401", "Authentication failed", "not allowed to push")


def push_url(env: Mapping[str, str], server: str | None) -> str:
    """The repository's HTTPS URL: ``ALOPS_GIT_PUSH_URL``, else ``<server>/<CI_PROJECT_PATH>.git``.

    ``ALOPS_GIT_PUSH_URL`` (tests, unusual set-ups) is used as is, a path or a URL; the token header is still sent.
    """
    if env.get(variables.GIT_PUSH_URL):
        return env[variables.GIT_PUSH_URL]
    path = env.get(variables.CI_PROJECT_PATH, "")
    if not server or not path:
        raise ConfigError(
            f"cannot tell where to push: {variables.CI_PROJECT_PATH} is not set (GitLab sets it "
            f"in CI jobs); outside CI set {variables.GIT_PUSH_URL} to the repository's HTTPS URL"
        )
    return f"{server.rstrip('/')}/{path}.git"


def destination(env: Mapping[str, str]) -> tuple[str, str | None]:
    """Where the loop's commits go and the token to send (None: git's own credentials).

    ``ALOPS_GIT_PUSH_URL`` when set; else, with ``ALOPS_GITLAB_TOKEN`` in a CI job, the
    project's HTTPS URL with the token as a header; else ``origin`` with git's own
    credentials (in a CI job, ``CI_JOB_TOKEN``, which can push only where the project allows it).
    """
    from alops import gitlab

    token = env.get(variables.GITLAB_TOKEN, "").strip() or None
    if env.get(variables.GIT_PUSH_URL):
        return env[variables.GIT_PUSH_URL], token
    if token and env.get(variables.CI_PROJECT_PATH):
        return push_url(env, gitlab.server_url(env)), token
    return "origin", None


def authenticated(env: Mapping[str, str], token: str | None) -> dict[str, str]:
    """``env`` for a git command that talks to the server: no prompt, and the token as a header when there is one."""
    out = {**env, "GIT_TERMINAL_PROMPT": "0"}
    if not token:
        return out
    count = env.get(_CONFIG_COUNT, "").strip() or "0"
    if not (count.isascii() and count.isdigit()):
        raise ConfigError(
            f"{_CONFIG_COUNT}={count!r} is not a count: git reads it as the number of GIT_CONFIG_KEY_<n>/"
            "GIT_CONFIG_VALUE_<n> pairs; set it to that number or unset it"
        )
    n = int(count)  # the header goes after any configuration the caller already set this way
    out.update(
        {
            _CONFIG_COUNT: str(n + 1),
            f"GIT_CONFIG_KEY_{n}": "http.extraHeader",
            f"GIT_CONFIG_VALUE_{n}": f"Authorization: Basic {_basic(token)}",
        }
    )
    return out


def push_skipping_ci(cwd: Path, url: str, refspec: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``git push -o ci.skip`` (the commit starts no pipeline), without the option where the remote takes none.

    A remote that refuses push options is no GitLab, so there is no pipeline to skip there.
    The result, whatever it is: callers tell a moved branch from a refusal.
    """
    done = proc.run(["git", "push", "--quiet", "-o", "ci.skip", "--", url, refspec], cwd=cwd, env=env, check=False)
    if done.returncode != 0 and "push options" in done.stderr:
        done = proc.run(["git", "push", "--quiet", "--", url, refspec], cwd=cwd, env=env, check=False)
    return done


def committer(cwd: Path, env: Mapping[str, str], fallback: tuple[str, str]) -> dict[str, str]:
    """``env``, plus an author for a commit when git has none (a CI job's clone usually has none).

    The author is the user who started the pipeline (``GITLAB_USER_NAME``, ``GITLAB_USER_EMAIL``),
    else ``fallback`` (name, e-mail).
    """
    out = dict(env)
    if proc.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=cwd, env=out, check=False).returncode == 0:
        return out
    name = env.get(variables.GITLAB_USER_NAME) or fallback[0]
    email = env.get(variables.GITLAB_USER_EMAIL) or fallback[1]
    for role in ("AUTHOR", "COMMITTER"):
        out.setdefault(f"GIT_{role}_NAME", name)
        out.setdefault(f"GIT_{role}_EMAIL", email)
    return out


def redact(text: str, token: str | None) -> str:
    """``text`` without the token, in clear and in the Basic-auth form git sends it in."""
    from alops.text import redact_output

    return redact_output(text, {"TOKEN": token, "TOKEN_BASIC": _basic(token)} if token else {})


def refused_hint(said: str, rule: str = "") -> str:
    """What to do when git's output ``said`` is a refusal for want of rights ('' otherwise); ``rule`` adds to it."""
    if not any(s in said for s in REFUSED):
        return ""
    return (
        f"\nGitLab refused the push: {variables.GITLAB_TOKEN} needs the write_repository scope and role Developer "
        f"or higher (CI_JOB_TOKEN cannot push){rule}"
    )


def _basic(token: str) -> str:
    # GitLab takes any non-empty user name with a project access token as the password.
    return base64.b64encode(f"oauth2:{token}".encode()).decode("ascii")
