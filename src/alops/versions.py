"""The DVC data versions a commit records: each DVC-tracked path and its hash.

Two kinds of file hold them: a dataset's ``.dvc`` files (``dvc add``), whose
``outs`` paths are relative to the file's folder, and ``dvc.lock``, whose stage
entries record the ``outs`` a stage wrote and the ``deps`` it read. Everything
here reads text through a ``read(name)`` function, so the same code reads the
workspace (:func:`files`) and a git revision (``git cat-file``); ``where`` names
that side in messages (``the workspace``, ``main (0a1b2c3d)``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.errors import DataError

if TYPE_CHECKING:
    from alops.config import Config

LOCK = "dvc.lock"
#: The fields that hold an output's hash, first found wins: DVC 3 writes md5 for local files, etag or
#: checksum for cloud ones.
HASH_KEYS = ("md5", "etag", "checksum")
#: Reads one file of a side by its repository path; None when that side has no such file.
Reader = Callable[[str], "str | None"]


def files(root: Path) -> Reader:
    """A reader of the workspace at ``root``."""

    def read(name: str) -> str | None:
        path = root / name
        return path.read_text("utf-8") if path.is_file() else None

    return read


def digest(entry: Mapping[str, Any]) -> str | None:
    """An output's or dependency's hash: its md5, else its etag, else its checksum; None when it has none."""
    for key in HASH_KEYS:
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def dvc_file_outs(text: str, dvc_file: str, where: str) -> dict[str, str]:
    """Path (from the repository root) → hash of each output the ``.dvc`` file ``dvc_file`` (its ``text``) records."""
    doc = _yaml(text, dvc_file, where, "restore it from git")
    return _hashes(doc.get("outs"), posixpath.dirname(dvc_file))


def lock_stages(text: str | None, where: str) -> dict[str, Any]:
    """dvc.lock's stage entries by name (``prepare@full``); empty when there is no dvc.lock (``text`` None)."""
    if text is None:
        return {}
    stages = _yaml(text, LOCK, where, "run `dvc repro` again, or restore it from git").get("stages")
    return {str(name): stage for name, stage in stages.items()} if isinstance(stages, dict) else {}


def lock_hashes(stages: Mapping[str, Any], names: Iterable[str], kind: str) -> dict[str, str]:
    """Path → hash of the ``kind`` (``outs`` or ``deps``) entries dvc.lock records for the stages ``names``."""
    found: dict[str, str] = {}
    for name in names:
        stage = stages.get(name)
        if isinstance(stage, dict):
            found.update(_hashes(stage.get(kind), ""))
    return found


def of_flow(config: Config, dataset: str, read: Reader, where: str) -> dict[str, str]:
    """The data versions a flow on ``dataset`` depends on: its ``.dvc`` files' outputs, then dvc.lock's.

    A target is its own ``.dvc`` file, else ``TARGET.dvc``; from dvc.lock, the
    outputs of every stage but a ``foreach`` stage of another dataset
    (``train@full`` counts for ``full`` only).
    """
    found: dict[str, str] = {}
    spec = config.datasets.get(dataset)
    for target in spec.targets if spec else ():
        dvc_file = target if target.endswith(".dvc") else target + ".dvc"
        text = read(dvc_file)
        if text is not None:
            found.update(dvc_file_outs(text, dvc_file, where))
    stages = lock_stages(read(LOCK), where)
    return found | lock_hashes(stages, [name for name in stages if _for(name, dataset)], "outs")


def _for(stage: str, dataset: str) -> bool:
    return "@" not in stage or stage.rpartition("@")[2] == dataset


def _hashes(entries: Any, folder: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("path"), str) and (found_hash := digest(entry)):
            found[posixpath.normpath(posixpath.join(folder, entry["path"]))] = found_hash
    return found


def _yaml(text: str, name: str, where: str, fix: str) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        said = str(exc).splitlines()[0][:120]
        raise DataError(f"{name} in {where} is not readable YAML ({said}): {fix}") from None
    return doc if isinstance(doc, dict) else {}
