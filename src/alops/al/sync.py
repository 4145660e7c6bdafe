"""``alops al sync --from BRANCH``: an al branch's data versions into this branch, as one commit of data files only.

What is data: the ``.dvc`` files of alops.yaml's datasets and of
``active_learning``'s pool, labelled set and label log, and, in ``dvc.lock``, the
outputs of stages whose path is one of those (data a stage makes). Code,
parameters, ``dvc.yaml`` and every other entry of ``dvc.lock`` stay as this
branch has them; so do the stages' dependencies: they record which data the
outputs were made from, and once the new data is pulled ``dvc status`` shows
the stages that read it as changed and ``dvc repro`` runs them.

A data file is brought when only the al branch changed it since the two
diverged (their merge-base); one both changed differently is a conflict, and
then nothing is written.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from alops import atomic, proc
from alops.al import history
from alops.al.datafiles import LOCK, candidates, identity, lock_outputs, outputs, splice
from alops.al.sync_refs import Refs, resolve, since_last_sync
from alops.config import Config
from alops.errors import ConfigError


@dataclass(frozen=True)
class Change:
    """One data file brought: a ``.dvc`` file, or one stage output of ``dvc.lock`` (``stage`` set)."""

    file: str
    stage: str | None
    output: str  # the data path: the .dvc file's, or the stage's output
    ours: str | None  # the hashes this branch had; None: the file is new here
    theirs: str


@dataclass(frozen=True)
class SyncReport:
    """What :func:`sync` did; ``commit`` None when there was nothing to bring."""

    branch: str
    ref: str  # what the branch was read from: the local branch or REMOTE/BRANCH
    source: str  # its commit
    changes: tuple[Change, ...]
    rounds: tuple[history.Ingest, ...]
    commit: str | None
    files: tuple[str, ...]  # what the commit changed (with .gitignore entries)
    pulled: bool = False


def sync(
    config: Config, branch: str, *, remote: str = "origin", pull: bool = False, env: Mapping[str, str]
) -> SyncReport:
    """Commit ``branch``'s data versions here (see the module); ``pull`` then fetches the data."""
    root = config.root
    ours_history = history.read(root, "HEAD", env=env)
    refs = since_last_sync(root, resolve(root, branch, remote, env=env), ours_history, branch, env)
    dvc_files, lock_paths = data_files(config, refs, env=env)
    _refuse_dirty(root, [*dvc_files, LOCK, *_ignores(dvc_files)], env)
    texts = {rev: {f: show(root, rev, f, env) for f in [*dvc_files, LOCK]} for rev in refs.revs}
    changes, conflicts, new_lock = _plan(refs, texts, dvc_files, lock_paths)
    if conflicts:
        raise ConfigError(_conflict_message(refs, conflicts))
    theirs_history = history.read(root, refs.theirs, env=env)
    rounds = tuple(i for i in theirs_history.ingests if i.round > ours_history.last_round)
    if not changes:
        return SyncReport(branch, refs.ref, refs.theirs, (), rounds, None, ())
    before: dict[str, str | None] = {}
    try:
        files = _write(root, refs, texts, changes, new_lock, before)
        message = _message(refs, branch, rounds, theirs_history.last_round, files)
        git(root, "add", "--", *files, env=env)
        git(root, "commit", "--quiet", f"--message={message}", "--", *files, env=env)
    except BaseException:  # a failed hook, a full disk, Ctrl-C: this branch as it was
        _restore(root, before, env)
        raise
    commit = git(root, "rev-parse", "HEAD", env=env).strip()
    report = SyncReport(branch, refs.ref, refs.theirs, tuple(changes), rounds, commit, tuple(files))
    if pull:
        from alops import dvc

        dvc.pull(sorted({c.file if c.stage is None else c.output for c in changes}), cwd=root, env=env)
        report = SyncReport(**{**report.__dict__, "pulled": True})
    return report


