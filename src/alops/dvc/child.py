"""``python -m alops.dvc.child REQUEST RESULT``: one alops command's DVC operations, in one process.

The parent (:mod:`alops.dvc`) starts this once per alops command, with the
environment it was given: DVC, s3fs and botocore read this process's
environment, which is exactly that one, so reading ``os.environ`` here is
reading what the caller passed. ``REQUEST`` is JSON, ``{"ops": [...]}``;
each operation runs through DVC's Python API (``dvc.repo.Repo``) on one open
repository, and the typed results (or the :class:`~alops.dvc.failure.Failure`
that stopped them) are written as JSON to the file ``RESULT``. DVC's and the
stages' output goes to this process's stdout and stderr, which the parent
shows (redacted) or keeps.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alops.dvc import bounds, ops
from alops.dvc.failure import Failure, Recorder, classify
from alops.dvc.session import Session


def main(argv: Sequence[str]) -> int:
    request, result = json.loads(argv[0]), Path(argv[1])
    bounds.install(os.environ)  # this process's environment is the one the parent passed
    try:
        from dvc.logger import setup  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        _write(result, [], Failure("no_dvc"))
        return 1
    setup()  # DVC's own log format on stderr, as its command line prints
    recorder = Recorder()
    for name in ("dvc", "dvc_objects", "dvc_data"):  # the loggers DVC's own setup gives handlers
        logging.getLogger(name).addHandler(recorder)
    session = Session(Path.cwd(), quiet=bool(request.get("quiet")))
    done: list[dict[str, Any]] = []
    op = ""
    try:
        for step in request["ops"]:
            op = str(step["op"])
            run: Callable[[Session, dict[str, Any]], dict[str, Any]] = ops.OPS[op]
            started = time.monotonic()
            done.append(run(session, step) | {"seconds": time.monotonic() - started})
            if done[-1].get("stop"):
                break
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, typed
        if isinstance(exc, KeyboardInterrupt) and not recorder.gave_up.is_set():
            return 130  # Ctrl-C (the parent got it too, and says so): no traceback, no result
        failure = classify(exc, recorder, op, session.phase)
        if failure.kind in ("repro", "tool"):  # as DVC's command line says it, for a streamed log
            print(failure.said[-1], file=sys.stderr)
        _write(result, done, failure, session)
        return 1
    finally:
        session.close()
    _write(result, done, None, session)
    return 0


def _write(path: Path, done: list[dict[str, Any]], failure: Failure | None, session: Session | None = None) -> None:
    remote = session.remote.to_json() if session is not None and session.remote is not None else None
    answer = {"results": done, "failure": failure.to_json() if failure else None, "remote": remote}
    path.write_text(json.dumps(answer), "utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
