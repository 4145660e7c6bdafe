"""The git side of `alops devset refresh`: a branch, a commit, a push over HTTPS with a token.

The token never goes into a command line (any user on the machine can read
process arguments, and CI logs echo failed commands): git gets it as an
``http.extraHeader`` through ``GIT_CONFIG_*`` environment variables, and any
message that could quote it is redacted.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from alops import env as variables
from alops import proc
from alops.errors import ConfigError, ToolError

BRANCH_PREFIX = "alops/devset-refresh-"
_CONFIG_COUNT = "GIT_CONFIG_COUNT"
_FALLBACK_IDENTITY = ("alops devset refresh", "alops@noreply.invalid")


def head(cwd: Path) -> str:
    return proc.run(["git", "rev-parse", "--verify", "HEAD^{commit}"], cwd=cwd).stdout.strip()


def branch_name(day: date, sha: str) -> str:
    """``alops/devset-refresh-<YYYYMMDD>-<8 hex digits of the base commit>``: the same on a rerun of the job."""
    return f"{BRANCH_PREFIX}{day:%Y%m%d}-{sha[:8]}"


def push_url(env: Mapping[str, str], server: str | None) -> str:
    """The repository's HTTPS URL: ``ALOPS_GIT_PUSH_URL``, else ``<server>/<CI_PROJECT_PATH>.git``.

    ``ALOPS_GIT_PUSH_URL`` (tests, unusual set-ups) is used as is, a path or a URL; the token header is still sent.
    """
    if env.get(variables.GIT_PUSH_URL):
        return env[variables.GIT_PUSH_URL]
    path = env.get(variables.CI_PROJECT_PATH, "")
    if not server or not path:
        raise ConfigError(
            f"cannot tell where to push the refresh branch: {variables.CI_PROJECT_PATH} is not set (GitLab sets it "
            f"in CI jobs); outside CI set {variables.GIT_PUSH_URL} to the repository's HTTPS URL"
        )
    return f"{server.rstrip('/')}/{path}.git"


def commit(
    cwd: Path, branch: str, data: Sequence[str], extra: Sequence[str], message: str, env: Mapping[str, str]
) -> str | None:
    """Create ``branch`` at HEAD and commit ``data`` and ``extra`` on it.

    The new commit, or None when ``data`` (the ``.dvc`` files) did not change:
    new reports alone are not worth a merge request.
    """
    _own(branch)
    # Reports in a folder the project ignores (a CI artifact folder, say) stay out of the commit.
    ignored = proc.run(["git", "check-ignore", "--", *extra], cwd=cwd, check=False).stdout.splitlines() if extra else []
    paths = [*data, *(p for p in extra if p not in ignored)]
    proc.run(["git", "add", "--", *paths], cwd=cwd)
    staged = proc.run(["git", "diff", "--cached", "--quiet", "--", *data], cwd=cwd, check=False)
    if staged.returncode == 0:
        proc.run(["git", "reset", "--quiet", "--", *paths], cwd=cwd)
        return None
    proc.run(["git", "switch", "--quiet", "--force-create", branch], cwd=cwd)
    proc.run(["git", "commit", "--quiet", "--no-verify", "-m", message, "--", *paths], cwd=cwd, env=_identity(cwd, env))
    return head(cwd)


def push(cwd: Path, url: str, branch: str, token: str | None, env: Mapping[str, str]) -> None:
    """Push HEAD to ``branch`` at ``url`` (forced: the branch belongs to alops), authenticated by ``token``."""
    _own(branch)
    run_env = {**env, "GIT_TERMINAL_PROMPT": "0"}
    if token:
        run_env.update(_extra_header(env, token))
    try:
        proc.run(["git", "push", "--force", "--", url, f"HEAD:refs/heads/{branch}"], cwd=cwd, env=run_env)
    except ToolError as exc:
        raise ToolError(redact(str(exc), token) + _push_hint(str(exc))) from None


def _own(branch: str) -> None:
    # A forced push (and --force-create) may only ever move alops's own branches, whatever a caller passes;
    # git itself refuses names that are not valid refs.
    if not branch.startswith(BRANCH_PREFIX) or branch == BRANCH_PREFIX:
        raise ValueError(f"{branch!r} is not a branch of `alops devset refresh` (those start with {BRANCH_PREFIX})")


def redact(text: str, token: str | None) -> str:
    """``text`` without the token, in clear and in the Basic-auth form git sends it in."""
    from alops.text import redact_output

    return redact_output(text, {"TOKEN": token, "TOKEN_BASIC": _basic(token)} if token else {})


def _push_hint(text: str) -> str:
    if any(s in text for s in ("403", "401", "Authentication failed", "not allowed to push")):
        return (
            f"\nGitLab refused the push: {variables.GITLAB_TOKEN} needs the write_repository scope and role Developer "
            "or higher, and alops/* branches must not be protected against it"
        )
    return ""


def _basic(token: str) -> str:
    # GitLab takes any non-empty user name with a project access token as the password.
    return base64.b64encode(f"oauth2:{token}".encode()).decode("ascii")


def _extra_header(env: Mapping[str, str], token: str) -> dict[str, str]:
    """``GIT_CONFIG_*`` variables adding the header after any the caller already set (git ≥ 2.31)."""
    # GIT_CONFIG_COUNT is git's own variable (not alops's, so not in alops.env): we extend what it names.
    count = env.get(_CONFIG_COUNT, "").strip() or "0"
    if not (count.isascii() and count.isdigit()):
        raise ConfigError(
            f"{_CONFIG_COUNT}={count!r} is not a count: git reads it as the number of GIT_CONFIG_KEY_<n>/"
            "GIT_CONFIG_VALUE_<n> pairs; set it to that number or unset it"
        )
    n = int(count)
    return {
        _CONFIG_COUNT: str(n + 1),
        f"GIT_CONFIG_KEY_{n}": "http.extraHeader",
        f"GIT_CONFIG_VALUE_{n}": f"Authorization: Basic {_basic(token)}",
    }


def _identity(cwd: Path, env: Mapping[str, str]) -> dict[str, str]:
    """``env``, plus an author for the commit when git has none (a CI job's clone usually has none)."""
    out = dict(env)
    if proc.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=cwd, env=out, check=False).returncode == 0:
        return out
    name = env.get(variables.GITLAB_USER_NAME) or _FALLBACK_IDENTITY[0]
    email = env.get(variables.GITLAB_USER_EMAIL) or _FALLBACK_IDENTITY[1]
    for role in ("AUTHOR", "COMMITTER"):
        out.setdefault(f"GIT_{role}_NAME", name)
        out.setdefault(f"GIT_{role}_EMAIL", email)
    return out
