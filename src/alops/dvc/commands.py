"""One DVC operation each, as DVC's commands name them: ``pull``, ``push``, ``repro``, ``add``, ….

Each is one child process (:func:`alops.dvc.process.run`); several for one
alops command are put in one ``run`` with the ``*_step`` builders instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alops.dvc.errors import no_default_remote, unknown_remote
from alops.dvc.process import SHARED_CACHE_TYPE, command_line, run
from alops.dvc.remote import Remote


def pull(
    targets: Sequence[str],
    *,
    remote: str | None = None,
    cwd: str | Path,
    run_cache: bool = False,
    progress: bool = False,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """Fetch ``targets``' objects the cache lacks (none when it has them all) and check them out; the counts.

    A project without a remote fails here even when the cache has everything,
    rather than later in a CI job's clean clone.
    """
    step = {"op": "pull", "targets": list(targets), "remote": remote, "run_cache": run_cache}
    return run([step], cwd=cwd, env=env, capture=not progress)[0]


def push(
    *,
    targets: Sequence[str] | None = None,
    remote: str | None = None,
    run_cache: bool = True,
    cwd: str | Path,
    progress: bool = False,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """Push ``targets`` (every output if None) and the run-cache; ``sent``: objects the remote lacked.

    DVC uploads a directory's listing only after every file in it, and S3
    stores an object only once it has all of its bytes, so an interrupted push
    leaves complete objects only; the next push sends what is still missing.
    """
    step: dict[str, Any] = {"op": "push", "targets": None if targets is None else list(targets), "remote": remote}
    step |= {"run_cache": run_cache, "check_credentials": False}
    return run([step], cwd=cwd, env=env, capture=not progress, shown=command_line({"op": "push"}))[0]


def checkout(targets: Sequence[str], *, cwd: str | Path, env: Mapping[str, str]) -> None:
    """``dvc checkout targets``: the workspace from the cache, without the network."""
    run([{"op": "checkout", "targets": list(targets)}], cwd=cwd, env=env)


def repro(
    stages: Sequence[str], *, cwd: str | Path, pull: bool = False, quiet: bool = False, env: Mapping[str, str]
) -> None:
    """``dvc repro [--pull] stages``; with ``quiet=False`` DVC's and the stages' output is shown as it happens."""
    run([repro_step(stages, pull=pull)], cwd=cwd, env=env, capture=quiet)


def repro_step(stages: Sequence[str], *, pull: bool = False, force: bool = False) -> dict[str, Any]:
    """The :func:`run` step of ``dvc repro``: ``pull`` lets DVC fetch missing outputs and run-cache entries;
    ``force`` (``--force``) runs the stages even when nothing changed, never restoring them from the run-cache."""
    return {"op": "repro", "targets": list(stages), "pull": pull, "force": force}


def init(*, cwd: str | Path, env: Mapping[str, str]) -> None:
    """``dvc init`` in a git repository."""
    run([{"op": "init"}], cwd=cwd, env=env)


def add(paths: Sequence[str], *, cwd: str | Path, env: Mapping[str, str]) -> None:
    """``dvc add paths``: track data in the cache and write one ``.dvc`` file per path."""
    run([{"op": "add", "paths": list(paths)}], cwd=cwd, env=env)


def add_remote(
    name: str,
    url: str,
    *,
    cwd: str | Path,
    default: bool = True,
    local: bool = False,
    env: Mapping[str, str],
) -> None:
    """``dvc remote add --force [-d] name url``, in ``.dvc/config`` (or ``.dvc/config.local`` with ``local``)."""
    step = {"op": "add_remote", "name": name, "url": url, "default": default, "local": local}
    run([step], cwd=cwd, env=env)


def use_cache_dir(path: str | Path, *, cwd: str | Path, env: Mapping[str, str]) -> bool:
    """Make ``path`` this project's DVC cache (``.dvc/config.local``), shared and linked, not copied.

    Written through DVC's own configuration editor, so that plain ``dvc``
    commands a job runs afterwards use it too. ``cache.shared group`` keeps the
    objects readable and writable by the group of every job that mounts the
    directory. Returns whether anything had to change.
    """
    return bool(run([cache_step(path)], cwd=cwd, env=env)[0]["changed"])


def cache_step(path: str | Path) -> dict[str, Any]:
    """The :func:`run` step of :func:`use_cache_dir`."""
    return {"op": "cache", "dir": str(path), "type": SHARED_CACHE_TYPE.split(",")}


def config(root: str | Path, remote: str | None = None, *, env: Mapping[str, str]) -> dict[str, Any]:
    """What DVC's merged configuration says: ``cache_dir``, ``remote`` (its JSON, or None) and ``cache``."""
    return run([{"op": "config", "remote": remote}], cwd=root, env=env)[0]


def cache_dir(root: str | Path, env: Mapping[str, str]) -> Path:
    """The project's DVC cache directory, as DVC's merged configuration says."""
    return Path(config(root, env=env)["cache_dir"])


def get_remote(root: str | Path, name: str | None = None, *, env: Mapping[str, str]) -> Remote:
    """The remote ``name`` (the default remote if None); the DataError that says how to add it when there is none."""
    found = config(root, name, env=env)["remote"]
    if found is None:
        raise unknown_remote(name) if name else no_default_remote()
    return Remote.from_json(found)
