"""Pull the dataset a pipeline needs, and nothing else, from its DVC remote."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from alops import dvc
from alops.config import Config
from alops.errors import ConfigError
from alops.flow import Plan

DATASETS = ("dev", "full")


@dataclass(frozen=True)
class PullResult:
    """What :func:`pull` fetched: the dataset, its DVC targets, and the files they hold now."""

    dataset: str
    targets: tuple[str, ...]
    remote: str | None
    files: int
    seconds: float


def choose(plan: Plan | None, dataset: str = "auto") -> str:
    """The dataset to use: ``auto`` means the plan's, else ``dev`` or ``full``."""
    if dataset == "auto":
        if plan is None:
            raise ConfigError("no plan to take the dataset from: pass --dataset dev or --dataset full")
        return plan.dataset
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset {dataset!r}: use auto, dev or full")
    return dataset


def pull(config: Config, plan: Plan | None, *, dataset: str = "auto") -> PullResult:
    """Pull the DVC targets of one dataset (the plan's with ``auto``) into the workspace.

    Only that dataset's targets are fetched: a feature-branch job downloads
    the dev data, never an object of the full data.
    """
    name = choose(plan, dataset)
    spec = config.datasets[name]
    started = time.monotonic()
    dvc.pull(spec.targets, remote=spec.remote, cwd=config.root)
    files = sum(count_files(path) for target in spec.targets for path in outputs(config.root, target))
    return PullResult(name, spec.targets, spec.remote, files, time.monotonic() - started)


def outputs(root: Path, target: str) -> list[Path]:
    """The workspace paths a DVC target stands for: the ``outs`` of a ``.dvc`` file, or the path itself."""
    path = root / target
    if target.endswith(".dvc") and path.is_file():
        import yaml

        data = yaml.safe_load(path.read_text("utf-8")) or {}
        return [path.parent / out["path"] for out in data.get("outs", []) if isinstance(out, dict) and "path" in out]
    return [path] if path.exists() else []


def count_files(path: Path) -> int:
    """Files under ``path`` (1 for a file, 0 when it does not exist)."""
    if path.is_file():
        return 1
    return sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
