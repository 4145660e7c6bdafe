"""What the local git checkout says, for runs outside CI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alops import proc
from alops.errors import ToolError

#: What HEAD holds when it names a branch (gitrepository-layout(5): "ref: refs/heads/…").
_HEAD_PREFIX = b"ref: refs/heads/"


def current_branch(cwd: str | Path = ".") -> str | None:
    """The checked-out branch, or None when HEAD is detached or this is no git repo.

    Git allows any bytes in a branch name. A name that is not UTF-8 cannot
    come back through git's decoded output, so it is read from HEAD itself,
    with each undecodable byte as a lone surrogate (``surrogateescape``): the
    branch still gets a role, and messages show those bytes escaped.
    """
    try:
        return output(cwd, "symbolic-ref", "--short", "-q", "HEAD", strict=True) or None
    except UnicodeError:
        return _branch_from_head_file(cwd)


def _branch_from_head_file(cwd: str | Path) -> str | None:
    head = output(cwd, "rev-parse", "--git-path", "HEAD") or None
    if head is None:
        return None
    try:
        with open(Path(cwd) / head, "rb") as fh:  # --git-path is relative to cwd unless absolute
            raw = fh.read(4096)
    except OSError:
        return None
    first = raw.split(b"\n", 1)[0]
    if not first.startswith(_HEAD_PREFIX) or first == _HEAD_PREFIX + b".invalid":  # reftable keeps HEAD elsewhere
        return None
    return first[len(_HEAD_PREFIX) :].decode("utf-8", "surrogateescape") or None


def default_branch(cwd: str | Path = ".", remote: str = "origin") -> str | None:
    """The remote's default branch as recorded by clone (``origin/HEAD``), if known."""
    ref = output(cwd, "symbolic-ref", "--short", "-q", f"refs/remotes/{remote}/HEAD") or None
    return ref.split("/", 1)[1] if ref and "/" in ref else None


def output(
    cwd: str | Path, *args: str, env: Mapping[str, str] | None = None, strip: bool = True, strict: bool = False
) -> str | None:
    """What ``git ARGS`` prints, or None when it fails or git is missing; ``strip``: without the newline git ends with.

    Output that is not text in this locale is no answer rather than a crash (``strict``: it raises).
    """
    try:
        out = proc.run(["git", *args], cwd=cwd, env=env, check=False)
    except ToolError:  # git not installed
        return None
    except UnicodeError:
        if strict:
            raise
        return None
    if out.returncode != 0:
        return None
    # Only the newline git ends with: str.strip() would also take U+0085 and other "spaces" a name may hold.
    return (out.stdout or "").rstrip("\r\n") if strip else out.stdout or ""
