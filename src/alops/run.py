"""Run a flow's DVC stages here, the way its CI jobs run them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alops import data, dvc
from alops import env as variables
from alops.config import Config
from alops.errors import ConfigError
from alops.flow import Plan

RUN_JOBS = ("train", "evaluate")


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_flow` did.

    ``reproduced`` lists the stages DVC had to bring up to date (run, or
    restored from the run-cache), in pipeline order; empty when everything
    was already current. ``metrics`` maps each metrics file to its numbers.
    ``push_reason`` says why outputs were pushed or not (see :func:`push_decision`).
    ``timings``: seconds of the pull, the repro and the push (the run manifest records them).
    """

    role: str
    dataset: str
    jobs: tuple[str, ...]
    stages: tuple[str, ...]
    reproduced: tuple[str, ...]
    pulled: data.PullResult | None
    pushed: bool
    metrics: dict[str, dict[str, float]]
    seconds: float
    push_reason: str = ""
    #: Seconds of each part: ``pull_s``, ``repro_s``, ``push_s`` (0.0 for a part not run).
    timings: dict[str, float] = field(default_factory=dict)


def in_ci(env: Mapping[str, str]) -> bool:
    """Whether this runs in a CI job: GitLab sets ``CI`` and ``GITLAB_CI`` in every job.

    https://docs.gitlab.com/ci/variables/predefined_variables/
    """
    names = (variables.CI, variables.GITLAB_CI)
    return any(env.get(name, "").lower() not in ("", "0", "false", "no") for name in names)


def push_decision(plan: Plan, push: bool | None, env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether a run pushes outputs and run-cache to the flow's remote, and why.

    ``push`` (``--push``/``--no-push``) decides when given. Otherwise a CI job
    pushes when the flow's role does, and a run elsewhere never does: a local
    experiment must not write to the remote every pipeline shares unless asked.
    """
    if push is not None:
        return push, "--push" if push else "--no-push"
    if in_ci(env):
        return plan.push, f"the {plan.role} flow {'pushes' if plan.push else 'does not push'} in CI"
    return False, "not in CI: a local run pushes only with --push"


def jobs_to_run(plan: Plan, jobs: tuple[str, ...]) -> tuple[str, ...]:
    """The requested jobs that the plan's flow has, in pipeline order."""
    unknown = [j for j in jobs if j not in RUN_JOBS]
    if unknown:
        raise ConfigError(f"unknown job {unknown[0]!r}: use {' or '.join(RUN_JOBS)}")
    chosen = tuple(j for j in RUN_JOBS if j in jobs and j in plan.jobs)
    if not chosen:
        raise ConfigError(
            f"the {plan.role} flow runs no {' or '.join(jobs)} job (its jobs: {', '.join(plan.jobs) or 'none'}): "
            "choose another flow with --flow"
        )
    return chosen


def run_flow(
    config: Config,
    plan: Plan,
    *,
    jobs: tuple[str, ...] = RUN_JOBS,
    pull: bool = True,
    push: bool | None = None,
    quiet: bool = False,
    env: Mapping[str, str],
) -> RunResult:
    """Pull the plan's dataset, ``dvc repro`` the jobs' stages in order, then push if asked (or, in CI, if the flow does).

    ``push=None``: in CI (``CI`` or ``GITLAB_CI`` set in ``env``) the flow's
    role decides (experiment and default branches push outputs and run-cache;
    feature branches do not); anywhere else nothing is pushed. With ``quiet``
    DVC's output is kept out of the terminal (it is shown only when a step fails).
    All of it is one DVC start (:func:`alops.dvc.run`): pull, repro and push.
    """
    started = time.monotonic()
    chosen = jobs_to_run(plan, jobs)
    per_job = {"train": plan.train_stages, "evaluate": plan.evaluate_stages}
    stages = tuple(s for job in chosen for s in per_job[job])
    root = config.root
    do_push, why = push_decision(plan, push, env)
    # The runner's shared DVC cache, if it has one, before DVC looks at any output.
    shared = data.shared_cache(env)
    steps = [dvc.cache_step(shared)] if shared else []
    if pull:
        steps += data.pull_steps(config, plan.dataset)
    if stages:
        # One `dvc repro` for all jobs: DVC runs the stages in pipeline order,
        # as the CI jobs would one after the other. `--pull` fetches from the
        # default remote only (repro has no --remote), so it is used only when
        # the dataset lives there too.
        steps.append(dvc.repro_step(stages, pull=pull and plan.remote is None))
    if do_push:
        steps.append(data.push_step(plan, data.push_targets(plan, stages), run_cache=True))
    before = _lock(root)
    results = data.transfer(lambda: dvc.run(steps, cwd=root, env=env, capture=quiet), plan.dataset, env)
    timings = dict.fromkeys(("pull_s", "repro_s", "push_s"), 0.0)
    for step, done in zip(steps, results, strict=True):
        part = {"pull": "pull_s", "repro": "repro_s", "push": "push_s"}.get(str(step["op"]))
        if part:
            timings[part] += float(done.get("seconds", 0.0))
    pulled = None
    if pull:
        found = next(r for r, s in zip(results, steps, strict=True) if s["op"] == "pull")
        pulled = data.pull_result(config, plan.dataset, found, shared=shared, seconds=float(found["seconds"]))
    if do_push:
        found = results[-1]
        data.push_result(plan, data.push_targets(plan, stages), found, run_cache=True, seconds=float(found["seconds"]))
    # What DVC brought up to date is what dvc.lock now records differently: no `dvc status` needed.
    after = _lock(root)
    changed = {name for name in after if after[name] != before.get(name)}
    reproduced = tuple(_ordered({n for n in changed if not n.endswith(".dvc")}, after, stages))
    return RunResult(
        role=plan.role,
        dataset=plan.dataset,
        jobs=chosen,
        stages=stages,
        reproduced=reproduced,
        pulled=pulled,
        pushed=do_push,
        metrics=read_metrics(config, plan.dataset, plan.role),
        seconds=time.monotonic() - started,
        push_reason=why,
        timings=timings,
    )


def read_metrics(config: Config, dataset: str, role: str) -> dict[str, dict[str, float]]:
    """The numbers in the configured metrics files (``{dataset}`` filled in) that exist."""
    from alops import metrics

    return metrics.read(config, dataset, role)


def _lock(root: Path) -> dict[str, Any]:
    path = root / "dvc.lock"
    if not path.is_file():
        return {}
    import yaml

    stages = (yaml.safe_load(path.read_text("utf-8")) or {}).get("stages") or {}
    return dict(stages) if isinstance(stages, dict) else {}


def _ordered(names: set[str], lock: dict[str, Any], stages: tuple[str, ...]) -> list[str]:
    # Upstream stages DVC also ran (in dvc.lock's order) first, then the requested ones in pipeline order.
    first = [s for s in stages if s in names]
    return [s for s in lock if s in names and s not in first] + first
