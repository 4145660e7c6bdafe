"""S3 transfers bounded in time, applied inside the DVC child process (:mod:`alops.dvc.child`).

DVC's S3 remotes go through s3fs, which retries each call 5 times, each of
them through botocore, which retries 5 times more in its legacy mode; with
s3fs's 15 s read timeout a dead network was reported only after minutes.
botocore's retries are set through the environment (``AWS_MAX_ATTEMPTS``,
``AWS_RETRY_MODE``, which :func:`alops.dvc.environment` defaults); s3fs's
retries are no DVC remote option at all, so its retries and default timeouts
are set here, as class attributes, from ``ALOPS_S3_RETRIES``,
``ALOPS_S3_CONNECT_TIMEOUT`` and ``ALOPS_S3_READ_TIMEOUT`` when s3fs is first
imported (and only then: a command that never touches S3 does not pay for
importing it). A remote's own ``connect_timeout`` and ``read_timeout``
options (``dvc remote modify``) still take precedence: s3fs uses these
defaults only when DVC passes none.

Uploads are sent without ``Expect: 100-continue``: aiohttp waits for the
server's "100 Continue" with no timeout at all (its read timeout starts once
the body is sent), so on a link that silently drops packets an upload would
hang until TCP gives up, far longer than any retry. botocore adds the header
to every PutObject and UploadPart; without it the body goes out at once and
the read timeout applies. The cost: a request the server refuses (403) sends
its body for nothing, once.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from alops import env as variables
from alops.errors import ConfigError
from alops.text import clip, quote

#: s3fs's class attribute each variable sets, and the type of its value.
SETTINGS = {
    variables.S3_RETRIES: ("retries", int),
    variables.S3_CONNECT_TIMEOUT: ("connect_timeout", float),
    variables.S3_READ_TIMEOUT: ("read_timeout", float),
}


def settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The s3fs class attributes ``env`` sets (unset or empty: none); ConfigError for a value that is no bound.

    Retries are a whole number of at least 1 (s3fs makes that many attempts);
    timeouts a number of seconds greater than 0.
    """
    import math

    found: dict[str, Any] = {}
    for variable, (attribute, kind) in SETTINGS.items():
        text = env.get(variable, "").strip()
        if not text:
            continue
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value <= 0:
            what = "a whole number of attempts, 1 or more" if kind is int else "a number of seconds greater than 0"
            raise ConfigError(f"{variable}={quote(clip(text))} is not allowed: give {what}, or unset it")
        found[attribute] = value
    return found


def install(env: Mapping[str, str]) -> None:
    """Bound s3fs as ``env`` says, once it is imported (now, if it already is)."""
    values = settings(env)  # even with none, uploads go without `Expect: 100-continue` (see _apply)
    if "s3fs.core" in sys.modules:
        _apply(sys.modules["s3fs.core"], values)
    else:
        sys.meta_path.insert(0, AfterImport(values))


class AfterImport(importlib.abc.MetaPathFinder):
    """Sets attributes of ``s3fs.core.S3FileSystem`` once that module has been executed."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != "s3fs.core":
            return None
        sys.meta_path.remove(self)  # once: the real finders locate the module
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module
        values = self.values

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _apply(module, values)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _apply(module: ModuleType, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(module.S3FileSystem, name, value)
    without_expect_continue()


def without_expect_continue() -> None:
    """Stop botocore from adding ``Expect: 100-continue`` to uploads (for sessions created from now on)."""
    from botocore import handlers  # type: ignore[import-untyped,unused-ignore]

    handlers.BUILTIN_HANDLERS[:] = [h for h in handlers.BUILTIN_HANDLERS if h[1] is not handlers.add_expect_header]
