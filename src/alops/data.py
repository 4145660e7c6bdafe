"""Pull the dataset a pipeline needs, and nothing else, from its DVC remote; push what it produced.

Transfers are counted from the DVC cache (see :mod:`alops.objects`): a pull
fetched the dataset's objects that the cache did not hold before it. When the
cache already holds every object, nothing is asked of the remote at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alops import credentials, dvc, objects
from alops.config import Config
from alops.errors import AlopsError, ConfigError
from alops.flow import Plan

DATASETS = ("dev", "full")
#: A runner-local DVC cache shared by jobs (runners/README.md, "Shared caches").
CACHE_DIR_VARIABLE = "ALOPS_DVC_CACHE_DIR"


@dataclass(frozen=True)
class PullResult:
    """What :func:`pull` did: the dataset, its DVC targets, what came over the network."""

    dataset: str
    targets: tuple[str, ...]
    remote: str | None  # as alops.yaml names it; None: the default remote
    files: int  # files of the dataset in the workspace now
    seconds: float
    remote_name: str = ""  # the remote actually used
    fetched: int = 0  # objects downloaded
    fetched_bytes: int = 0
    cached: int = 0  # objects that were in the cache already
    run_cache: int | None = None  # run-cache entries downloaded; None: not asked for
    cache_dir: str | None = None  # the shared cache used, if any


@dataclass(frozen=True)
class PushResult:
    """What :func:`push` sent: objects the remote lacked, and how many it had already."""

    targets: tuple[str, ...]
    remote: str | None
    remote_name: str
    sent: int
    sent_bytes: int
    already: int  # objects the remote had before
    run_cache: bool
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


def use_shared_cache(root: Path, env: Mapping[str, str] | None = None, cache_dir: str | None = None) -> str | None:
    """Point the project at the runner's shared DVC cache (``cache_dir``, else ``ALOPS_DVC_CACHE_DIR``), if any."""
    env = os.environ if env is None else env
    path = cache_dir or env.get(CACHE_DIR_VARIABLE) or None
    if path:
        dvc.use_cache_dir(path, cwd=root)
    return path


def pull(
    config: Config,
    plan: Plan | None,
    *,
    dataset: str = "auto",
    run_cache: bool = False,
    cache_dir: str | None = None,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
) -> PullResult:
    """Pull the DVC targets of one dataset (the plan's with ``auto``) into the workspace.

    Only that dataset's targets are fetched: a feature-branch job downloads
    the dev data, never an object of the full data. With a shared cache
    (``cache_dir`` or ``ALOPS_DVC_CACHE_DIR`` in ``env``) the project uses it
    first. ``run_cache`` also fetches DVC's run-cache, so ``dvc repro``
    restores stages that already ran elsewhere instead of running them.
    """
    env = os.environ if env is None else env
    name = choose(plan, dataset)
    spec = config.datasets[name]
    root = config.root
    started = time.monotonic()
    shared = use_shared_cache(root, env, cache_dir)
    remote = dvc.remote(root, spec.remote)  # fails early, and even with a warm cache, when there is none
    cache = dvc.cache_dir(root)
    before = objects.inventory(root, cache, spec.targets)
    # A listing not cached yet hides which of its entries are: only then look at the whole cache.
    known = objects.snapshot(cache) if before.unlisted else set()
    runs_before = objects.run_cache_entries(cache) if run_cache else 0
    if before.complete and not run_cache:
        dvc.checkout(spec.targets, cwd=root, env=env)  # every object is here: no network, no credentials needed
    else:
        credentials.check(remote, dataset=name, env=env)
        try:
            dvc.pull(spec.targets, remote=remote.name, cwd=root, run_cache=run_cache, progress=progress, env=env)
        except dvc.CredentialsError as exc:
            raise credentials.missing(remote, dataset=name, env=env, refused=exc.code) from None
    after = objects.inventory(root, cache, spec.targets)
    had = set(before.present) | known
    fetched = [k for k in after.present if k not in had]
    files = sum(count_files(p) for t in spec.targets for p in outputs(root, t))
    return PullResult(
        dataset=name,
        targets=spec.targets,
        remote=spec.remote,
        files=files,
        seconds=time.monotonic() - started,
        remote_name=remote.name,
        fetched=len(fetched),
        fetched_bytes=after.size(fetched),
        cached=len(after.present) - len(fetched),
        run_cache=objects.run_cache_entries(cache) - runs_before if run_cache else None,
        cache_dir=shared,
    )


