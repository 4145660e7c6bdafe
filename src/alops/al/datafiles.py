"""The data files of a project as git holds them: ``.dvc`` files and the data outputs recorded in ``dvc.lock``.

``alops al sync`` compares them across branches by what they point at (each
output's path and hash), not by their text, and rewrites ``dvc.lock`` entry by
entry: an entry's lines are replaced by the other branch's lines for it, so
every other byte of the file stays as DVC wrote it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from alops.errors import ConfigError

LOCK = "dvc.lock"
#: The fields of an output that say which data it is (DVC 3 writes md5, DVC 2 too; cloud imports etag).
HASH_FIELDS = ("md5", "etag", "checksum", "size", "nfiles")

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


def candidates(path: str) -> list[str]:
    """The ``.dvc`` files that could track ``path``: its own, then each folder's above it."""
    path = posixpath.normpath(path.removeprefix("./"))
    if path.endswith(".dvc"):
        return [path]
    parts = path.split("/")
    return ["/".join(parts[:n]) + ".dvc" for n in range(len(parts), 0, -1)]


def identity(text: str | None, where: str) -> tuple[tuple[str, ...], ...] | None:
    """What a ``.dvc`` file points at: each dependency's and output's path and hash; None for no file."""
    if text is None:
        return None
    data = _load(text, where)
    entries = []
    for kind in ("deps", "outs"):
        for entry in data.get(kind) or []:
            if isinstance(entry, dict):
                entries.append((kind, *_fingerprint(entry), str(entry.get("rev_lock", ""))))
    return tuple(entries)


def outputs(text: str, dvc_file: str, where: str) -> list[str]:
    """The repository paths of a ``.dvc`` file's outputs (written relative to its folder)."""
    folder = posixpath.dirname(dvc_file)
    data = _load(text, where)
    return [
        posixpath.normpath(posixpath.join(folder, str(e["path"])))
        for e in data.get("outs") or []
        if isinstance(e, dict) and "path" in e
    ]


@dataclass(frozen=True)
class LockEntry:
    """One output of one stage in ``dvc.lock``: where its lines are and which data it names."""

    stage: str
    path: str
    fingerprint: tuple[str, ...]
    start: int  # offset of the entry's first key (after "- ")
    column: int
    end: int  # offset just past its last line


def lock_outputs(text: str | None, paths: Iterable[str], where: str = LOCK) -> dict[tuple[str, str], LockEntry]:
    """The outputs of ``dvc.lock``'s stages whose path is one of ``paths``, by (stage, path).

    Dependencies are never data versions of their own: a stage's ``deps`` record
    which data its outputs were made from, and changing them without the outputs
    would make DVC take a stale model for up to date.
    """
    if not text:
        return {}
    wanted = set(paths)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML ({exc}): run `dvc repro` or restore it from git") from None
    found: dict[tuple[str, str], LockEntry] = {}
    for stage, body in _pairs(_get(root, "stages")):
        for item in getattr(_get(body, "outs"), "value", []) or []:
            if not isinstance(item, yaml.MappingNode):
                continue
            entry = yaml.load(yaml.serialize(item), Loader=_Loader)  # noqa: S506 - the safe loader
            path = str(entry.get("path", ""))
            if path in wanted:
                end = item.end_mark.index
                if item.end_mark.column > 0 and end < len(text):  # the next token's line: the entry ends before it
                    end = text.rindex("\n", 0, end) + 1
                found[(stage, path)] = LockEntry(
                    stage, path, _fingerprint(entry), item.start_mark.index, item.start_mark.column, end
                )
    return found


def splice(ours: str, theirs: str, pairs: Iterable[tuple[LockEntry, LockEntry]]) -> str:
    """``ours`` with each of our entries replaced by the lines of theirs, re-indented to our column."""
    out, last = [], 0
    for mine, other in sorted(pairs, key=lambda p: p[0].start):
        lines = theirs[other.start : other.end].split("\n")
        shifted = [lines[0]] + [_indent(line, other.column, mine.column) for line in lines[1:]]
        out += [ours[last : mine.start], "\n".join(shifted)]
        last = mine.end
    return "".join(out) + ours[last:]


def _indent(line: str, old: int, new: int) -> str:
    if not line.strip():
        return line
    return " " * new + line[old:] if line[:old].strip() == "" else line


def _fingerprint(entry: dict[str, Any]) -> tuple[str, ...]:
    return (str(entry.get("path", "")), *(str(entry.get(key, "")) for key in HASH_FIELDS))


def _load(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - the safe loader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML ({exc}): restore it from git") from None
    return data if isinstance(data, dict) else {}


def _get(node: Any, key: str) -> Any:
    for k, v in _pairs(node):
        if k == key:
            return v
    return None


def _pairs(node: Any) -> list[tuple[str, Any]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(str(k.value), v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
