"""`alops al score`: the query step's first half, the scoring stages (``pipeline.score``) on the full data.

The same steps as ``alops run`` (one DVC start: the shared cache, a pull of the
dataset, ``dvc repro --pull``) on the stages alops.yaml names under
``pipeline.score``; ``{dataset}`` is the al role's dataset (full). DVC runs what
the scores depend on when it is out of date: after an ingest that did not
reach ``retrain.min_new_labels``, that is the training on the new data too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from alops import data, dvc
from alops.config import Config
from alops.errors import ConfigError
from alops.flow import Plan


@dataclass(frozen=True)
class ScoreResult:
    dataset: str
    stages: tuple[str, ...]
    pulled: data.PullResult | None
    seconds: float


def score_stages(config: Config, plan: Plan) -> tuple[str, ...]:
    stages = config.pipeline.stages("score", dataset=plan.dataset, role=plan.role)
    if not stages:
        raise ConfigError(
            "alops.yaml's pipeline.score names no stage: list the DVC stages that write active_learning.scores "
            '(e.g. score: ["score@{dataset}"]), which `alops al query` reads'
        )
    return stages


def score(config: Config, plan: Plan, *, env: Mapping[str, str], pull: bool = True, quiet: bool = False) -> ScoreResult:
    """Pull the plan's dataset and ``dvc repro`` the scoring stages, as one DVC start (``quiet``: DVC's output kept)."""
    started = time.monotonic()
    stages = score_stages(config, plan)
    shared = data.shared_cache(env)
    steps = [dvc.cache_step(shared)] if shared else []
    if pull:
        steps += data.pull_steps(config, plan.dataset)
    # `--pull` fetches the model and the other upstream outputs from the default remote (and the run-cache).
    steps.append(dvc.repro_step(stages, pull=pull and plan.remote is None))
    results = data.transfer(lambda: dvc.run(steps, cwd=config.root, env=env, capture=quiet), plan.dataset, env)
    pulled = None
    if pull:
        found = next(r for r, s in zip(results, steps, strict=True) if s["op"] == "pull")
        pulled = data.pull_result(config, plan.dataset, found, shared=shared, seconds=float(found["seconds"]))
    return ScoreResult(plan.dataset, stages, pulled, time.monotonic() - started)
