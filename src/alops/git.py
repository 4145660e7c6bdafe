"""What the local git checkout says, for runs outside CI."""

from __future__ import annotations

from pathlib import Path

from alops import proc
from alops.errors import ToolError


def current_branch(cwd: str | Path = ".") -> str | None:
    """The checked-out branch, or None when HEAD is detached or this is no git repo.

    Git allows any bytes in a branch name; bytes that are not UTF-8 come back
    in their replacement form (U+FFFD), so such a branch still gets a role.
    """
    return _try(["git", "symbolic-ref", "--short", "-q", "HEAD"], cwd)


def default_branch(cwd: str | Path = ".", remote: str = "origin") -> str | None:
    """The remote's default branch as recorded by clone (``origin/HEAD``), if known."""
    ref = _try(["git", "symbolic-ref", "--short", "-q", f"refs/remotes/{remote}/HEAD"], cwd)
    return ref.split("/", 1)[1] if ref and "/" in ref else None


def _try(args: list[str], cwd: str | Path) -> str | None:
    try:
        out = proc.run(args, cwd=cwd, check=False)
    except ToolError:  # git not installed
        return None
    except UnicodeError:  # pragma: no cover - a proc.run that decodes strictly: no name rather than a crash
        return None
    # Only the newline git ends with: str.strip() would also take U+0085 and other "spaces" a name may hold.
    text = (out.stdout or "").rstrip("\r\n")
    return text if out.returncode == 0 and text else None
