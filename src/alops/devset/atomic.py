"""Replace a file or a folder so that no reader ever sees it half-written.

Everything is written to a temporary sibling (same file system, so a rename
moves it), which replaces the target only once it is complete. A failure
removes the temporary sibling and leaves the previous target as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(target: Path, *, folder: bool) -> Iterator[Path]:
    """Yield a temporary path to write (a new empty folder when ``folder``); on success it becomes ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.alops-tmp-{os.getpid()}-{secrets.token_hex(4)}")
    if folder:
        tmp.mkdir()
    try:
        yield tmp
        swap(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def swap(new: Path, target: Path) -> None:
    """Put ``new`` where ``target`` is. A file replaces a file in one rename; otherwise the old
    target is renamed aside first, so for a moment ``target`` is missing but never partial."""
    if not target.is_dir() or target.is_symlink():
        if new.is_file() or not target.exists():
            os.replace(new, target)
            return
    old = target.with_name(f".{target.name}.alops-old-{os.getpid()}-{secrets.token_hex(4)}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
