"""``python -m alops.dvcmain ARGS``: DVC's own command line, with S3 transfers bounded in time.

DVC's S3 remotes go through s3fs, which retries each call 5 times, each of
them through botocore, which retries 5 times more in its legacy mode; with
s3fs's 15 s read timeout a dead network was reported only after minutes.
botocore's retries are set through the environment (``AWS_MAX_ATTEMPTS``,
``AWS_RETRY_MODE``, which :func:`alops.dvc.environment` defaults); s3fs's
retries and its default timeouts are class attributes, set here from
``ALOPS_S3_RETRIES``, ``ALOPS_S3_CONNECT_TIMEOUT`` and ``ALOPS_S3_READ_TIMEOUT``
when s3fs is first imported (and only then: a DVC command that never touches
S3 does not pay for importing it). A remote's own ``connect_timeout`` and
``read_timeout`` options (``dvc remote modify``) still take precedence: s3fs
uses these defaults only when DVC passes none.

Uploads are sent without ``Expect: 100-continue``: aiohttp waits for the
server's "100 Continue" with no timeout at all (its read timeout starts once
the body is sent), so on a link that silently drops packets an upload would
hang until TCP gives up, far longer than any retry. botocore adds the header
to every PutObject and UploadPart; without it the body goes out at once and
the read timeout applies. The cost: a request the server refuses (403) sends
its body for nothing, once.

This is a program's entry point, like :mod:`alops.cli`: it reads its own environment.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

#: s3fs's class attribute each variable sets, and the type of its value.
SETTINGS = {
    "ALOPS_S3_RETRIES": ("retries", int),
    "ALOPS_S3_CONNECT_TIMEOUT": ("connect_timeout", float),
    "ALOPS_S3_READ_TIMEOUT": ("read_timeout", float),
}


def settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The s3fs class attributes ``env`` sets; a value that is not a positive number is ignored."""
    found: dict[str, Any] = {}
    for variable, (attribute, kind) in SETTINGS.items():
        try:
            value = kind(env.get(variable, ""))
        except ValueError:
            continue
        if value > 0:
            found[attribute] = value
    return found


class _AfterImport(importlib.abc.MetaPathFinder):
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
            for name, value in values.items():
                setattr(module.S3FileSystem, name, value)
            without_expect_continue()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def without_expect_continue() -> None:
    """Stop botocore from adding ``Expect: 100-continue`` to uploads (for sessions created from now on)."""
    from botocore import handlers  # type: ignore[import-untyped,unused-ignore]

    handlers.BUILTIN_HANDLERS[:] = [h for h in handlers.BUILTIN_HANDLERS if h[1] is not handlers.add_expect_header]


def main(argv: Sequence[str] | None = None) -> int:
    values = settings(os.environ)
    if values and "s3fs.core" not in sys.modules:
        sys.meta_path.insert(0, _AfterImport(values))
    from dvc.cli import main as dvc_main  # type: ignore[import-untyped,unused-ignore]

    return int(dvc_main(list(sys.argv[1:] if argv is None else argv)) or 0)


if __name__ == "__main__":
    sys.exit(main())
