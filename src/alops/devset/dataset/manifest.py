"""A folder of files listed by a manifest: which files do not open, and copying the kept ones.

A file "does not open" when its manifest path is empty or not text, leaves the
folder (absolute, through ``..``, or through a link that resolves outside it
and outside the DVC cache: see :mod:`alops.devset.dataset.datafiles`), or names something that is
missing, not a regular file (a named pipe is never opened), empty or
unreadable: the rows `alops devset check` counts as corrupt too. Such a file
is never copied into the dev set. Kept files are hard-linked into the dev set when the file system
allows it (no bytes copied; DVC's cache links them the same way), else copied.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from alops.devset.dataset import datafiles
from alops.errors import ConfigError, DataError

#: The manifest column naming each file, relative to the manifest's folder.
PATH_COLUMN = "path"


def inside(base: Path, name: object) -> Path | None:
    """``base/name`` when ``name`` is a relative path that stays inside ``base``; else None."""
    if not name or not isinstance(name, str) or "\0" in name:
        return None
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return base.joinpath(*pure.parts)


def problem(base: Path, name: object) -> str | None:
    """Why the file ``name`` of the manifest does not open, or None when it does."""
    if name is not None and not isinstance(name, str):
        return f"{PATH_COLUMN} {name!r} is not text"
    path = inside(base, name)
    if path is None:
        return f"{PATH_COLUMN} {name!r} is not a relative path inside the dataset" if name else f"empty {PATH_COLUMN}"
    try:
        info = path.stat()
    except (OSError, ValueError):
        return f"file {name!r} is missing"
    if datafiles.escapes(path, base) is not None:
        return f"file {name!r} is a link to outside the dataset"
    if not stat.S_ISREG(info.st_mode):
        return f"{name!r} is {datafiles.kind(info.st_mode)}, not a file"
    if info.st_size == 0:
        return f"file {name!r} is empty"
    try:
        with datafiles.open_regular(path) as fh:
            fh.read(1)
    except (ConfigError, DataError):  # not a regular file, or unreadable
        return f"file {name!r} cannot be read"
    except OSError as exc:
        return f"file {name!r} cannot be read: {exc.strerror or exc}"
    return None


def problems(base: Path, names: Sequence[object]) -> list[str | None]:
    """:func:`problem` of each name."""
    return [problem(base, name) for name in names]


def place(base: Path, names: Sequence[str | None], dest: Path) -> int:
    """Link (or copy) each file that exists under ``base`` to the same path under ``dest``; how many."""
    done = 0
    for name in names:
        source = inside(base, name)
        if source is None or not _placeable(base, source):
            continue  # a missing file stays missing: the manifest row shows the pipeline what that looks like
        assert isinstance(name, str)
        target = inside(dest, name)
        assert target is not None
        if target.exists():
            continue  # listed twice
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:  # another file system, or links not allowed
            try:
                shutil.copyfile(source, target)
            except OSError:
                continue  # unreadable: counted as corrupt already, nothing to copy
        done += 1
    return done


def _placeable(base: Path, path: Path) -> bool:
    """A regular file (an empty one too: the dev set shows what it looks like), not linked out of ``base``."""
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False
    return regular and datafiles.escapes(path, base) is None
