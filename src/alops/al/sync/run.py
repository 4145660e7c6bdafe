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
from dataclasses import dataclass, replace
from pathlib import Path

from alops import proc
from alops.al import history
from alops.al.datafiles import LOCK, candidates, identity, lock_outputs, splice
from alops.al.sync.refs import Refs, resolve, since_last_sync
from alops.al.sync.write import ignores, refuse_dirty, write_and_commit
from alops.config import Config
from alops.errors import AlopsError, ConfigError


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
    texts = {rev: {f: show(root, rev, f, env) for f in [*dvc_files, LOCK]} for rev in refs.revs}
    changes, conflicts, new_lock = _plan(refs, texts, dvc_files, lock_paths)
    if conflicts:
        raise ConfigError(_conflict_message(refs, conflicts))
    theirs_history = history.read(root, refs.theirs, env=env)
    rounds = tuple(i for i in theirs_history.ingests if i.round > ours_history.last_round)
    if not changes:
        return SyncReport(branch, refs.ref, refs.theirs, (), rounds, None, ())
    brought = {c.file: texts[refs.theirs][c.file] or "" for c in changes if c.stage is None}
    new_here = [c.file for c in changes if c.stage is None and c.ours is None]
    refuse_dirty(root, [*brought, *([LOCK] if new_lock else []), *ignores(new_here)], env)
    files, commit = write_and_commit(
        root,
        brought,
        new_here,
        new_lock,
        lambda files: _message(refs, branch, rounds, theirs_history.last_round, files),
        env,
    )
    report = SyncReport(branch, refs.ref, refs.theirs, tuple(changes), rounds, commit, tuple(files))
    if pull:
        report = replace(report, pulled=_pull(root, changes, commit, env))
    return report


def _pull(root: Path, changes: Sequence[Change], commit: str, env: Mapping[str, str]) -> bool:
    from alops import dvc

    try:
        dvc.pull(sorted({c.file if c.stage is None else c.output for c in changes}), cwd=root, env=env)
    except AlopsError as exc:  # the commit stands: say so, keep the failure's exit code
        raise type(exc)(f"synced in commit {commit[:12]}, but the pull failed: {exc}") from exc
    return True


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
