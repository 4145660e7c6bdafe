"""The one way alops runs other programs: argument lists, never a shell."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from alops.errors import ToolError


def run(
    args: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` and return the result; raise ToolError when it fails.

    With ``capture=False`` the command's output goes straight to the terminal
    (long DVC runs should show progress), and only the exit code is checked.
    """
    exe = shutil.which(args[0], path=(env or os.environ).get("PATH"))
    if exe is None:
        raise ToolError(f"`{args[0]}` is not installed or not on PATH: install it and run again")
    try:
        result = subprocess.run(
            [exe, *args[1:]],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            check=False,
        )
    except OSError as exc:  # not executable, bad cwd
        raise ToolError(f"cannot run `{args[0]}`: {exc}") from exc
    if check and result.returncode != 0:
        shown = " ".join(args[:3]) + (" …" if len(args) > 3 else "")
        detail = (result.stderr or result.stdout or "").strip() if capture else ""
        tail = "\n".join(detail.splitlines()[-20:])
        raise ToolError(f"`{shown}` failed with exit code {result.returncode}" + (f":\n{tail}" if tail else ""))
    return result
