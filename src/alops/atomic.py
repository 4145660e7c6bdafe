"""Replace files and folders so that no reader ever sees them half-written, and no kill leaves debris for git.

Everything new is written into a *staging folder* beside the target,
``.<name>.alops/``, whose own ``.gitignore`` says ``*``: git never shows what is
in it, and it is on the target's file system, so a rename moves things into place.
:meth:`Stage.commit` then swaps the new versions in (journal first, the old
versions renamed aside into the staging folder, then the new ones renamed in),
and removes the folder last.

What a kill leaves, at any point:

* before the commit: the old state, untouched, and a staging folder without a
  journal, which the next :class:`Stage` on the same target removes;
* during the commit (a SIGINT or SIGTERM that Python sees, or an error): the old
  state, restored from the journal before the exception goes on;
* during the commit (a SIGKILL, a power cut): the journal and the old versions in
  the staging folder; the next :class:`Stage` on the same target (the next
  ``alops devset build``) restores the old state from them before doing anything;
* after the commit: the new state.

Disk full, a read-only file system, refused permissions: :func:`writing_to` turns
them into an AlopsError that says where and what to do (exit code 3, like any
other failure of the machine's tools rather than of the input).
"""

from __future__ import annotations

import errno
import glob
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alops.errors import ToolError

_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_JOURNAL = "COMMIT"


@contextmanager
def writing_to(place: Path, hint: str = "", *, shown: str | None = None) -> Iterator[None]:
    """Turn an OSError of a full, read-only or forbidden file system into an AlopsError about ``place``
    (named ``shown`` in the message), or about the file it names when that is elsewhere (an input)."""
    try:
        yield
    except OSError as exc:
        why = _WHY.get(exc.errno or 0)
        if why is None:
            raise
        name = exc.filename if isinstance(exc.filename, str) else None
        todo = "free some space there" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "make it writable"
        if name and not Path(name).absolute().is_relative_to(place.absolute().parent):
            raise ToolError(f"cannot use {name}: {why}: fix that and run again") from None
        raise ToolError(
            f"cannot write {shown or place}: {why}: {todo}{hint} and run again; nothing was changed"
        ) from None


def ignored_folder(path: Path) -> Path:
    """``path`` as a folder git ignores: it holds a ``.gitignore`` that says ``*`` (itself included)."""
    path.mkdir(parents=True, exist_ok=True)
    marker = path / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n", encoding="utf-8")
    return path


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling renamed over it (for folders git ignores).

    The content reaches the disk before the rename, and the rename before this returns
    (``fsync`` of the file, then of its folder): after a power cut ``path`` holds the old
    text or the new, never an empty file. The commit journal of :class:`Stage` relies on it.
    """
    tmp = path.with_name(f".{path.name}.alops-tmp-{secrets.token_hex(4)}")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder that cannot be opened for reading (some platforms): the rename stands as is
        return
    try:
        os.fsync(fd)
    except OSError:  # file systems that refuse fsync on a folder
        pass
    finally:
        os.close(fd)


@contextmanager
def replacing(target: Path, *, folder: bool) -> Iterator[Path]:
    """Yield a temporary sibling to write (a new empty folder when ``folder``); on success it replaces ``target``.

    For a single file or folder of no consequence (a folder swap has a moment without
    ``target``); the dev set, its ``.dvc`` file and reports go through :class:`Stage`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.alops-tmp-{secrets.token_hex(4)}")
    if folder:
        tmp.mkdir()
    try:
        yield tmp
        if folder and target.is_dir() and not target.is_symlink():
            aside = target.with_name(f".{target.name}.alops-old-{secrets.token_hex(4)}")
            os.rename(target, aside)
            os.rename(tmp, target)
            remove(aside)
        else:
            os.replace(tmp, target)
    except BaseException:
        remove(tmp)
        raise


class Stage:
    """The staging folder of ``target``; opening it first recovers what an earlier kill left (see the module)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.dir = target.with_name(f".{target.name}.alops")
        self.recover()

    def new(self, name: str) -> Path:
        """Where the new version of the sibling ``name`` of the target is written before the commit."""
        ignored_folder(self.dir)
        (self.dir / "new").mkdir(exist_ok=True)
        return self.dir / "new" / name

    def commit(
        self, swapped: Sequence[str], kept: Sequence[str] = (), between: Callable[[], None] | None = None
    ) -> None:
        """Swap in the new versions of the siblings ``swapped`` (the first, then ``between()``, then the rest).

        ``kept`` are siblings that ``between`` changes in place (a ``.dvc`` file, a
        ``.gitignore``): copied aside first, so that they come back on a rollback.
        """
        parent, old = self.target.parent, self.dir / "old"
        old.mkdir(exist_ok=True)
        existed = [n for n in (*swapped, *kept) if os.path.lexists(parent / n)]
        for name in kept:
            if name in existed:
                shutil.copy2(parent / name, self._aside(name, kept), follow_symlinks=False)
        write_text(self.dir / _JOURNAL, json.dumps({"swapped": list(swapped), "kept": list(kept), "existed": existed}))
        try:
            for i, name in enumerate(swapped):
                if os.path.lexists(parent / name):
                    os.rename(parent / name, old / name)
                os.rename(self.dir / "new" / name, parent / name)
                if i == 0 and between is not None:
                    between()
            (self.dir / _JOURNAL).unlink()  # the commit point: from here on the new state stands
        except BaseException:
            self.recover()
            raise
        self.discard()

    def _aside(self, name: str, kept: Sequence[str]) -> Path:
        # A copy of a .dvc file keeps no .dvc name: DVC, collecting the repository's .dvc files, never sees it.
        return self.dir / "old" / (f"{name}.copy" if name in kept else name)

    def discard(self) -> None:
        """Remove the staging folder (after a commit, or to give up before one)."""
        if (self.dir / _JOURNAL).exists():
            self.recover()
        remove(self.dir)

    def recover(self) -> None:
        """Undo a commit that a kill cut short (its journal is there); remove what an earlier run left."""
        parent = self.target.parent
        journal = self.dir / _JOURNAL
        if journal.is_file():
            plan = json.loads(journal.read_text(encoding="utf-8"))
            for name in [*plan["swapped"], *plan["kept"]]:
                aside = self._aside(name, plan["kept"])
                if os.path.lexists(aside):
                    remove(parent / name)
                    os.rename(aside, parent / name)
                elif name not in plan["existed"]:
                    remove(parent / name)  # new in this commit: there was nothing before
            journal.unlink()
        remove(self.dir)
        # What alops before 0.1.1 left beside the target: temporary copies, and an old version renamed aside.
        name = glob.escape(self.target.name)
        for stale in [*parent.glob(f".{name}.alops-*"), *parent.glob(f".{name}.report.*.alops-tmp-*")]:
            if ".alops-old-" in stale.name and not os.path.lexists(self.target):
                os.rename(stale, self.target)
            else:
                remove(stale)


def remove(path: Path) -> None:
    """Remove a file, a link or a folder, if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
