"""Which DVC objects a set of targets needs, and which of them a DVC cache holds.

alops counts transfers from these, not from DVC's human output: a pull fetched
exactly the objects of its dataset that were not in the cache before it, and
their sizes are what went over the network. The targets' objects come from
``.dvc`` files and ``dvc.lock`` (one object per file output, a ``.dir``
listing plus one object per entry for a directory output).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: DVC 3 keeps objects under files/md5/; outputs written by DVC 2 (no ``hash: md5``
#: in their entry) keep theirs at the cache's top level.
_DVC3 = ("files", "md5")


@dataclass(frozen=True)
class Out:
    """One output of a target: its workspace path and its object (a cache-relative path)."""

    path: str
    key: str

    @property
    def is_dir(self) -> bool:
        return self.key.endswith(".dir")


@dataclass
class Inventory:
    """The objects of some targets, as one cache holds them.

    ``present`` maps each object the cache has to its size; ``missing`` are
    objects it lacks; ``unlisted`` are directory objects whose listing it
    lacks, so their entries are not known yet. ``paths`` maps workspace paths
    (outputs and files inside directory outputs) to their objects.
    """

    present: dict[str, int] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    unlisted: set[str] = field(default_factory=set)
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Everything is in the cache: nothing to fetch."""
        return not self.missing and not self.unlisted

    def size(self, keys: Iterable[str]) -> int:
        return sum(self.present.get(k, 0) for k in keys)


def inventory(root: Path, cache: Path, targets: Iterable[str]) -> Inventory:
    """What ``cache`` holds of the objects of ``targets`` (``.dvc`` files, stage names, tracked paths)."""
    found = Inventory()
    for out in (o for t in targets for o in outs_of(root, t)):
        _add(found, cache, out.key, out.path)
        if out.is_dir and out.key in found.present:
            for relpath, key in _listing(cache, out.key):
                _add(found, cache, key, f"{out.path}/{relpath}")
        elif out.is_dir:
            found.unlisted.add(out.key)
    return found


def outs_of(root: Path, target: str) -> list[Out]:
    """The outputs a DVC target stands for: a ``.dvc`` file's, a stage's (from dvc.lock), or a tracked path's."""
    path = root / target
    if target.endswith(".dvc") and path.is_file():
        return [_out(o, path.parent, root) for o in _yaml(path).get("outs") or [] if _valid(o)]
    stages = (_yaml(root / "dvc.lock").get("stages") or {}) if (root / "dvc.lock").is_file() else {}
    if target in stages:
        return [_out(o, root, root) for o in stages[target].get("outs") or [] if _valid(o)]
    dvcfile = root / f"{target}.dvc"
    if dvcfile.is_file():
        return outs_of(root, f"{target}.dvc")
    wanted = os.path.normpath(target)
    return [
        out
        for stage in stages.values()
        for out in (_out(o, root, root) for o in stage.get("outs") or [] if _valid(o))
        if os.path.normpath(out.path) == wanted
    ]


def md5_of(key: str) -> str:
    """The md5 (``….dir`` for a listing) of an object's cache-relative path, as DVC names it in messages."""
    parts = key.split("/")
    return "".join(parts[-2:])


def snapshot(cache: Path) -> set[str]:
    """Every object in ``cache`` (cache-relative paths).

    Only needed when a directory's listing is not cached yet, so its entries
    cannot be looked up one by one; one scandir per prefix folder.
    """
    found: set[str] = set()
    for base in (cache / os.path.join(*_DVC3), cache):
        prefix = base.relative_to(cache)
        for sub in _scandir(base):
            if len(sub.name) == 2 and sub.is_dir():
                found.update(str(prefix / sub.name / e.name) for e in _scandir(Path(sub.path)) if e.is_file())
    return found


def run_cache_entries(cache: Path) -> int:
    """Entries of DVC's run-cache (``runs/<stage hash>/<entry>``) in ``cache``."""
    runs = cache / "runs"
    return sum(1 for p in runs.glob("*/*/*") if p.is_file()) if runs.is_dir() else 0


def _add(found: Inventory, cache: Path, key: str, path: str) -> None:
    found.paths[path] = key
    try:
        found.present[key] = (cache / key).stat().st_size
    except OSError:
        found.missing.add(key)


def _listing(cache: Path, dir_key: str) -> Iterator[tuple[str, str]]:
    """(relpath, object) of each entry of a cached ``.dir`` listing; entries share the listing's layout."""
    try:
        entries = json.loads((cache / dir_key).read_text("utf-8"))
    except (OSError, ValueError):
        return
    legacy = not dir_key.startswith("/".join(_DVC3) + "/")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("md5"), str) and isinstance(entry.get("relpath"), str):
            yield entry["relpath"], _key(entry["md5"], legacy=legacy)


def _out(entry: dict[str, Any], base: Path, root: Path) -> Out:
    path = os.path.relpath(os.path.normpath(base / str(entry["path"])), root)
    return Out(path.replace(os.sep, "/"), _key(str(entry["md5"]), legacy=entry.get("hash") != "md5"))


def _key(md5: str, *, legacy: bool) -> str:
    parts = (md5[:2], md5[2:])
    return "/".join(parts if legacy else (*_DVC3, *parts))


def _valid(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("md5"), str) and len(entry["md5"]) > 2 and "path" in entry


def _yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _scandir(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except OSError:
        return []
