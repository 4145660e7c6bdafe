"""The parent's side of a DVC child process: its environment, its start, its answer or the error it stands for."""

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
from alops.dvc import bounds
from alops.errors import ToolError
from alops.text import redact_output

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

        # The child stops at the first failed step: it is the one after those that answered.
        failed = ops[min(len(answer.get("results") or []), len(ops) - 1)]
        remote = answer.get("remote")
        return_error = error(
            failure,
            shown=shown or command_line(failed),
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


#: DVC's command for an op whose name is not one: `dvc remote add NAME URL`.
_COMMANDS = {"add_remote": "remote add"}


def command_line(op: dict[str, Any]) -> str:
    """How DVC's command line would say the step ``op``, for messages: ``dvc pull --remote s3 data/dev.dvc``."""
    words: list[str] = []
    if op.get("remote"):
        words += ["--remote", op["remote"]]
    words += list(op.get("targets") or op.get("paths") or [])
    if op["op"] == "add_remote":
        words = [op.get("name") or "", op.get("url") or ""]
    command = _COMMANDS.get(op["op"], op["op"])
    return f"dvc {command} {shlex.join(words)}".rstrip()


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
    bounds.settings(out)  # a bad ALOPS_S3_* value is a ConfigError here, before DVC starts
    return out
