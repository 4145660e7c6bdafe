"""Pull the dataset a pipeline needs, and nothing else, from its DVC remote; push what it produced.

Each is one DVC child process (:func:`alops.dvc.run`), whose steps this module
builds (``*_steps``) and whose results it reads (``*_result``), so that
``alops run`` can put pull, repro and push in one. Transfers are counted by
the child from DVC's API (:mod:`alops.dvc.inventory`): a pull fetched the
dataset's objects that the cache did not hold before it. When the cache
already holds every object, nothing is asked of the remote at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alops import credentials, dvc
from alops import env as variables
from alops.config import Config
from alops.errors import ConfigError, StepError
from alops.flow import Plan

DATASETS = ("dev", "full")
#: A runner-local DVC cache shared by jobs (runners/README.md, "Shared caches").
CACHE_DIR_VARIABLE = variables.DVC_CACHE_DIR
T = TypeVar("T")


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


def shared_cache(env: Mapping[str, str], cache_dir: str | None = None) -> str | None:
    """The runner's shared DVC cache: ``cache_dir``, else ``ALOPS_DVC_CACHE_DIR`` in ``env``; None: none."""
    return cache_dir or env.get(CACHE_DIR_VARIABLE) or None


def use_shared_cache(root: Path, env: Mapping[str, str], cache_dir: str | None = None) -> str | None:
    """Point the project at the runner's shared DVC cache (see :func:`shared_cache`), if any."""
    path = shared_cache(env, cache_dir)
    if path:
        dvc.use_cache_dir(path, cwd=root, env=env)
    return path


def pull_steps(
    config: Config, name: str, *, run_cache: bool = False, shared: str | None = None
) -> list[dict[str, Any]]:
    """The :func:`alops.dvc.run` steps of a pull of dataset ``name`` (into the ``shared`` cache first, if any)."""
    spec = config.datasets[name]
    pull = {"op": "pull", "targets": list(spec.targets), "remote": spec.remote, "run_cache": run_cache}
    pull["name_remote"] = True  # messages name the remote used, default or not
    return [*([dvc.cache_step(shared)] if shared else []), pull]


def pull_result(config: Config, name: str, found: dict[str, Any], *, shared: str | None, seconds: float) -> PullResult:
    """The :class:`PullResult` of the pull step's result ``found``."""
    spec = config.datasets[name]
    files = sum(count_files(p) for t in spec.targets for p in outputs(config.root, t))
    return PullResult(
        dataset=name,
        targets=spec.targets,
        remote=spec.remote,
        files=files,
        seconds=seconds,
        remote_name=str(found["remote"]["name"]),
        fetched=int(found["fetched"]),
        fetched_bytes=int(found["fetched_bytes"]),
        cached=int(found["cached"]),
        run_cache=found["run_cache"],
        cache_dir=shared,
    )


def pull(
    config: Config,
    plan: Plan | None,
    *,
    dataset: str = "auto",
    run_cache: bool = False,
    cache_dir: str | None = None,
    env: Mapping[str, str],
    progress: bool = False,
) -> PullResult:
    """Pull the DVC targets of one dataset (the plan's with ``auto``) into the workspace.

    Only that dataset's targets are fetched: a feature-branch job downloads
    the dev data, never an object of the full data. With a shared cache
    (``cache_dir`` or ``ALOPS_DVC_CACHE_DIR`` in ``env``) the project uses it
    first. ``run_cache`` also fetches DVC's run-cache, so ``dvc repro``
    restores stages that already ran elsewhere instead of running them.
    A project without a remote fails, even with a warm cache.
    """
    started = time.monotonic()
    name = choose(plan, dataset)
    shared = shared_cache(env, cache_dir)
    steps = pull_steps(config, name, run_cache=run_cache, shared=shared)
    results = transfer(lambda: dvc.run(steps, cwd=config.root, env=env, capture=not progress), name, env)
    return pull_result(config, name, results[-1], shared=shared, seconds=time.monotonic() - started)


def transfer(call: Callable[[], T], dataset: str, env: Mapping[str, str]) -> T:
    """``call()``, a missing or refused credential said as what to do for ``dataset`` (see :mod:`alops.credentials`)."""
    try:
        return call()
    except dvc.CredentialsError as exc:
        if exc.remote is None:
            raise
        raise credentials.missing(exc.remote, dataset=dataset, env=env, refused=exc.code or False) from None


def push_targets(plan: Plan, targets: Sequence[str] | None = None) -> tuple[str, ...]:
    """What a push sends: ``targets``, else the outputs of the plan's train and evaluate stages."""
    chosen = tuple(targets) if targets is not None else (*plan.train_stages, *plan.evaluate_stages)
    if not chosen:
        raise ConfigError(f"the {plan.role} flow has no stages whose outputs could be pushed (alops.yaml, pipeline:)")
    return chosen


def push_step(plan: Plan, chosen: tuple[str, ...], *, run_cache: bool = True) -> dict[str, Any]:
    """The :func:`alops.dvc.run` step of a push: the remote is asked first what it lacks."""
    return {"op": "push", "targets": list(chosen), "remote": plan.remote, "run_cache": run_cache, "name_remote": True}


def push_result(
    plan: Plan, chosen: tuple[str, ...], found: dict[str, Any], *, run_cache: bool, seconds: float
) -> PushResult:
    """The :class:`PushResult` of the push step's result ``found``; what stopped it raised as its error."""
    name = str(found["remote"]["name"])
    if not found["outputs"]:
        raise StepError(
            f"nothing to push: {', '.join(chosen)} {'has' if len(chosen) == 1 else 'have'} no outputs recorded here "
            "(dvc.lock): run them first (`alops run`), then push"
        )
    if found["lost"]:
        raise _not_in_cache(list(found["lost"]), chosen, name)
    return PushResult(
        targets=chosen,
        remote=plan.remote,
        remote_name=name,
        sent=int(found["sent"]),
        sent_bytes=int(found["sent_bytes"]),
        already=int(found["already"]),
        run_cache=run_cache,
        seconds=seconds,
    )


def push(
    config: Config,
    plan: Plan,
    *,
    targets: tuple[str, ...] | None = None,
    run_cache: bool = True,
    env: Mapping[str, str],
    progress: bool = False,
) -> PushResult:
    """Push the outputs of the plan's stages (or ``targets``) and the run-cache to the plan's remote.

    Idempotent: what the remote has is not sent again, and a push cut short by
    a network fault is completed by the next one (see :func:`alops.dvc.push`).
    Outputs on neither the local cache nor the remote (a fresh clone, ``dvc gc``)
    are an error (exit code 1) that names them, not an empty push; outputs the
    remote already has need not be in the cache. One DVC start: the remote's
    status and the push.
    """
    started = time.monotonic()
    chosen = push_targets(plan, targets)
    shared = shared_cache(env)
    steps = [*([dvc.cache_step(shared)] if shared else []), push_step(plan, chosen, run_cache=run_cache)]
    results = transfer(lambda: dvc.run(steps, cwd=config.root, env=env, capture=not progress), plan.dataset, env)
    return push_result(plan, chosen, results[-1], run_cache=run_cache, seconds=time.monotonic() - started)


def _not_in_cache(lost: list[str], targets: tuple[str, ...], remote: str) -> StepError:
    shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
    n = len(lost)
    return StepError(
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
