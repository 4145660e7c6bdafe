"""Every operation a DVC child process can run (:mod:`alops.dvc.child`), each through ``dvc.repo.Repo``.

Each takes the request's step (a dict decoded from JSON) and returns a
JSON-able dict; a failure is raised. Transfers are in :mod:`alops.dvc.transfer`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alops.dvc import inventory
from alops.dvc.failure import Known
from alops.dvc.session import Session, remote, text
from alops.dvc.transfer import op_pull, op_push


def op_checkout(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    session.repo.checkout(targets=list(step["targets"]))
    return {}


def op_repro(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """``dvc repro [--pull] [--force] targets``: the stages' own output goes to this process's, as it happens."""
    session.repo.reproduce(targets=list(step["targets"]), pull=bool(step.get("pull")), force=bool(step.get("force")))
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
    cache = {k: text(v) for k, v in repo.config["cache"].items()}
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
