"""The connection to Label Studio: its URL and token from the environment, the SDK client, retries and errors.

Every call goes through :func:`Connection.call`, which owns the retries: the
SDK's own are switched off because they retry neither timeouts nor a call the
caller must adapt before sending again (an import whose first try may have
reached the server). Down (connection refused), slow (a timeout) and 5xx are
retried with exponential backoff; then, and for any other failure, an
AlopsError says what failed and what to do. The token never appears in a
message: each is passed through :func:`alops.text.redact_output` with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from alops import env as variables
from alops.errors import AlopsError, ConfigError, DataError, ToolError
from alops.text import clip, redact_output, safe

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
#: The first wait before a retry, in seconds; each further one doubles it (1, 2, 4, … at most MAX_BACKOFF).
BACKOFF = 1.0
MAX_BACKOFF = 30.0
#: Answers worth another try: the server is overloaded, restarting or behind a proxy that gave up.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Connection:
    """Where Label Studio is and how patiently to talk to it; build it with :func:`connect`."""

    url: str
    token: str
    timeout: float  # seconds per request
    retries: int  # further tries after the first

    @contextmanager
    def client(self) -> Iterator[LabelStudio]:
        """An SDK client whose connections are closed at the end of the block."""
        import httpx
        from label_studio_sdk import LabelStudio

        with httpx.Client(timeout=self.timeout, follow_redirects=True) as http:
            yield LabelStudio(  # type: ignore[no-untyped-call]
                base_url=self.url, api_key=self.token, timeout=self.timeout, max_retries=0, httpx_client=http
            )

    def call(self, what: str, fn: Callable[[int], T]) -> T:
        """``fn(attempt)`` (0 first), retried on a transient failure; an AlopsError saying ``what`` failed otherwise."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        attempt = 0
        while True:
            try:
                return fn(attempt)
            # What the SDK raises: httpx's errors, its own ApiError for an HTTP error status, and
            # ValueError (pydantic's or JSON's) for an answer that is not what it expected.
            # Anything else is a bug here and keeps its traceback.
            except (httpx.HTTPError, ApiError, ValueError) as exc:
                if not transient(exc) or attempt >= self.retries:
                    raise self.error(exc, what, attempt + 1) from None
            time.sleep(min(BACKOFF * 2**attempt, MAX_BACKOFF))
            attempt += 1

    def error(self, exc: Exception, what: str, tries: int) -> AlopsError:
        """The AlopsError for a failed call: what failed, what the server said, what to do; never the token."""
        status = _status(exc)
        said = self.redact(_said(exc))
        where = f"Label Studio at {self.redact(self.url)}"
        if status in (401, 403):
            return DataError(
                f"{where} refused the token in {variables.LABEL_STUDIO_TOKEN} when asked to {what} ({status}: {said}): "
                "set it to the access token of a user of that server (Account & Settings); a legacy token "
                "also needs legacy tokens enabled for the organization (Organization > API Tokens Settings, "
                "or LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true on the server)"
            )
        if status == 400:
            return ConfigError(f"{where} refused to {what} (400: {said}): fix that in alops.yaml and run again")
        if status == 404:
            return ConfigError(
                f"{where} has no such page when asked to {what} (404: {said}): check that "
                f"{variables.LABEL_STUDIO_URL} is the server's base URL (e.g. http://label-studio:8080)"
            )
        times = f" after {tries} tries" if tries > 1 else ""
        if status is None and transient(exc):
            why = "timed out" if _is_timeout(exc) else "cannot be reached"
            return ToolError(
                f"{where} {why} when asked to {what}{times} ({said}): check that the server is up and "
                f"{variables.LABEL_STUDIO_URL} points at it (or raise {variables.LABEL_STUDIO_TIMEOUT}, "
                f"{variables.LABEL_STUDIO_RETRIES}), then run again: nothing was half-written, and samples already imported are not imported twice"
            )
        answer = f"answered {status}" if status else "failed"
        return ToolError(f"{where} {answer} when asked to {what}{times} ({said}): see the server's log, then run again")

    def redact(self, text: str) -> str:
        return safe(redact_output(text, {variables.LABEL_STUDIO_TOKEN: self.token}))


def connect(env: Mapping[str, str]) -> Connection:
    """The connection ``env`` describes; a ConfigError naming the variables that are missing or wrong."""
    url = env.get(variables.LABEL_STUDIO_URL, "").strip()
    token = env.get(variables.LABEL_STUDIO_TOKEN, "").strip()
    missing = [
        name for name, value in ((variables.LABEL_STUDIO_URL, url), (variables.LABEL_STUDIO_TOKEN, token)) if not value
    ]
    if missing:
        raise ConfigError(
            f"Label Studio is not configured: set {' and '.join(missing)} (the server's URL, e.g. "
            "http://localhost:8080, and a user's access token from its Account & Settings page)"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{variables.LABEL_STUDIO_URL} must start with http:// or https://, not {safe(clip(redact_output(url)))!r}"
        )
    timeout = _number(env, variables.LABEL_STUDIO_TIMEOUT, DEFAULT_TIMEOUT, float)
    retries = int(_number(env, variables.LABEL_STUDIO_RETRIES, DEFAULT_RETRIES, int))
    if timeout <= 0:
        raise ConfigError(f"{variables.LABEL_STUDIO_TIMEOUT} must be a number of seconds above 0, not {timeout:g}")
    if retries < 0:
        raise ConfigError(f"{variables.LABEL_STUDIO_RETRIES} must be 0 or more, not {retries}")
    return Connection(url.rstrip("/"), token, timeout, retries)


def _number(env: Mapping[str, str], name: str, default: float, kind: Callable[[str], float]) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {safe(clip(text))!r}") from None


def transient(exc: BaseException) -> bool:
    """A failure another try may not meet: no connection, a timeout, a dropped connection, a 5xx or 429."""
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    status = _status(exc)
    return status in TRANSIENT_STATUS or (status is not None and status >= 500)


def _is_timeout(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TimeoutException)


def _status(exc: BaseException) -> int | None:
    from label_studio_sdk.core.api_error import ApiError

    return exc.status_code if isinstance(exc, ApiError) else None


def _said(exc: BaseException) -> str:
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(exc, ApiError):
        body = exc.body
        if isinstance(body, dict):  # Label Studio's errors: {"detail": ..., "validation_errors": ...}
            parts = [body.get("detail"), body.get("validation_errors")]
            body = ": ".join(str(part) for part in parts if part) or body
        return clip(" ".join(str(body).split()) or "no details", 300)
    return clip(" ".join(str(exc).split()) or type(exc).__name__, 300)
