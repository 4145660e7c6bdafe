"""The ingest transaction: a lock, staged files, one journal that is the commit point, and recovery.

Why it is built this way (what a SIGKILL at any moment leaves, and what
:func:`recover` makes of it):

1. **One ingest at a time** per working tree: an exclusive ``flock`` on
   ``.alops/al/ingest.lock``. The kernel drops it when the holder dies, so a
   killed ingest never blocks the next; the next waits for a running one.
2. **Staging**: every new file (pool, labelled set, the round's two log files)
   is written in full into a staging folder *beside its DVC output*
   (``data/.full.alops-ingest/`` for ``data/full``: outside the output, so
   ``dvc add`` never sees it; on its file system, so a rename moves it), then
   fsynced. The staging folders are listed in ``stages.json`` *before* they are
   made, so a recovery finds them without the configuration.
3. **The commit point** is one atomic rename: ``journal.json`` (the moves, the
   DVC outputs to ``dvc add``, the files to commit, the commit message). Killed
   before it, nothing in the working tree changed: recovery deletes the
   staging folders. Killed after it, recovery rolls *forward*: every step after
   the journal can be done again.
4. **Roll forward**: each staged file still in staging is ``os.replace``d over
   its target (one that is gone was moved already); then, unless HEAD already
   is this ingest's commit (its ``ALOps-Ingest`` trailer), the ``.dvc`` files and
   ``.gitignore`` files are put back as HEAD has them (a killed ``dvc add``
   may leave a truncated ``.dvc`` file; ingest refuses to start when they had
   uncommitted changes, so nothing of the user's is lost), ``dvc add`` runs,
   then ``git add`` and ``git commit``. Last, the journal goes: the
   transaction is over.
5. **A stale ``.git/index.lock``**: a killed ``git add``/``git commit`` leaves it,
   and every later git command refuses to run. Recovery removes it only when
   (a) it holds the ingest lock, (b) the journal says the dead ingest had
   started its git step (``git.started``), and (c) the lock file is not older
   than that mark, so it was made while our git ran. A git that is still
   running (a child the SIGKILL did not reach) finishes in milliseconds: a lock
   younger than a second is waited for before it is judged. Someone else's git
   command that began in exactly that second, in the same working tree, is the
   case this cannot tell apart; CI runs ingests in one ``resource_group``.

6. **Moving onto the remote branch** (a push rejected because another ingest
   pushed first) changes the ``.dvc`` files before ``dvc pull`` brings their
   data: ``checkout.json`` says so first, and a recovery pulls that data, so the
   working tree's data never disagrees with the ``.dvc`` files HEAD has.

7. **A torn ``.dvc/tmp/rwlock``**: DVC rewrites that file in place, so a
   ``dvc add`` killed while writing it leaves a truncated file, and every later
   DVC command refuses to run ("JSON structure is corrupted"). Recovery, holding
   the ingest lock with a journal to roll forward, removes it when it is still
   unreadable after the same grace second (a DVC still writing it finishes).

So after :func:`recover`: the pool, the labelled set and the log are all old or
all new; the commit exists exactly when the new version is in the working tree;
labels that were accepted are in the new version or still in the source file
(a rerun then finds them already labelled, or applies them).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from alops import atomic

STATE = Path(".alops/al/ingest")
LOCK = Path(".alops/al/ingest.lock")
JOURNAL = "journal.json"
STAGES = "stages.json"
GIT_MARK = "git.started"
CHECKOUT = "checkout.json"
#: Seconds a fresh ``index.lock`` is given to go away before it is judged stale.
_GIT_GRACE = 1.0

#: Called with the name of each step as the transaction reaches it (the kill tests stop the process there).
checkpoints: list[Callable[[str], None]] = []


def checkpoint(name: str) -> None:
    for hook in checkpoints:
        hook(name)


@dataclass(frozen=True)
class Plan:
    """What the journal says: everything needed to finish the ingest, paths relative to the repository."""

    ingest_id: str
    moves: tuple[tuple[str, str], ...]  # (staged file, its target)
    outputs: tuple[str, ...]  # the DVC outputs to `dvc add`
    commit: tuple[str, ...]  # the .dvc files and .gitignore files of the commit
    message: str

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Plan:
        moves = tuple((str(a), str(b)) for a, b in data["moves"])  # type: ignore[attr-defined]
        return cls(
            str(data["ingest_id"]),
            moves,
            tuple(data["outputs"]),  # type: ignore[arg-type]
            tuple(data["commit"]),  # type: ignore[arg-type]
            str(data["message"]),
        )


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the ingest lock of ``root``'s working tree (waiting for an ingest that holds it)."""
    marker = root / ".alops" / ".gitignore"
    marker.parent.mkdir(exist_ok=True)
    # atomic.ignored_folder() writes it in place: a kill can leave it empty, and then git shows .alops/.
    if not marker.is_file() or marker.read_bytes() != b"*\n":
        atomic.write_text(marker, "*\n")
    (root / LOCK).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def stage(root: Path, folders: Sequence[Path]) -> None:
    """Record, then create, the staging folders of one attempt (so a recovery can always find them)."""
    state = root / STATE
    state.mkdir(parents=True, exist_ok=True)
    atomic.write_text(state / STAGES, json.dumps([str(f.relative_to(root)) for f in folders]))
    for folder in folders:
        atomic.remove(folder)
        atomic.ignored_folder(folder)


