"""``python killable.py ROOT SOURCE STEP [push]``: an ingest (or with SOURCE ``-``, a recovery) that SIGKILLs itself.

STEP is the number of the transaction's checkpoint (:data:`alops.al.ingest.journal.checkpoints`)
at which the process kills itself, or its name, or ``-1`` for never; ``push``: the ingest pushes. The ingest id is fixed, so that
every run of the same ingest writes the same files and DVC hashes them the same.
Prints the checkpoints it passed, one a line, each with the seconds since start.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from pathlib import Path

START = time.monotonic()
NOW = "2026-12-02T03:00:00Z"


def main(root: Path, source: str, step: str, push: bool) -> None:
    from alops.al.ingest import ingest, journal, recover
    from alops.config import load_config

    passed: list[str] = []

    def hook(name: str) -> None:
        if str(len(passed)) == step or name == step:
            os.kill(os.getpid(), signal.SIGKILL)
        passed.append(name)
        print(f"{time.monotonic() - START:.3f} {name}", flush=True)

    journal.checkpoints.append(hook)
    uuid.uuid4 = lambda: uuid.UUID(int=0xA1095)  # the same ingest every run
    if source == "-":
        recover(root, dict(os.environ))
    else:
        ingest(load_config(root / "alops.yaml"), Path(source), env=dict(os.environ), push=push, strict=False, now=NOW)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:] == ["push"])