def push(
    config: Config,
    plan: Plan,
    *,
    targets: tuple[str, ...] | None = None,
    run_cache: bool = True,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
) -> PushResult:
    """Push the outputs of the plan's stages (or ``targets``) and the run-cache to the plan's remote.

    Idempotent: what the remote has is not sent again, and a push cut short by
    a network fault is completed by the next one (see :func:`alops.dvc.push`).
    Outputs on neither the local cache nor the remote (a fresh clone, ``dvc gc``)
    are an error (exit code 1) that names them, not an empty push; outputs the
    remote already has need not be in the cache.
    """
    env = os.environ if env is None else env
    root = config.root
    started = time.monotonic()
    chosen = targets if targets is not None else (*plan.train_stages, *plan.evaluate_stages)
    if not chosen:
        raise ConfigError(f"the {plan.role} flow has no stages whose outputs could be pushed (alops.yaml, pipeline:)")
    use_shared_cache(root, env)
    remote = dvc.remote(root, plan.remote)
    credentials.check(remote, dataset=plan.dataset, env=env)
    found = objects.inventory(root, dvc.cache_dir(root), chosen)
    if not found.paths:
        raise AlopsError(
            f"nothing to push: {', '.join(chosen)} {'has' if len(chosen) == 1 else 'have'} no outputs recorded here "
            "(dvc.lock): run them first (`alops run`), then push"
        )
    try:
        status = dvc.cloud_status(chosen, remote=remote.name, cwd=root, env=env)
        lost = missing_outputs(found, status)
        if lost:
            raise _not_in_cache(lost, chosen, remote.name)
        dvc.push(targets=chosen, remote=remote.name, run_cache=run_cache, cwd=root, progress=progress, env=env)
    except dvc.CredentialsError as exc:
        raise credentials.missing(remote, dataset=plan.dataset, env=env, refused=exc.code) from None
    new = {found.paths[p] for p, state in status.paths.items() if state == "new" and p in found.paths}
    # Not in the cache here (a `dvc gc`, a fresh clone) and not missing: on the remote. A directory
    # whose listing is not here counts as its listing only: its entries cannot be named.
    remote_only = {k for k in found.missing | found.unlisted if objects.md5_of(k) not in status.missing}
    return PushResult(
        targets=chosen,
        remote=plan.remote,
        remote_name=remote.name,
        sent=len(new),
        sent_bytes=found.size(new),
        already=len((set(found.present) | remote_only) - new),
        run_cache=run_cache,
        seconds=time.monotonic() - started,
    )


def missing_outputs(found: objects.Inventory, status: dvc.CloudStatus) -> list[str]:
    """Workspace paths of outputs on neither the local cache nor the remote, as ``dvc status --cloud`` says.

    A file inside a directory that is named already is not named again.
    """
    lost = {p for p, state in status.paths.items() if state == "missing"}
    lost |= {p for p, key in found.paths.items() if objects.md5_of(key) in status.missing}
    return sorted(p for p in lost if not any(p.startswith(d.rstrip("/") + "/") for d in lost if d != p))


def _not_in_cache(lost: list[str], targets: tuple[str, ...], remote: str) -> AlopsError:
    shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
    n = len(lost)
    return AlopsError(
        f"nothing pushed: {n} output{'s' if n != 1 else ''} of {', '.join(targets)} "
        f"{'are' if n != 1 else 'is'} on neither the local DVC cache nor remote `{remote}`: {shown}. "
        f"Where the workspace still has them, record them with `dvc commit {' '.join(targets)}`; "
        f"otherwise run the stages again (`alops run`, or `dvc repro {' '.join(targets)}`), then push"
    )


def pull_summary(result: PullResult) -> str:
    """One line for a CI log: ``pulled dev (data/dev.dvc) from storage: 12 objects, 3.4 MB fetched, …``."""
    what = f"{result.dataset} ({', '.join(result.targets)})" + (
        " and the run-cache" if result.run_cache is not None else ""
    )
    where = f" into the shared cache {result.cache_dir}" if result.cache_dir else ""
    parts = [
        f"{_n(result.fetched, 'object')}, {human_bytes(result.fetched_bytes)} fetched",
        f"{_n(result.cached, 'object')} already cached",
    ]
    if result.run_cache is not None:
        parts.append(f"{_n(result.run_cache, 'run-cache entry', 'run-cache entries')} fetched")
    return f"pulled {what} from {result.remote_name}{where}: {', '.join(parts)}, {result.seconds:.1f} s"


def push_summary(result: PushResult) -> str:
    """One line for a CI log: ``pushed prepare@dev, train@dev and the run-cache to storage: 3 objects, …``."""
    what = ", ".join(result.targets) + (" and the run-cache" if result.run_cache else "")
    return (
        f"pushed {what} to {result.remote_name}: {_n(result.sent, 'object')}, {human_bytes(result.sent_bytes)} sent, "
        f"{_n(result.already, 'object')} already there, {result.seconds:.1f} s"
    )


def human_bytes(n: int) -> str:
    """``3.4 MB``: decimal units, one decimal from kB on."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


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


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
