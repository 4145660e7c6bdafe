"""Pull and push, in the DVC child process: counted from DVC's API, the remote asked before a push.

Each takes the request's step (a dict decoded from JSON) and returns a
JSON-able dict; a failure is raised (DVC's own exceptions, or
:class:`~alops.dvc.failure.Known` for what alops checks itself).
"""

from __future__ import annotations

import os
from typing import Any

from alops import credentials
from alops.dvc import inventory
from alops.dvc.failure import Failure, Known
from alops.dvc.remote import Remote
from alops.dvc.session import Session, remote


def _credentials(found: Remote) -> None:
    if not credentials.sources(found, os.environ):  # the environment the parent passed
        raise Known(Failure("credentials", code=""))


def op_pull(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """Fetch and check out ``targets``; only the objects the cache lacks, and without the network when it has them all."""
    targets, run_cache = list(step["targets"]), bool(step.get("run_cache"))
    found = remote(session, step.get("remote"))
    repo = session.repo
    before = inventory.inventory(repo, targets)
    # A listing not cached yet hides which of its entries are: only then look at the whole cache.
    known = inventory.everything(repo) if before.unlisted else set()
    runs = inventory.run_cache_entries(repo) if run_cache else 0
    if before.complete and not run_cache:
        changed = repo.checkout(targets=targets)  # every object is here: no network, no credentials needed
    else:
        if step.get("check_credentials", True):
            _credentials(found)
        changed = _pull(repo, targets, found.name, run_cache)
    for path in changed.get("added", []):
        session.say(f"A       {path}")
    for path in changed.get("modified", []):
        session.say(f"M       {path}")
    after = inventory.inventory(repo, targets)
    had = set(before.present) | known
    fetched = [k for k in after.present if k not in had]
    return {
        "remote": found.to_json(),
        "fetched": len(fetched),
        "fetched_bytes": after.size(fetched),
        "cached": len(after.present) - len(fetched),
        "run_cache": inventory.run_cache_entries(repo) - runs if run_cache else None,
    }


def _pull(repo: Any, targets: list[str], name: str, run_cache: bool) -> Any:
    from dvc.exceptions import CheckoutError  # type: ignore[import-untyped,unused-ignore]

    try:
        return repo.pull(targets=targets, remote=name, run_cache=run_cache)
    except CheckoutError:
        # DVC fetched what the remote had, and some outputs are still not in the cache: on neither.
        left = inventory.inventory(repo, targets)
        if left.complete:
            raise
        raise Known(Failure("missing", count=len(left.missing | left.unlisted))) from None


def op_push(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """Push ``targets`` (all outputs if None) and the run-cache; first ask the remote which objects it lacks.

    Stops (``stop``) without pushing when there is nothing recorded to push,
    or when some outputs are on neither the cache nor the remote (``lost``).
    """
    targets = step.get("targets")
    found = remote(session, step.get("remote"))
    if step.get("check_credentials", True):
        _credentials(found)
    repo = session.repo
    result: dict[str, Any] = {"remote": found.to_json(), "outputs": 0, "lost": [], "sent": 0, "sent_bytes": 0}
    if targets is None:
        result["sent"] = repo.push(remote=found.name, run_cache=bool(step.get("run_cache")))
        return result
    have = inventory.inventory(repo, targets)
    result["outputs"] = len(have.paths)
    if not have.paths:
        return result | {"stop": True}
    session.phase = "status"
    status = repo.cloud.status(list(have.hashes.values()), remote=found.name)
    session.phase = ""
    missing = {h.value for h in status.missing}
    new = {h.value for h in status.new} & set(have.present)
    result["lost"] = inventory.lost(have, missing)
    if result["lost"]:
        return result | {"stop": True}
    repo.push(targets=list(targets), remote=found.name, run_cache=bool(step.get("run_cache")))
    # Not in the cache here (a `dvc gc`, a fresh clone) and not missing: on the remote. A directory
    # whose listing is not here counts as its listing only: its entries cannot be named.
    remote_only = {k for k in have.missing | have.unlisted if k not in missing}
    result |= {
        "sent": len(new),
        "sent_bytes": have.size(new),
        "already": len((set(have.present) | remote_only) - new),
    }
    return result
