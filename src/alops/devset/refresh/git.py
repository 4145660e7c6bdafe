"""The git side of `alops devset refresh`: a branch, a commit, a push over HTTPS with a token.

How the token reaches git, and who commits, is :mod:`alops.gitpush`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from alops import gitpush, proc
from alops.errors import ToolError

BRANCH_PREFIX = "alops/devset-refresh-"
_FALLBACK_IDENTITY = ("alops devset refresh", "alops@noreply.invalid")


def head(cwd: Path) -> str:
    return proc.run(["git", "rev-parse", "--verify", "HEAD^{commit}"], cwd=cwd).stdout.strip()


def branch_name(day: date, sha: str) -> str:
    """``alops/devset-refresh-<YYYYMMDD>-<8 hex digits of the base commit>``: the same on a rerun of the job."""
    return f"{BRANCH_PREFIX}{day:%Y%m%d}-{sha[:8]}"


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
    author = gitpush.committer(cwd, env, _FALLBACK_IDENTITY)
    proc.run(["git", "commit", "--quiet", "--no-verify", "-m", message, "--", *paths], cwd=cwd, env=author)
    return head(cwd)


def push(cwd: Path, url: str, branch: str, token: str | None, env: Mapping[str, str]) -> None:
    """Push HEAD to ``branch`` at ``url`` (forced: the branch belongs to alops), authenticated by ``token``."""
    _own(branch)
    run_env = gitpush.authenticated(env, token)
    try:
        proc.run(["git", "push", "--force", "--", url, f"HEAD:refs/heads/{branch}"], cwd=cwd, env=run_env)
    except ToolError as exc:
        said = str(exc)
        rule = ", and alops/* branches must not be protected against it"
        raise ToolError(gitpush.redact(said, token) + gitpush.refused_hint(said, rule)) from None


def _own(branch: str) -> None:
    # A forced push (and --force-create) may only ever move alops's own branches, whatever a caller passes;
    # git itself refuses names that are not valid refs.
    if not branch.startswith(BRANCH_PREFIX) or branch == BRANCH_PREFIX:
        raise ValueError(f"{branch!r} is not a branch of `alops devset refresh` (those start with {BRANCH_PREFIX})")
