"""Why a DVC operation failed, told by the exceptions' types (in the DVC child process).

DVC reports a failed transfer as a count (``DownloadError(3)``) and logs each
object's exception; :class:`Recorder` keeps those, and :func:`classify` reads
the error codes and classes of botocore, aiohttp and the OS behind them, not
their messages. The result is a :class:`Failure` the parent process turns
into the error that says what to do (:mod:`alops.dvc.errors`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

#: Error codes by which S3 refuses the credentials (a HEAD request's has no body: just "403").
REFUSED = frozenset(
    {
        "401",
        "403",
        "Forbidden",
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "AccountProblem",
    }
)
#: Error codes by which S3 says the bucket, or its region, is not what the remote's URL says.
NO_BUCKET = frozenset({"NoSuchBucket"})
WRONG_REGION = frozenset({"PermanentRedirect", "AuthorizationHeaderMalformed", "301"})


@dataclass
class Failure:
    """What went wrong: ``kind`` (see :func:`alops.dvc.errors.error`), S3's ``code``, and what DVC said."""

    kind: str
    op: str = ""
    phase: str = ""  # within op: "status" while a push asks the remote what it lacks
    code: str = ""
    name: str = ""  # the remote it concerns, when DVC said which
    package: str = ""  # the plugin a remote needs (kind "plugin")
    count: int = 0
    said: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Known(Exception):
    """A failure alops itself detected in the child (no remote, no credentials, …)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


class Recorder(logging.Handler):
    """Keeps the exceptions DVC logs; once one is the network's, stops the process after ``grace`` seconds.

    Once one object's transfer failed for the network, after all its retries,
    the others would fail the same way one batch after another: stopping
    (SIGINT, as Ctrl-C would) reports a dead network after one object's
    retries, however many objects there are. What arrived is kept (S3 stores
    only whole objects); the next run sends the rest.
    """

    def __init__(self, grace: float = 3.0) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[BaseException] = []
        self.said: list[str] = []
        self.gave_up = threading.Event()
        self.grace = grace

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        text = record.getMessage()
        if exc is not None:
            self.errors.append(exc)
            text = f"{text} - {exc}" if text else str(exc)
        self.said.append(f"{record.levelname}: {text}")
        if exc is not None and network(exc) and not self.gave_up.is_set():
            self.gave_up.set()
            timer = threading.Timer(self.grace, os.kill, (os.getpid(), signal.SIGINT))
            timer.daemon = True
            timer.start()


def classify(exc: BaseException, recorder: Recorder, op: str, phase: str = "") -> Failure:
    """The failure ``exc`` (and the exceptions DVC logged before it) stands for."""
    from dvc.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        DownloadError,
        DvcException,
        NotDvcRepoError,
        ReproductionError,
        UploadError,
    )
    from dvc_objects.fs.errors import RemoteMissingDepsError  # type: ignore[import-untyped,unused-ignore]

    if isinstance(exc, Known):
        exc.failure.op = exc.failure.op or op
        return exc.failure
    said = recorder.said[-20:]
    causes = [e for root in (*recorder.errors, exc) for e in chain(root)]
    if isinstance(exc, NotDvcRepoError):
        return Failure("not_repo", op)
    plugin = next((e for e in causes if isinstance(e, RemoteMissingDepsError)), None)
    if plugin is not None:
        return Failure("plugin", op, package=f"dvc-{plugin.protocol}")
    if op in ("pull", "push", "fetch", "checkout") or isinstance(exc, (DownloadError, UploadError)):
        found = _remote_failure(causes, op, said or [f"ERROR: {message(exc)}"])
        if found is not None:
            found.phase = phase
            return found
    kind = "repro" if isinstance(exc, ReproductionError) or op == "repro" else "tool"
    # DVC's own errors say what is wrong; anything else is named by its type too (a KeyError's text is only a key).
    what = message(exc) if isinstance(exc, DvcException) else f"{type(exc).__name__}: {message(exc)}"
    return Failure(kind, op, said=[*said, f"ERROR: {what}"][-20:])


def _remote_failure(causes: list[BaseException], op: str, said: list[str]) -> Failure | None:
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    codes = [str(e.response.get("Error", {}).get("Code", "")) for e in causes if isinstance(e, ClientError)]
    refused = next((c for c in codes if c in REFUSED), None)
    if refused:
        return Failure("credentials", op, code=refused, said=said)
    if any(isinstance(e, (NoCredentialsError, PartialCredentialsError)) for e in causes):
        return Failure("credentials", op, code="NoCredentials", said=said)
    if any(c in NO_BUCKET for c in codes):
        return Failure("no_bucket", op, said=said)
    if any(c in WRONG_REGION for c in codes):
        return Failure("wrong_region", op, said=said)
    if any(network(e) for e in causes):
        return Failure("network", op, said=[s for s in said if s.startswith("ERROR")][-5:] or said[-5:])
    return None


def network(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the network failed: botocore's, aiohttp's or the OS's classes."""
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    kinds: tuple[type[BaseException], ...] = (
        EndpointConnectionError,
        ConnectTimeoutError,  # not an EndpointConnectionError (botocore 1.43: its ConnectionError's)
        ConnectionClosedError,
        ReadTimeoutError,
        ConnectionError,  # the OS's: reset, refused, aborted
        TimeoutError,
    )
    try:
        import aiohttp

        kinds += (aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError)
    except ImportError:
        pass
    return any(isinstance(e, kinds) for e in chain(exc))


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it (``raise … from``, or raised while handling)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def message(exc: BaseException) -> str:
    """What DVC's command line would print for ``exc``: its message and the causes it names."""
    parts = []
    for e in chain(exc):
        text = str(e).strip()
        if text and text not in parts:
            parts.append(text)
    return " - ".join(parts) or type(exc).__name__
