"""The only place alops calls DVC: its Python API, in one child process per alops command.

Each function here (and :func:`run`, for several operations at once) starts
``python -m alops.dvc.child`` of ``sys.executable`` (the DVC alops was
installed with, never another ``dvc`` from PATH) in the environment the caller
passes, and gets back typed results: counts from DVC's API, failures
classified by exception type in the child (:mod:`alops.dvc.failure`) and
turned here into the ``AlopsError`` that says what to do
(:mod:`alops.dvc.errors`). Whatever DVC prints passes through
:func:`alops.text.redact_output` (:mod:`alops.proc`), so remote URLs with
credentials and secret variables never reach a job log through alops.

Modules: ``child`` (the entry point), ``ops`` (each operation on
``dvc.repo.Repo``), ``inventory`` (which objects targets need and the cache
holds), ``failure`` (classification by type), ``errors`` (messages),
``bounds`` (S3 retries and timeouts), ``remote`` (:class:`Remote`).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alops import env as variables
from alops import proc
from alops.dvc.errors import CredentialsError, no_default_remote, unknown_remote
from alops.dvc.remote import Remote
from alops.errors import ToolError
from alops.text import redact_output

__all__ = ["SHARED_CACHE_TYPE", "TRANSFER_DEFAULTS", "CredentialsError", "Remote", "environment", "run"]

#: How S3 transfers are bounded, when neither the environment nor the DVC remote says otherwise.
#: botocore's standard retry mode (throttling, 5xx and connection errors, capped
#: jittered back-off) with 2 attempts per request, instead of its legacy 5; s3fs
#: retries each call too (ALOPS_S3_RETRIES), and waits at most ALOPS_S3_READ_TIMEOUT
#: seconds for each read of a socket, not for a whole transfer, so large uploads are
#: not cut. A dead network is reported after about retries x attempts x read timeout
#: (about 45 s; a reset connection in seconds): the child stops DVC once one object failed so.
#: DVC's remote options ``connect_timeout`` / ``read_timeout`` take precedence (see :mod:`alops.dvc.bounds`).
TRANSFER_DEFAULTS = {
    "AWS_RETRY_MODE": "standard",
    "AWS_MAX_ATTEMPTS": "2",
    variables.S3_RETRIES: "2",
    variables.S3_CONNECT_TIMEOUT: "5",
    variables.S3_READ_TIMEOUT: "10",
}

#: Link types for a cache shared by many jobs: no copy of the data when the file
#: system allows it (reflink, hardlink), a symlink across mounts, a copy last.
SHARED_CACHE_TYPE = "reflink,hardlink,symlink,copy"


def run(
    ops: Sequence[dict[str, Any]],
    *,
    cwd: str | Path,
    env: Mapping[str, str],
    capture: bool = True,
    shown: str | None = None,
) -> list[dict[str, Any]]:
    """Run DVC operations (see :mod:`alops.dvc.ops`) in one child process; their results, in order.

    With ``capture=False`` DVC's output (and the stages') is shown as it
    happens, redacted. A failure raises the AlopsError it stands for;
    ``shown`` names the command in messages (default: ``dvc <first op> …``).
    """
    environ = environment(env)
    with tempfile.TemporaryDirectory(prefix="alops-dvc-") as tmp:
        out = Path(tmp) / "result.json"
        request = json.dumps({"ops": list(ops), "quiet": capture})
        command = [sys.executable, "-m", "alops.dvc.child", request, str(out)]
        result = proc.run(command, cwd=cwd, env=environ, capture=capture, check=False)
        try:
            answer = json.loads(out.read_text("utf-8"))
        except (OSError, ValueError):
            answer = None
    output = (result.stderr or "") + "\n" + (result.stdout or "")
    if answer is None:  # the child died before it could say why (a signal, an import error)
        tail = "\n".join(redact_output(output, environ).strip().splitlines()[-20:])
        raise ToolError(f"DVC stopped with exit code {result.returncode}" + (f":\n{tail}" if tail else ""))
    failure = answer.get("failure")
    if failure:
        from alops.dvc.errors import error

        failed = next((o for o in ops if o["op"] == failure.get("op")), ops[0])
        remote = answer.get("remote")
        return_error = error(
            failure,
            shown=shown or _shown(failed),
            cwd=str(Path(cwd).resolve()),
            remote=remote,
            # Steps of alops's own commands name the remote they used; a plain `dvc pull` names it as asked.
            requested=failed.get("remote") or (remote["name"] if remote and failed.get("name_remote") else None),
            captured=capture,
            output=output,
            returncode=result.returncode,
            env=environ,
        )
        raise return_error
    return list(answer["results"])


def _shown(op: dict[str, Any]) -> str:
    words = [op["op"].replace("_", " ")]
    if op.get("remote"):
        words += ["--remote", op["remote"]]
    words += list(op.get("targets") or op.get("paths") or [])
    return "dvc " + shlex.join(words)


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
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Push ``targets`` (every output if None) and the run-cache; ``sent``: objects the remote lacked.

    DVC uploads a directory's listing only after every file in it, and S3
    stores an object only once it has all of its bytes, so an interrupted push
    leaves complete objects only; the next push sends what is still missing.
    """
    step: dict[str, Any] = {"op": "push", "targets": None if targets is None else list(targets), "remote": remote}
    step |= {"run_cache": run_cache, "check_credentials": False}
    return run([step], cwd=cwd, env=_transitional(env), capture=not progress, shown=_shown({"op": "push"}))[0]


