"""The run manifest, ``alops-manifest.json``: what one ``alops run`` used and got, enough to run it again.

``alops run`` writes it after every run: the commit (and whether tracked files
were changed), the parameters as run and the ``--set`` overrides, the metrics,
the DVC hashes of the data, models and stage dependencies, the Python
packages, the CI job and runner, the GPUs. ``alops reproduce`` reads it back;
``alops metrics diff`` and ``alops report`` compare against it. Nothing from
the environment goes in but the CI variables named in :mod:`alops.env`
(never a token).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.errors import DataError, MissingFileError

if TYPE_CHECKING:
    from alops.compare import Snapshot

#: The manifest's file name, in the repository root (git-ignored in the skeleton).
FILE = "alops-manifest.json"
#: The format version this alops writes and reads (the ``alops_manifest`` key).
VERSION = 1
#: Every key of a manifest, in the order it is written.
KEYS = (
    "alops_manifest",
    "created",
    "alops_version",
    "commit",
    "ref",
    "dirty",
    "role",
    "dataset",
    "jobs",
    "stages",
    "params",
    "set",
    "metrics",
    "data",
    "deps",
    "environment",
    "runner",
    "gpu",
    "ci",
    "timings",
    "reproduce",
)
#: Largest manifest read (a real one is a few kilobytes, most of it the package list).
MAX_BYTES = 16 << 20


def load(path: str | Path) -> dict[str, Any]:
    """The manifest in ``path``; a MissingFileError (exit 2) when it is not there, DataError (exit 4) when it is not a manifest."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise MissingFileError(
            f"{p}: file not found: give the alops-manifest.json an `alops run` wrote (a CI job keeps it as an artifact)",
            path=p,
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    return loads(data, str(p))


def loads(data: bytes, where: str) -> dict[str, Any]:
    """The manifest in ``data``; a DataError naming ``where`` when it is not one this alops can read."""
    if len(data) > MAX_BYTES:
        raise DataError(f"{where} is not a run manifest: it is larger than {MAX_BYTES >> 20} MiB")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{where} is not a run manifest: not JSON ({_short(exc)}); run `alops run` again") from None
    if not isinstance(doc, dict) or "alops_manifest" not in doc:
        raise DataError(f"{where} is not a run manifest: it has no alops_manifest key (written by `alops run`)")
    version = doc["alops_manifest"]
    if version != VERSION or isinstance(version, bool):
        raise DataError(
            f"{where}: alops_manifest {json.dumps(version)[:20]} is not a format this alops reads "
            f"(it reads {VERSION}): use the alops version that wrote it"
        )
    for key in KEYS:
        doc.setdefault(key, None)
    _check(doc, where)
    return doc


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]


def _check(doc: dict[str, Any], where: str) -> None:
    """Types of the values others read, so that a hand-edited manifest fails here and not deep inside."""
    commit = doc["commit"]
    if commit is not None and not (isinstance(commit, str) and _is_sha(commit)):
        raise DataError(f"{where}: commit must be a 40-hex-digit git commit, not {json.dumps(commit)[:60]}")
    for key in ("params", "metrics"):
        value = doc[key] or {}
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise DataError(f"{where}: {key} must map each file to its values")
        doc[key] = value
    for name, values in doc["metrics"].items():
        for metric, number in values.items():
            if not isinstance(number, (int, float)) or isinstance(number, bool):
                raise DataError(f"{where}: metrics.{name}.{metric} is not a number: {json.dumps(number)[:40]}")
    for key in ("data", "deps", "set"):
        value = doc[key] or {}
        if not isinstance(value, dict) or (key != "set" and not all(isinstance(v, str) for v in value.values())):
            raise DataError(
                f"{where}: {key} must map each path to its DVC hash"
                if key != "set"
                else f"{where}: set must map keys to values"
            )
        doc[key] = value
    for key in ("jobs", "stages", "gpu"):
        value = doc[key] or []
        if not isinstance(value, list):
            raise DataError(f"{where}: {key} must be a list")
        doc[key] = value
    if not all(isinstance(s, str) for s in doc["stages"]):
        raise DataError(f"{where}: stages must be a list of DVC stage names")
    for key in ("environment", "runner", "ci", "timings"):
        if doc[key] is not None and not isinstance(doc[key], dict):
            raise DataError(f"{where}: {key} must be an object or null")


def _is_sha(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def snapshot(manifest: Mapping[str, Any], label: str, source: str) -> Snapshot:
    """The manifest as one side of a comparison (``source``: ``manifest`` or ``artifacts``)."""
    from alops.compare import Snapshot

    ci = manifest.get("ci") or {}
    return Snapshot(
        label=label,
        source=source,
        commit=manifest.get("commit"),
        metrics={
            name: {k: float(v) for k, v in values.items()} for name, values in (manifest.get("metrics") or {}).items()
        },
        params={name: dict(values) for name, values in (manifest.get("params") or {}).items()},
        data=dict(manifest.get("data") or {}),
        manifest=dict(manifest),
        pipeline_url=ci.get("pipeline_url") if isinstance(ci, dict) else None,
    )
