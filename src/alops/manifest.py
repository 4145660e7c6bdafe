"""The run manifest, ``alops-manifest.json``: what one ``alops run`` used and got, enough to run it again.

``alops run`` writes it after every run: the commit (and whether tracked files
were changed), the parameters as run and the ``--set`` overrides, the metrics,
the DVC hashes of the data, models and stage dependencies, the Python
packages, the CI job and runner, the device (GPUs, driver, CUDA, torch:
:mod:`alops.hardware`). ``alops reproduce`` reads it back;
``alops metrics diff`` and ``alops report`` compare against it. Nothing from
the environment goes in but the CI variables named in :mod:`alops.env`
(never a token).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops import git
from alops.errors import DataError, MissingFileError
from alops.versions import lock_hashes as lock_hashes  # dvc.lock's outs or deps hashes of some stages

if TYPE_CHECKING:
    from alops.compare import Snapshot
    from alops.config import Config
    from alops.flow import Plan
    from alops.hardware import Device
    from alops.run import RunResult

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


def write(path: str | Path, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest`` to ``path`` as indented JSON, atomically (a reader sees the old file or the new)."""
    from alops import atomic

    p = Path(path)
    with atomic.writing_to(p):
        atomic.write_text(p, json.dumps(manifest, indent=2) + "\n")


def build(
    config: Config,
    plan: Plan,
    result: RunResult,
    env: Mapping[str, str],
    *,
    overrides: Mapping[str, Any],
    name: str = FILE,
) -> dict[str, Any]:
    """The manifest of the run ``result`` of ``plan`` (``overrides``: the ``--set`` values; ``name``: where it goes)."""
    import shlex

    import alops
    from alops import hardware, params

    root = config.root
    stages = list(dict.fromkeys([*result.reproduced, *result.stages]))
    lock = read_lock(root)
    found = recorded(config, result.dataset, stages, lock)
    pfile = params.file_of(config)
    values = _params(root / pfile)
    ci = ci_block(env)
    device = hardware.probe(env)  # one nvidia-smi call for both the environment's device and the gpu list
    commit = (git.output(root, "rev-parse", "HEAD") or "").strip()
    doc: dict[str, Any] = {
        "alops_manifest": VERSION,
        "created": _now(),
        "alops_version": alops.__version__,
        "commit": commit if commit and _is_sha(commit) else None,
        "ref": plan.ref,
        "dirty": bool(dirty_files(root, lock, pfile, overrides)),
        "role": result.role,
        "dataset": result.dataset,
        "jobs": list(result.jobs),
        "stages": stages,
        "params": {pfile: values} if values is not None else {},
        "set": dict(overrides),
        "metrics": result.metrics,
        "data": found.data,
        "deps": found.deps,
        "environment": environment(env, device),
        "runner": runner_block(env),
        "gpu": device.as_dict()["gpus"],  # what `alops report` lists
        "ci": ci,
        "timings": {"total_s": round(result.seconds, 3), **{k: round(v, 3) for k, v in result.timings.items()}},
        "reproduce": f"alops reproduce {shlex.quote((ci or {}).get('pipeline_url') or name)}",
    }
    return doc


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _params(path: Path) -> dict[str, Any] | None:
    from alops import params, yamlfile

    return params.flat(yamlfile.load(path).data) if path.is_file() else None


def read_lock(root: Path) -> dict[str, Any]:
    """The workspace's dvc.lock stages, by name (``prepare@full``); empty when there is no dvc.lock."""
    from alops import versions

    return versions.lock_stages(versions.files(root)(versions.LOCK), str(root))


@dataclass(frozen=True)
class Recorded:
    """The DVC hashes the workspace records for a dataset and some stages: a manifest's ``data`` and ``deps``."""

    data: dict[str, str]  # the dataset's .dvc outputs, then the stages' dvc.lock outputs
    made: dict[str, str]  # the stages' dvc.lock outputs alone
    deps: dict[str, str]  # the stages' dvc.lock dependencies


def recorded(config: Config, dataset: str, stages: list[str], lock: Mapping[str, Any]) -> Recorded:
    """What the manifest of a run of ``stages`` on ``dataset`` holds as its data versions (``lock``: :func:`read_lock`)."""
    made = lock_hashes(lock, stages, "outs")
    targets = config.datasets[dataset].targets if dataset in config.datasets else ()
    return Recorded(dvc_file_outs(config.root, targets) | made, made, lock_hashes(lock, stages, "deps"))