def data_files(config: Config, refs: Refs, *, env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The ``.dvc`` files of the project's data (on either branch) and the data paths that no ``.dvc`` file tracks."""
    paths = [t for ds in config.datasets.values() for t in ds.targets]
    if config.al is not None:
        paths += [p for p in (config.al.pool, config.al.labelled, config.al.labels) if p]
    wanted = {c for p in paths for c in candidates(p)}
    present = set()
    for rev in refs.revs:
        listed = git(config.root, "ls-tree", "-r", "-z", "--name-only", rev, "--", *sorted(wanted), env=env)
        present |= set(filter(None, listed.split("\0")))
    dvc_files: list[str] = []
    lock_paths: list[str] = []
    for path in paths:
        found = next((c for c in candidates(path) if c in present), None)
        if found is None:
            lock_paths.append(posixpath.normpath(path))
        elif found not in dvc_files:
            dvc_files.append(found)
    return dvc_files, lock_paths


def show(root: Path, rev: str | None, path: str, env: Mapping[str, str]) -> str | None:
    """The text of ``path`` at ``rev``; None when it is not there (or there is no ``rev``)."""
    if rev is None:
        return None
    done = proc.run(["git", "cat-file", "blob", f"{rev}:./{path}"], cwd=root, env=env, check=False)
    return done.stdout if done.returncode == 0 else None


def git(root: Path, *args: str, env: Mapping[str, str]) -> str:
    return proc.run(["git", "--literal-pathspecs", *args], cwd=root, env=env).stdout


def _hashes(text: str | None, where: str) -> str | None:
    found = identity(text, where)
    return None if found is None else ", ".join(e[2] for e in found if e[0] == "outs") or "no outputs"


@dataclass(frozen=True)
class _Conflict:
    what: str
    ours: str
    theirs: str


def _plan(
    refs: Refs, texts: dict[str, dict[str, str | None]], dvc_files: Sequence[str], lock_paths: Sequence[str]
) -> tuple[list[Change], list[_Conflict], str | None]:
    ours, theirs, base = texts[refs.ours], texts[refs.theirs], texts[refs.base] if refs.base else {}
    changes: list[Change] = []
    conflicts: list[_Conflict] = []
    for f in dvc_files:
        o, t, b = (identity(side.get(f), f) for side in (ours, theirs, base))
        if t is None or o == t or t == b:
            continue
        shown = (_hashes(ours.get(f), f), _hashes(theirs.get(f), f) or "")
        if o == b:
            changes.append(Change(f, None, f, *shown))
        else:
            conflicts.append(_Conflict(f, shown[0] or "deleted", shown[1]))
    mine, other = lock_outputs(ours.get(LOCK), lock_paths), lock_outputs(theirs.get(LOCK), lock_paths)
    old = lock_outputs(base.get(LOCK), lock_paths)
    pairs = []
    for key, entry in mine.items():
        if key not in other or entry.fingerprint == other[key].fingerprint:
            continue
        if key in old and old[key].fingerprint == other[key].fingerprint:
            continue
        what = f"{LOCK}: stage {key[0]}, output {key[1]}"
        if key in old and old[key].fingerprint == entry.fingerprint:
            pairs.append((entry, other[key]))
            changes.append(Change(LOCK, key[0], key[1], entry.fingerprint[1], other[key].fingerprint[1]))
        else:
            conflicts.append(_Conflict(what, entry.fingerprint[1], other[key].fingerprint[1]))
    new_lock = splice(ours[LOCK] or "", theirs[LOCK] or "", pairs) if pairs else None
    return changes, conflicts, new_lock


def _conflict_message(refs: Refs, conflicts: Sequence[_Conflict]) -> str:
    since = f"since they diverged at {refs.base[:12]}" if refs.base else "(the branches share no history)"
    lines = [f"cannot sync from {refs.ref}: these data files changed on both branches {since}, differently:"]
    lines += [f"  {c.what}: this branch {c.ours}, {refs.ref}@{refs.theirs[:12]} {c.theirs}" for c in conflicts]
    lines.append(
        "Nothing was changed. Data versions cannot be merged line by line: keep this branch's (do nothing), or take "
        f"{refs.ref}'s with `git checkout {refs.theirs[:12]} -- FILE` and commit it (this branch's data change is "
        "then dropped), or make this branch's data change on the al branch (ingest it there) and sync again."
    )
    return "\n".join(lines)


def _ignores(dvc_files: Sequence[str]) -> list[str]:
    return sorted({posixpath.join(posixpath.dirname(f), ".gitignore") for f in dvc_files})


def _write(
    root: Path,
    refs: Refs,
    texts: dict[str, dict[str, str | None]],
    changes: Sequence[Change],
    lock: str | None,
    before: dict[str, str | None],
) -> list[str]:
    """Write the al branch's versions; ``before`` gets each file's old text (None: it was not there) first."""
    files: list[str] = []
    for change in changes:
        if change.stage is not None:
            continue
        text = texts[refs.theirs][change.file] or ""
        (root / change.file).parent.mkdir(parents=True, exist_ok=True)
        _keep(root, change.file, before)
        atomic.write_text(root / change.file, text)
        files.append(change.file)
        if change.ours is None:  # new here: DVC would have git-ignored its outputs, as `dvc add` does
            files += _ignore_outputs(root, text, change.file, before)
    if lock is not None:
        _keep(root, LOCK, before)
        atomic.write_text(root / LOCK, lock)
        files.append(LOCK)
    return sorted(set(files))


def _keep(root: Path, name: str, before: dict[str, str | None]) -> None:
    path = root / name
    before.setdefault(name, path.read_text(encoding="utf-8") if path.exists() else None)


def _ignore_outputs(root: Path, text: str, dvc_file: str, before: dict[str, str | None]) -> list[str]:
    touched = []
    for out in outputs(text, dvc_file, dvc_file):
        ignore = posixpath.join(posixpath.dirname(out), ".gitignore")
        line = "/" + posixpath.basename(out)
        path = root / ignore
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if line not in old.splitlines():
            _keep(root, ignore, before)
            atomic.write_text(path, old + ("" if not old or old.endswith("\n") else "\n") + line + "\n")
            touched.append(ignore)
    return touched


def _message(refs: Refs, branch: str, rounds: Sequence[history.Ingest], last_round: int, files: Sequence[str]) -> str:
    numbers = [i.round for i in rounds]
    which = (
        f"round {numbers[0]}" if len(numbers) == 1 else f"rounds {numbers[0]}-{numbers[-1]}" if numbers else "no round"
    )
    labels = sum(i.labels for i in rounds)
    subject = f"alops al sync: data of {branch}@{refs.theirs[:12]} ({which}, +{labels} labels)"
    body = (
        f"The data versions of {refs.ref} at {refs.theirs}: {which}.\n"
        f"Changed: {', '.join(files)}. No code, parameters or other outputs.\n"
        "`alops data pull` (or `dvc pull`) gets the data, `dvc repro` retrains on it."
    )
    trailers = f"{history.SYNCED_FROM}: {branch}@{refs.theirs}"
    if last_round:
        trailers += f"\n{history.SYNCED_ROUND}: {last_round}"
    return f"{subject}\n\n{body}\n\n{trailers}\n"


def _restore(root: Path, before: Mapping[str, str | None], env: Mapping[str, str]) -> None:
    if before:
        proc.run(["git", "--literal-pathspecs", "reset", "--quiet", "--", *before], cwd=root, env=env, check=False)
    for name, text in before.items():
        if text is None:
            (root / name).unlink(missing_ok=True)
        else:
            atomic.write_text(root / name, text)


def _refuse_dirty(root: Path, files: Sequence[str], env: Mapping[str, str]) -> None:
    out = git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *files, env=env)
    dirty = sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})
    if dirty:
        raise ConfigError(
            f"cannot sync: {', '.join(dirty)} {'has' if len(dirty) == 1 else 'have'} changes not committed; "
            "commit them or discard them (`git restore FILE`), then run alops al sync again. Nothing was changed."
        )
