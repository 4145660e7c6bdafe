"""Which commits ``alops al sync`` compares: this branch's, the al branch's (local, else fetched), their merge-base."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from alops import proc
from alops.al.history import History
from alops.errors import ConfigError, ToolError
from alops.text import quote


@dataclass(frozen=True)
class Refs:
    ref: str  # the branch as read: BRANCH, or REMOTE/BRANCH once fetched
    ours: str  # HEAD's commit
    theirs: str
    base: str | None  # None: the two share no history

    @property
    def revs(self) -> tuple[str, ...]:
        return tuple(r for r in (self.ours, self.theirs, self.base) if r is not None)


def resolve(root: Path, branch: str, remote: str, *, env: Mapping[str, str]) -> Refs:
    """The commits of HEAD and ``branch`` (the local branch, else ``remote``'s after a fetch) and their merge-base.

    A shallow clone (CI's default) is deepened first: the merge-base and the rounds need the history.
    """
    if _run(root, ["check-ref-format", "--branch", branch], env).returncode != 0 or branch.startswith("-"):
        raise ConfigError(f"--from {quote(branch)} is not a valid branch name: give the al branch, e.g. al/digits")
    ours = _commit(root, "HEAD", env)
    if ours is None:
        raise ConfigError("this branch has no commit yet: commit something first, then run alops al sync")
    theirs, ref = _commit(root, f"refs/heads/{branch}", env), branch
    shallow = _run(root, ["rev-parse", "--is-shallow-repository"], env).stdout.strip() == "true"
    if theirs is None:
        theirs, ref = _fetch(root, branch, remote, shallow, env), f"{remote}/{branch}"
    elif shallow:  # the local branch is there, its history may not be: deepen if the remote lets us
        _run(root, ["fetch", "--quiet", "--unshallow", "--", remote], env)
    done = _run(root, ["merge-base", ours, theirs], env)
    return Refs(ref, ours, theirs, done.stdout.strip() if done.returncode == 0 else None)


def since_last_sync(root: Path, refs: Refs, ours: History, branch: str, env: Mapping[str, str]) -> Refs:
    """``refs`` with the commit this branch last synced from ``branch`` as the base, when it is on that branch.

    A sync commits data without merging history, so the merge-base stays where the
    branches forked; what this branch took at the last sync is where the al
    branch's later changes start from, and the only version of ours that is not
    a change of our own.
    """
    for synced in reversed(ours.syncs):
        if synced.branch != branch:
            continue
        if _run(root, ["merge-base", "--is-ancestor", synced.source, refs.theirs], env).returncode == 0:
            return replace(refs, base=synced.source)
        break  # the al branch was rewritten since: only the merge-base is common ground
    return refs


def _fetch(root: Path, branch: str, remote: str, shallow: bool, env: Mapping[str, str]) -> str:
    remotes = _run(root, ["remote"], env).stdout.split()
    if remote not in remotes:
        raise ConfigError(
            f"no branch {quote(branch)} here, and no git remote {quote(remote)} to fetch it from: "
            "check the name (`git branch -a`), or give the remote with --remote"
        )
    spec = f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"
    args = ["fetch", "--quiet", *(["--unshallow"] if shallow else []), "--", remote, spec]
    done = _run(root, args, env)
    if done.returncode != 0:
        detail = (done.stderr or "").strip()
        if "couldn't find remote ref" in detail.lower():
            raise ConfigError(
                f"no branch {quote(branch)} here or on {quote(remote)}: check the name (`git branch -a`, "
                f"`git ls-remote --heads {remote}`)"
            )
        raise ToolError(
            f"`git fetch {remote} {branch}` failed with exit code {done.returncode}:\n{detail}\n"
            f"check that {remote} can be reached (`git fetch {remote}`) with credentials that may read it"
        )
    found = _commit(root, f"refs/remotes/{remote}/{branch}", env)
    if found is None:  # pragma: no cover - a fetch that succeeded wrote the ref
        raise ToolError(f"`git fetch {remote} {branch}` wrote no refs/remotes/{remote}/{branch}")
    return found


def _commit(root: Path, rev: str, env: Mapping[str, str]) -> str | None:
    done = _run(root, ["rev-parse", "--verify", "-q", f"{rev}^{{commit}}"], env)
    return done.stdout.strip() if done.returncode == 0 else None


def _run(root: Path, args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    # No prompt for credentials: a CI job or a script would wait for ever.
    return proc.run(["git", *args], cwd=root, env={**env, "GIT_TERMINAL_PROMPT": "0"}, check=False)