def dvc_file_outs(root: Path, targets: Iterable[str]) -> dict[str, str]:
    """Path (from the repository root) → hash of the outputs each ``.dvc`` target in the workspace records."""
    from alops import versions

    read = versions.files(root)
    out: dict[str, str] = {}
    for target in targets:
        text = read(target) if target.endswith(".dvc") else None  # a stage or a path: no data version of its own
        if text is not None:
            out |= versions.dvc_file_outs(text, target, str(root))
    return out


def dirty_files(root: Path, lock: Mapping[str, Any], pfile: str, overrides: Mapping[str, Any]) -> list[str]:
    """Tracked files that differ from HEAD, other than what a run writes itself.

    dvc.lock and the stages' git-tracked outputs (metrics files) are the run's
    results, not its inputs; the parameters file counts only when it differs
    from HEAD's by more than the ``--set`` overrides (which the manifest records).
    """
    text = git.output(root, "status", "--porcelain", "-z", "--untracked-files=no", strip=False)
    if text is None:
        return []
    parts = text.split("\0")
    changed, i = [], 0
    while i < len(parts):
        entry = parts[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":
            i += 1  # the rename's source path follows
        changed.append(entry[3:])
    outputs = {"dvc.lock"} | {
        e["path"]
        for s in lock.values()
        if isinstance(s, dict)
        for e in s.get("outs") or []
        if isinstance(e, dict) and isinstance(e.get("path"), str)
    }
    return [p for p in changed if p not in outputs and not (p == pfile and _only_overrides(root, pfile, overrides))]


def _only_overrides(root: Path, pfile: str, overrides: Mapping[str, Any]) -> bool:
    from alops import params, yamlfile
    from alops.errors import ConfigError

    head = git.output(root, "show", f"HEAD:./{pfile}", strip=False)
    if head is None or not overrides:
        return False
    try:
        before = params.flat(yamlfile.loads(head, pfile).data) | dict(overrides)
        now = _params(root / pfile) or {}
    except ConfigError:
        return False
    return before.keys() == now.keys() and all(type(before[k]) is type(now[k]) and before[k] == now[k] for k in now)


def environment(env: Mapping[str, str], device: Device | None = None) -> dict[str, Any]:
    """Python, the platform, every installed distribution's version, the CI job's image, and the device.

    ``device``: :func:`alops.hardware.probe`'s answer when the caller has one (else it is probed here).
    """
    import platform
    from importlib import metadata

    from alops import hardware
    from alops.text import redact_output

    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name not in packages:
            packages[name] = dist.version
    image = env.get(variables.CI_JOB_IMAGE) or None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
        "image": redact_output(image) if image else None,
        "image_digest": image_digest(image),
        "device": (device or hardware.probe(env)).as_dict(),
    }


def image_digest(image: str | None) -> str | None:
    """``sha256:…`` of an image named by digest (``name@sha256:…``); None for a tag, which can move."""
    if not image or "@" not in image:
        return None
    digest = image.rsplit("@", 1)[1]
    algo, _, hexa = digest.partition(":")
    return digest if algo == "sha256" and len(hexa) == 64 and all(c in "0123456789abcdef" for c in hexa) else None


def runner_block(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The CI runner (id, description, tags); None outside CI."""
    names = (variables.CI_RUNNER_ID, variables.CI_RUNNER_DESCRIPTION, variables.CI_RUNNER_TAGS)
    if not any(env.get(n) for n in names):
        return None
    return {
        "id": env.get(variables.CI_RUNNER_ID) or None,
        "description": env.get(variables.CI_RUNNER_DESCRIPTION) or None,
        "tags": runner_tags(env.get(variables.CI_RUNNER_TAGS, "")),
    }


def runner_tags(text: str) -> list[str]:
    """``CI_RUNNER_TAGS``: GitLab gives a JSON list (``["gpu", "docker"]``); a comma list is read too."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, list):
        return [str(t) for t in value]
    return [t.strip().strip("\"'[]").strip() for t in text.split(",") if t.strip().strip("\"'[]").strip()]


_CI = {
    "project_id": variables.CI_PROJECT_ID,
    "project_url": variables.CI_PROJECT_URL,
    "pipeline_id": variables.CI_PIPELINE_ID,
    "pipeline_url": variables.CI_PIPELINE_URL,
    "job_id": variables.CI_JOB_ID,
    "job_name": variables.CI_JOB_NAME,
    "job_url": variables.CI_JOB_URL,
}


def ci_block(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The CI project, pipeline and job; None outside CI."""
    from alops.text import redact_output

    if not any(env.get(n) for n in _CI.values()):
        return None
    return {key: redact_output(env[n]) if env.get(n) else None for key, n in _CI.items()}
