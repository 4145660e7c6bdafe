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

In the parent: ``process`` (start the child, read its answer), ``commands``
(one operation each: ``pull``, ``push``, ``repro``, ``add``, …), ``errors``
(the messages). In the child: ``child`` (the entry point), ``session`` (the
open ``Repo``), ``ops`` and ``transfer`` (each operation), ``inventory``
(which objects targets need and the cache holds), ``failure``
(classification by type), ``bounds`` (S3 retries and timeouts). Both:
``remote`` (:class:`Remote`).
"""

from __future__ import annotations

from alops.dvc.commands import (
    add,
    add_remote,
    cache_dir,
    cache_step,
    checkout,
    config,
    get_remote,
    init,
    pull,
    push,
    repro,
    repro_step,
    use_cache_dir,
)
from alops.dvc.errors import CredentialsError
from alops.dvc.process import SHARED_CACHE_TYPE, TRANSFER_DEFAULTS, environment, run
from alops.dvc.remote import Remote

__all__ = [
    "SHARED_CACHE_TYPE",
    "TRANSFER_DEFAULTS",
    "CredentialsError",
    "Remote",
    "add",
    "add_remote",
    "cache_dir",
    "cache_step",
    "checkout",
    "config",
    "environment",
    "get_remote",
    "init",
    "pull",
    "push",
    "repro",
    "repro_step",
    "run",
    "use_cache_dir",
]
