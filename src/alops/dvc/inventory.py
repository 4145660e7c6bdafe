"""Which objects some DVC targets need, and which of them the local cache holds: asked of DVC's API.

Runs in the DVC child process (:mod:`alops.dvc.child`). Outputs come from
``repo.stage.collect_granular`` (``.dvc`` files, stage names, tracked paths),
their objects from ``Output.hash_info`` and, for a directory, from its listing
(``Tree.load``) when the cache has it; object paths from the cache's own
``oid_to_path``. alops counts transfers from these, not from DVC's human
output: a pull fetched exactly the objects that were not in the cache before it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Inventory:
    """The objects of some targets, as the local cache holds them.

    ``present`` maps each object the cache has (its oid) to its size;
    ``missing`` are objects it lacks; ``unlisted`` are directory objects whose
    listing it lacks, so their entries are not known yet. ``paths`` maps
    workspace paths (outputs and files inside directory outputs) to their
    oids; ``hashes`` holds each oid's HashInfo, for asking a remote about it.
    """

    present: dict[str, int] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    unlisted: set[str] = field(default_factory=set)
    paths: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Everything is in the cache: nothing to fetch."""
        return not self.missing and not self.unlisted

    def size(self, oids: Iterable[str]) -> int:
        return sum(self.present.get(k, 0) for k in oids)


def inventory(repo: Any, targets: Iterable[str]) -> Inventory:
    """What the local cache holds of the objects of ``targets``."""
    from dvc_data.hashfile.tree import Tree  # type: ignore[import-untyped,unused-ignore]

    found = Inventory()
    for out in (o for t in targets for o in outs_of(repo, t)):
        if not out.use_cache:
            continue  # `cache: false` (metrics, plots): git keeps it, DVC never pushes it
        info = out.hash_info
        if not info or not info.value:
            continue  # not run yet: nothing recorded
        odb = _odb(repo, info)
        path = os.path.relpath(out.fs_path, repo.root_dir).replace(os.sep, "/")
        _add(found, odb, info, path)
        if not info.isdir:
            continue
        if info.value not in found.present:
            found.unlisted.add(info.value)
            continue
        try:
            tree = Tree.load(odb, info)
        except Exception:  # noqa: BLE001 - a listing DVC cannot read is one the cache lacks
            found.unlisted.add(info.value)
            continue
        for key, (_meta, entry) in tree.iteritems():  # type: ignore[no-untyped-call,unused-ignore]
            if entry and entry.value:
                _add(found, odb, entry, f"{path}/{'/'.join(key)}")
    return found


def outs_of(repo: Any, target: str) -> list[Any]:
    """The outputs ``target`` stands for (a path inside a directory output stands for that output)."""
    outs = []
    for info in repo.stage.collect_granular(target):
        for out in info.stage.outs:
            wanted = info.filter_info
            if wanted is None or out.fs_path == wanted or wanted.startswith(out.fs_path + os.sep):
                outs.append(out)
            elif out.fs_path.startswith(str(wanted) + os.sep):
                outs.append(out)
    return outs


def everything(repo: Any) -> set[str]:
    """Every object in the local cache (only needed when a listing is not cached yet)."""
    return set(repo.cache.local.all()) | set(repo.cache.legacy.all())


def run_cache_entries(repo: Any) -> int:
    """Entries of DVC's run-cache (``<stage key>/<entry>`` under its ``cache_dir``)."""
    base = repo.stage_cache.cache_dir
    return sum(1 for _dir, _subdirs, files in os.walk(base) for _ in files) if os.path.isdir(base) else 0


def lost(found: Inventory, missing: set[str]) -> list[str]:
    """Workspace paths whose objects are in ``missing``; a path inside one named already is not named again."""
    names = {p for p, oid in found.paths.items() if oid in missing}
    return sorted(p for p in names if not any(p.startswith(d.rstrip("/") + "/") for d in names if d != p))


def _odb(repo: Any, info: Any) -> Any:
    # Outputs written by DVC 2 (no `hash: md5` in their entry) keep their objects in the legacy cache.
    return repo.cache.legacy if info.name == "md5-dos2unix" else repo.cache.local


def _add(found: Inventory, odb: Any, info: Any, path: str) -> None:
    found.paths[path] = info.value
    found.hashes[info.value] = info
    try:
        found.present[info.value] = os.path.getsize(odb.oid_to_path(info.value))
    except OSError:
        found.missing.add(info.value)