def write_file(path: Path, data: bytes) -> None:
    """``data`` into a new staged file, on the disk before this returns."""
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def commit_point(root: Path, plan: Plan, folders: Sequence[Path]) -> None:
    """Make the staged files durable, then write the journal: from here on the ingest will be finished."""
    for folder in folders:
        atomic._sync_folder(folder)  # noqa: SLF001 - the one fsync-a-folder helper of alops
    checkpoint("journal")
    atomic.write_text(root / STATE / JOURNAL, json.dumps(asdict(plan)))
    checkpoint("committed")


def pending(root: Path) -> Plan | None:
    """The journal of an ingest that passed its commit point and did not finish, if any."""
    path = root / STATE / JOURNAL
    if not path.is_file():
        return None
    return Plan.from_json(json.loads(path.read_text(encoding="utf-8")))


def apply_moves(root: Path, plan: Plan) -> None:
    """Move every staged file still in staging over its target (idempotent: a moved one is gone from staging)."""
    touched: set[Path] = set()
    for staged, target in plan.moves:
        if os.path.lexists(root / staged):
            checkpoint(f"move {target}")
            (root / target).parent.mkdir(parents=True, exist_ok=True)  # the label log's first round makes it
            os.replace(root / staged, root / target)
            touched.add((root / target).parent)
    for folder in touched:
        atomic._sync_folder(folder)  # noqa: SLF001


def mark_git(root: Path) -> None:
    """Say (durably) that the git step began: a later ``index.lock`` may be ours."""
    atomic.write_text(root / STATE / GIT_MARK, str(time.time()))


def clear_stale_git_lock(root: Path, git_dir: Path) -> bool:
    """Remove ``index.lock`` when, by the module's rule 5, a killed git of this ingest left it; whether it did."""
    mark = root / STATE / GIT_MARK
    lock = git_dir / "index.lock"
    if not mark.is_file() or not lock.exists():
        return False
    try:
        age = time.time() - lock.stat().st_mtime
        if age < _GIT_GRACE:
            time.sleep(_GIT_GRACE - age)
        if not lock.exists() or lock.stat().st_mtime + 0.01 < mark.stat().st_mtime:
            return False
    except FileNotFoundError:  # it went away while we looked: a git that was still running finished
        return False
    lock.unlink(missing_ok=True)
    return True


def clear_torn_dvc_lock(root: Path) -> bool:
    """Remove ``.dvc/tmp/rwlock`` when, by the module's rule 7, a killed DVC left it unreadable; whether it did."""
    lock = root / ".dvc" / "tmp" / "rwlock"
    if _readable(lock) is not False:
        return False
    time.sleep(_GIT_GRACE)  # a DVC still writing it
    if _readable(lock) is not False:
        return False
    lock.unlink(missing_ok=True)
    return True


def _readable(lock: Path) -> bool | None:
    """Whether DVC could read its lock file; None when there is none."""
    try:
        json.loads(lock.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):  # empty or cut short
        return False
    return True


def checkout_pending(root: Path, dvc_files: Sequence[str] | None) -> None:
    """Say (durably) that HEAD moves to another data version whose data is not checked out yet (None: it is)."""
    path = root / STATE / CHECKOUT
    if dvc_files is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, json.dumps(list(dvc_files)))


def pending_checkout(root: Path) -> list[str] | None:
    """The ``.dvc`` files whose data a killed move onto the remote branch had not checked out, if any."""
    path = root / STATE / CHECKOUT
    return [str(p) for p in json.loads(path.read_text(encoding="utf-8"))] if path.is_file() else None


def finish(root: Path) -> None:
    """The transaction is over: the journal goes first, then the staging folders and the marks."""
    state = root / STATE
    (state / JOURNAL).unlink(missing_ok=True)
    atomic._sync_folder(state)  # noqa: SLF001
    discard(root)


def discard(root: Path) -> None:
    """Remove what an attempt without a journal staged (nothing in the working tree changed)."""
    state = root / STATE
    stages = state / STAGES
    if stages.is_file():
        for name in json.loads(stages.read_text(encoding="utf-8")):
            atomic.remove(root / name)
        stages.unlink()
    (state / GIT_MARK).unlink(missing_ok=True)


def roll_forward(
    root: Path, plan: Plan, finisher: Callable[[Path, Plan, Mapping[str, str]], None], env: Mapping[str, str]
) -> None:
    """Finish ``plan``: the moves, then ``finisher`` (dvc add and the commit), then the journal goes."""
    apply_moves(root, plan)
    finisher(root, plan, env)
    checkpoint("finish")
    finish(root)