def checkout(targets: Sequence[str], *, cwd: str | Path, env: Mapping[str, str]) -> None:
    """``dvc checkout targets``: the workspace from the cache, without the network."""
    run([{"op": "checkout", "targets": list(targets)}], cwd=cwd, env=env)


def repro(
    stages: Sequence[str], *, cwd: str | Path, pull: bool = False, quiet: bool = False, env: Mapping[str, str]
) -> None:
    """``dvc repro [--pull] stages``; with ``quiet=False`` DVC's and the stages' output is shown as it happens."""
    run([repro_step(stages, pull=pull)], cwd=cwd, env=env, capture=quiet)


def repro_step(stages: Sequence[str], *, pull: bool = False) -> dict[str, Any]:
    """The :func:`run` step of ``dvc repro``: ``pull`` lets DVC fetch missing outputs and run-cache entries."""
    return {"op": "repro", "targets": list(stages), "pull": pull}


def init(*, cwd: str | Path, env: Mapping[str, str] | None = None) -> None:
    """``dvc init`` in a git repository."""
    run([{"op": "init"}], cwd=cwd, env=_transitional(env))


def add(paths: Sequence[str], *, cwd: str | Path, env: Mapping[str, str] | None = None) -> None:
    """``dvc add paths``: track data in the cache and write one ``.dvc`` file per path."""
    run([{"op": "add", "paths": list(paths)}], cwd=cwd, env=_transitional(env))


def add_remote(
    name: str,
    url: str,
    *,
    cwd: str | Path,
    default: bool = True,
    local: bool = False,
    env: Mapping[str, str] | None = None,
) -> None:
    """``dvc remote add --force [-d] name url``, in ``.dvc/config`` (or ``.dvc/config.local`` with ``local``)."""
    step = {"op": "add_remote", "name": name, "url": url, "default": default, "local": local}
    run([step], cwd=cwd, env=_transitional(env))


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


def cache_dir(root: str | Path, env: Mapping[str, str] | None = None) -> Path:
    """The project's DVC cache directory, as DVC's merged configuration says."""
    return Path(config(root, env=_transitional(env))["cache_dir"])


def get_remote(root: str | Path, name: str | None = None, *, env: Mapping[str, str]) -> Remote:
    """The remote ``name`` (the default remote if None); the DataError that says how to add it when there is none."""
    found = config(root, name, env=env)["remote"]
    if found is None:
        raise unknown_remote(name) if name else no_default_remote()
    return Remote.from_json(found)


def environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment DVC runs in: ``env``, this interpreter's scripts first on PATH.

    Stage commands say ``python src/train.py``; without this, running
    ``.venv/bin/alops`` from a shell without the virtualenv activated would
    give the stages another Python, one without the project's packages.
    S3 transfers get the bounded :data:`TRANSFER_DEFAULTS` where ``env`` sets none.
    """
    out = dict(env)
    bindir = os.path.dirname(sys.executable)
    out["PATH"] = bindir + os.pathsep + out.get("PATH", os.defpath)
    out.setdefault("PYTHONUNBUFFERED", "1")  # stage output appears as it happens in a job log
    for key, value in TRANSFER_DEFAULTS.items():
        if not out.get(key):
            out[key] = value
    return out


def _transitional(env: Mapping[str, str] | None) -> Mapping[str, str]:
    # Callers outside the data layer (devset build and refresh, test set-up) do not pass
    # their environment yet: until they do, these set-up helpers run DVC in this process's.
    return os.environ if env is None else env
