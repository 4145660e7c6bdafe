"""The DVC operations the child process runs (:mod:`alops.dvc.child`), each through ``dvc.repo.Repo``.

Each takes the request's step (a dict decoded from JSON) and returns a
JSON-able dict; a failure is raised (DVC's own exceptions, or
:class:`~alops.dvc.failure.Known` for what alops checks itself).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alops import credentials
from alops.dvc import inventory
from alops.dvc.failure import Failure, Known
from alops.dvc.remote import Remote


class Session:
    """One open repository for all of a request's operations (reopened after its configuration changes)."""

    def __init__(self, root: Path, *, quiet: bool) -> None:
        self.root = root
        self.quiet = quiet
        self._repo: Any = None
        self.remote: Remote | None = None  # the last one looked up: failures name it
        self.phase = ""  # what the current operation is doing, where failures differ (a push's status)

    @property
    def repo(self) -> Any:
        if self._repo is None:
            from dvc.repo import Repo  # type: ignore[import-untyped,unused-ignore]

            self._repo = Repo(str(self.root))
        return self._repo

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)


def remote(session: Session, name: str | None) -> Remote:
    """The remote ``name`` (the default remote if None) from DVC's merged configuration."""
    config = session.repo.config
    chosen = name or config["core"].get("remote")
    if not chosen:
        raise Known(Failure("no_remote"))
    options = config["remote"].get(chosen) or config["remote"].get(chosen.lower())
    if not options or not options.get("url"):
        raise Known(Failure("unknown_remote", name=chosen))
    session.remote = Remote(chosen, str(options["url"]), {str(k): _text(v) for k, v in options.items()})
    return session.remote


def _text(value: Any) -> str:
    return (
        ",".join(map(str, value))
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


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


def op_checkout(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    session.repo.checkout(targets=list(step["targets"]))
    return {}


def op_repro(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """``dvc repro [--pull] targets``: the stages' own output goes to this process's, as it happens."""
    session.repo.reproduce(targets=list(step["targets"]), pull=bool(step.get("pull")))
    return {}


def op_init(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    from dvc.repo import Repo  # type: ignore[import-untyped,unused-ignore]

    Repo.init(str(session.root)).close()
    return {}


def op_add(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    session.repo.add(list(step["paths"]))
    return {}


def op_add_remote(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """``dvc remote add --force [-d] [--local] name url``: written through DVC's own config editor."""
    name, level = str(step["name"]), "local" if step.get("local") else "repo"
    with session.repo.config.edit(level) as config:
        config["remote"][name] = {"url": str(step["url"])}
        if step.get("default"):
            config["core"]["remote"] = name
    session.close()
    return {}


def op_cache(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """Make ``dir`` the cache in ``.dvc/config.local``, shared by the group and linked; ``changed``: whether it had to."""
    path = Path(step["dir"]).resolve()
    wanted: dict[str, Any] = {"dir": str(path), "shared": "group", "type": list(step["type"])}
    cache = session.repo.config["cache"]
    current = {
        "dir": os.path.realpath(cache.get("dir") or ""),
        "shared": cache.get("shared"),
        "type": cache.get("type"),
    }
    if current == {**wanted, "dir": os.path.realpath(path)}:
        return {"changed": False}
    path.mkdir(parents=True, exist_ok=True)
    with session.repo.config.edit("local") as config:
        config["cache"].update(wanted)
    session.close()
    return {"changed": True}


def op_config(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """The cache directory, the remote ``remote`` (if it is configured) and the merged ``cache`` section."""
    repo = session.repo
    try:
        found: dict[str, Any] | None = remote(session, step.get("remote")).to_json()
    except Known:
        found = None
    cache = {k: _text(v) for k, v in repo.config["cache"].items()}
    return {"cache_dir": repo.cache.local_cache_dir, "remote": found, "cache": cache}


def op_objects(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """The cache files of the objects of ``targets`` that the cache holds (what ``dvc gc`` would remove)."""
    repo = session.repo
    found = inventory.inventory(repo, list(step["targets"]))
    legacy = {oid for oid, info in found.hashes.items() if info.name == "md5-dos2unix"}
    odb = {oid: repo.cache.legacy if oid in legacy else repo.cache.local for oid in found.present}
    return {"present": {oid: odb[oid].oid_to_path(oid) for oid in found.present}}


OPS: dict[str, Callable[[Session, dict[str, Any]], dict[str, Any]]] = {
    "pull": op_pull,
    "push": op_push,
    "checkout": op_checkout,
    "repro": op_repro,
    "init": op_init,
    "add": op_add,
    "add_remote": op_add_remote,
    "cache": op_cache,
    "config": op_config,
    "objects": op_objects,
}
