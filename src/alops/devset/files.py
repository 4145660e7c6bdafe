"""A folder of files listed by a manifest: which files do not open, and copying the kept ones.

A file "does not open" when its manifest path is empty, leaves the folder
(absolute, or through ``..``), or names something that is missing, not a
regular file, empty or unreadable: the rows `alops devset check` counts as
corrupt too. Kept files are hard-linked into the dev set when the file system
allows it (no bytes copied; DVC's cache links them the same way), else copied.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

#: The manifest column naming each file, relative to the manifest's folder.
PATH_COLUMN = "path"


def inside(base: Path, name: str | None) -> Path | None:
    """``base/name`` when ``name`` is a relative path that stays inside ``base``; else None."""
    if not name:
        return None
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return base.joinpath(*pure.parts)


def problem(base: Path, name: str | None) -> str | None:
    """Why the file ``name`` of the manifest does not open, or None when it does."""
    path = inside(base, name)
    if path is None:
        return f"{PATH_COLUMN} {name!r} is not a relative path inside the dataset" if name else f"empty {PATH_COLUMN}"
    try:
        info = path.stat()
    except OSError:
        return f"file {name!r} is missing"
    if not path.is_file():
        return f"{name!r} is not a file"
    if info.st_size == 0:
        return f"file {name!r} is empty"
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        return f"file {name!r} cannot be read: {exc.strerror or exc}"
    return None


def problems(base: Path, names: Sequence[str | None]) -> list[str | None]:
    """:func:`problem` of each name."""
    return [problem(base, name) for name in names]


def place(base: Path, names: Sequence[str | None], dest: Path) -> int:
    """Link (or copy) each file that exists under ``base`` to the same path under ``dest``; how many."""
    done = 0
    for name in names:
        source = inside(base, name)
        if source is None or not source.is_file():
            continue  # a missing file stays missing: the manifest row shows the pipeline what that looks like
        assert name is not None
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
