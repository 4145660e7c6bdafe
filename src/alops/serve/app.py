"""The model's REST endpoint: KServe's (and TensorFlow Serving's) V1 protocol, on Starlette.

``POST /v1/models/<name>:predict`` with ``{"instances": [row, ...]}`` answers 200
``{"predictions": [...], "model": "<name>", "version": "X.Y.Z"}``, one prediction a row.
``GET /v1/models/<name>`` answers ``{"name", "version", "ready": true, "commit"}`` and
``GET /healthz`` ``{"status": "ok"}``.

Every error is JSON ``{"error": "..."}``:

- 400: the body is not JSON (NaN and Infinity included: they are not JSON numbers),
  not an object, has no ``instances`` list or another key, an empty list or more than
  ``max_instances`` rows; or the predictor raised ValueError (its message is sent).
- 404: another model's name, an unknown path; 405: another method.
- 413: a body over ``max_body_bytes``, refused from its Content-Length or while it is
  read, never held whole.
- 500: anything else the predictor raised (logged with its traceback here; the client
  gets "internal error"), or predictions that are not one JSON value per row.

There is no 422: a body that is valid JSON but not a request is a bad request (400),
as in KServe's and TensorFlow Serving's V1 protocol. Request bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.serve.predictor import Served, load
from alops.text import clip

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_INSTANCES = 10_000
# A client that sends a body over the limit without waiting for "100 Continue" only reads
# the 413 once it has sent the body: up to this much more is read (and dropped) so it
# can; beyond it the connection is closed (as nginx's lingering close does).
DRAIN_BYTES = 64 * 1024 * 1024
_SUFFIX = ":predict"
# What may overflow a float to infinity: an exponent of 100 or more, or 200 digits in a row. Without
# either a number is under 10**200 * 10**99, finite (floats go to 1.8e308).
_HUGE = re.compile(r"[eE][+]?0*[1-9][0-9]{2}|[0-9]{200}")

log = logging.getLogger("alops.serve")


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(
    served: Served, *, max_body_bytes: int = MAX_BODY_BYTES, max_instances: int = MAX_INSTANCES
) -> Starlette:
    """The Starlette app serving ``served`` (see the module for the protocol)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    info = {"name": served.name, "version": served.version, "ready": True, "commit": served.commit}

    async def healthz(request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def model(request: Request) -> Response:
        target: str = request.path_params["target"]
        predict = target.endswith(_SUFFIX)
        name = target[: -len(_SUFFIX)] if predict else target
        if name != served.name:
            return _error(404, f"no model {clip(name, 80)!r} here: this server serves {served.name!r}")
        allowed = ("POST",) if predict else ("GET", "HEAD")
        if request.method not in allowed:
            message = f"{clip(request.method, 20)} is not allowed here: use {allowed[0]}"
            return _error(405, message, headers={"allow": ", ".join(allowed)})
        if not predict:
            return _json(200, info)
        try:
            instances = _instances(await _body(request, max_body_bytes), max_instances)
        except _Refused as exc:
            return _error(exc.status, exc.message, close=exc.status == 413)
        try:
            predictions = await run_in_threadpool(served.predictor.predict, instances)
        except ValueError as exc:
            return _error(400, clip(str(exc), 1000) or "the predictor refused the instances")
        except Exception:
            log.exception("predict of %s %s failed on %d instances", served.name, served.version, len(instances))
            return _error(500, "internal error")
        try:
            return _predictions(predictions, len(instances), served)
        except (TypeError, ValueError) as exc:
            log.error("predict of %s %s returned no valid predictions: %s", served.name, served.version, exc)
            return _error(500, "internal error")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {404: "not found: the paths are /healthz, /v1/models/<name> and /v1/models/<name>:predict"}
        return _error(exc.status_code, message.get(exc.status_code, exc.detail), headers=exc.headers)

    async def crash(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        # every usual method reaches the handler, which says the one this path takes
        Route("/v1/models/{target}", model, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: crash})


def from_package(
    package_dir: Path, max_body_bytes: int = MAX_BODY_BYTES, max_instances: int = MAX_INSTANCES
) -> Starlette:
    """The app of the package in ``package_dir``: the factory each of ``alops serve --workers N``'s processes calls."""
    return create_app(load(package_dir), max_body_bytes=max_body_bytes, max_instances=max_instances)


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, read chunk by chunk: 413 as soon as it is over ``limit`` (or says it will be)."""
    too_big = _Refused(413, f"the body is over {limit} bytes: send fewer instances per request")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        if request.headers.get("expect", "").lower() != "100-continue":
            await _drain(request, 0)
        # else it waits for our answer (no "100 Continue" is sent) before it sends the body: nothing to drain
        raise too_big
    chunks, size, more = [], 0, True
    while more:
        message = await request.receive()
        if message["type"] != "http.request":  # the client went away: no one reads the answer
            raise _Refused(400, "the client disconnected")
        chunk, more = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            if more:
                await _drain(request, size)
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Request, drained: int) -> None:
    """Read and drop what the client still sends (up to DRAIN_BYTES), so that it gets to read the 413."""
    while drained <= DRAIN_BYTES:
        message = await request.receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _instances(body: bytes, limit: int) -> list[Any]:
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError:
        raise _Refused(400, "the body is not JSON: not UTF-8") from None
    # Checking every float in Python costs more than the parse (1.4 ms on 100 rows of 64):
    # only a body with a literal that could overflow to infinity gets that check.
    parse_float = _finite if _HUGE.search(text) else float
    try:
        doc = json.loads(text, parse_constant=_no_constant, parse_float=parse_float)
    except _Refused:
        raise
    except (ValueError, RecursionError) as exc:
        raise _Refused(400, f"the body is not JSON: {clip(str(exc), 200)}") from None
    if not isinstance(doc, dict):
        raise _Refused(400, 'the body must be a JSON object: {"instances": [...]}')
    if "instances" not in doc:
        raise _Refused(400, 'the body has no "instances": send {"instances": [...]}, one item a row')
    other = sorted(set(doc) - {"instances"})
    if other:
        raise _Refused(400, f'unknown key {clip(other[0], 40)!r}: the body holds only "instances"')
    instances = doc["instances"]
    if not isinstance(instances, list):
        raise _Refused(400, '"instances" must be a list, one item a row')
    if not instances:
        raise _Refused(400, '"instances" is empty: send at least one row')
    if len(instances) > limit:
        raise _Refused(400, f'"instances" has {len(instances)} rows, over the limit of {limit}: split the batch')
    return instances


def _no_constant(name: str) -> Any:
    raise _Refused(400, f"{name} is not a JSON number: send finite numbers")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(400, f"{clip(text, 40)} is out of range for a number: send finite numbers")
    return value


def _predictions(predictions: Any, rows: int, served: Served) -> Response:
    if hasattr(predictions, "tolist"):  # a numpy array
        predictions = predictions.tolist()
    if not isinstance(predictions, list) or len(predictions) != rows:
        raise ValueError(f"{type(predictions).__name__} for {rows} instances: predict must return a list, one a row")
    return _json(200, {"predictions": predictions, "model": served.name, "version": served.version})


def _json(status: int, doc: Any, headers: Mapping[str, str] | None = None) -> Response:
    from starlette.responses import Response

    body = json.dumps(doc, allow_nan=False, default=_plain, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(status: int, message: str, *, close: bool = False, headers: Mapping[str, str] | None = None) -> Response:
    extra = dict(headers or {})
    if close:
        extra["connection"] = "close"
    return _json(status, {"error": message}, extra)


def _plain(value: Any) -> Any:
    """numpy scalars (np.int64 from a classifier) as Python numbers; anything else is not JSON."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
