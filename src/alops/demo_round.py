"""One round of active learning on the example project's al branch: what ``alops demo`` shows last.

Train (``alops run``), record the model (``alops al record``), score the pool
(the ``pipeline.score`` stages), choose a batch (``alops al query``), have the
skeleton's oracle (``scripts/oracle.py``, the digits' held-back labels) answer
it, ingest the answers as a new data version (``alops al ingest``), retrain and
record again: the same library functions the commands call, in the order an al
branch's CI jobs run them. Nothing is pushed to git: the demo's repositories
have no GitLab behind them.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from alops import dvc, proc
from alops.errors import ToolError
from alops.text import redact_output

if TYPE_CHECKING:
    from alops.al.ingest.report import IngestReport

BRANCH = "al/digits"
#: The share of answers the oracle gives as a typo (`scripts/oracle.py --noise`): one in a batch of 20, rejected.
NOISE = 0.05
#: The label file the oracle writes: in alops's own ignored folder, next to the batch.
ANSWERS = ".alops/al/oracle.csv"
STEPS = ("train", "score", "query", "oracle", "ingest", "retrain")
#: The steps of the round itself, between two trainings.
ROUND = ("score", "query", "oracle", "ingest")


@dataclass(frozen=True)
class Queried:
    """One sample of the batch: what the model said and what the oracle answered."""

    id: str
    predicted: str
    confidence: float
    score: float | None  # None: not finite (see alops.al.query.batch)
    answer: str | None  # None: the oracle gave none
    rejected: str | None  # ingest's reason, when it rejected the answer


@dataclass(frozen=True)
class Version:
    """A ``.dvc`` file of the dataset and the hash of what it tracks, before and after the ingest."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class RoundReport:
    """What one round did, step by step."""

    branch: str
    pool: int  # samples scored
    strategy: str
    batch: tuple[Queried, ...]
    round: int | None  # None: nothing was ingested
    accepted: int
    commit: str | None
    subject: str
    versions: tuple[Version, ...]
    labelled_after: int | None
    pool_after: int | None
    train_rows: tuple[int, int]  # the training split before and after
    metrics_before: dict[str, float]
    metrics_after: dict[str, float]
    recorded: tuple[str | None, str | None]  # the record commits after each training
    pushed: bool  # the trainings pushed outputs and run-cache to the DVC remote
    seconds: dict[str, float]  # per step of STEPS


def al_round(clone: Path, *, env: Mapping[str, str], push: bool) -> RoundReport:
    """Run one round in ``clone`` (a clone of the example project) on a new branch ``al/digits``.

    ``push`` is what the trainings do with their outputs and run-cache on the DVC
    remote (``alops run --push``); the ingest and the records stay local.
    """
    from alops.al.ingest.run import ingest
    from alops.al.query.select import select_batch
    from alops.al.record import record
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.run import run_flow

    seconds: dict[str, float] = {}
    clock = time.monotonic()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.monotonic()
        seconds[step] = now - clock
        clock = now

    proc.run(["git", "checkout", "--quiet", "-b", BRANCH], cwd=clone)
    config = load_config(clone / "alops.yaml")
    plan = current_plan(config, {})  # the checkout's plan, never a CI job's the demo may run in
    trained = run_flow(config, plan, quiet=True, push=push, env=env)
    rows_before = _train_rows(clone, plan.dataset)
    first = record(config, env=env, push=False).commit
    lap("train")
    dvc.repro(config.pipeline.stages("score", dataset=plan.dataset, role=plan.role), cwd=clone, quiet=True, env=env)
    lap("score")
    chosen = select_batch(config)
    lap("query")
    batch_dir = chosen.files[0].parent
    answers = clone / ANSWERS
    _oracle(clone, batch_dir, answers, env)
    lap("oracle")
    al = config.al
    assert al is not None  # the skeleton's alops.yaml has it; ingest would have refused otherwise
    tracked = [f"{target}" for target in config.datasets[plan.dataset].targets]
    before = {path: _hash(clone / path) for path in tracked}
    report = ingest(config, answers, env=env, push=False, strict=False)
    lap("ingest")
    retrained = run_flow(config, plan, quiet=True, push=push, env=env)
    second = record(config, env=env, push=False).commit
    lap("retrain")
    subject = (
        proc.run(["git", "log", "-1", "--format=%s", report.commit], cwd=clone).stdout.strip() if report.commit else ""
    )
    return RoundReport(
        branch=BRANCH,
        pool=chosen.pool_size,
        strategy=chosen.strategy,
        batch=_batch(batch_dir, answers, report),
        round=report.round,
        accepted=len(report.accepted),
        commit=report.commit,
        subject=subject,
        versions=tuple(Version(path, before[path], _hash(clone / path)) for path in tracked),
        labelled_after=report.labelled_after,
        pool_after=report.pool_after,
        train_rows=(rows_before, _train_rows(clone, plan.dataset)),
        metrics_before=next(iter(trained.metrics.values()), {}),
        metrics_after=next(iter(retrained.metrics.values()), {}),
        recorded=(first, second),
        pushed=trained.pushed and retrained.pushed,
        seconds=seconds,
    )


def _oracle(clone: Path, batch_dir: Path, answers: Path, env: Mapping[str, str]) -> None:
    command = [sys.executable, "scripts/oracle.py", str(batch_dir), str(answers), "--noise", str(NOISE)]
    done = proc.run(command, cwd=clone, check=False, env=env)
    if done.returncode != 0:
        raise ToolError(f"scripts/oracle.py failed:\n{redact_output(done.stderr).strip()[-2000:]}")


def _batch(batch_dir: Path, answers: Path, report: IngestReport) -> tuple[Queried, ...]:
    with answers.open(newline="", encoding="utf-8") as fh:
        given = {row["id"]: row["label"] for row in csv.DictReader(fh)}
    reasons = {str(r.sample_id): str(r.reason) for r in report.rejected if r.sample_id is not None}
    lines = (batch_dir / "batch.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return tuple(
        Queried(
            str(row["id"]),
            str(row["predicted"]),
            float(row["confidence"]),
            row["score"],
            given.get(str(row["id"])),
            reasons.get(str(row["id"])),
        )  # fmt: skip
        for row in rows
    )


def _hash(dvc_file: Path) -> str:
    """The md5 of the output a ``.dvc`` file tracks (a directory's ends in ``.dir``)."""
    outs = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))["outs"]
    return str(outs[0]["md5"])


def _train_rows(clone: Path, dataset: str) -> int:
    """The training split's size, as the skeleton's prepare stage counts it."""
    stats = json.loads((clone / "data/prepared" / dataset / "stats.json").read_text(encoding="utf-8"))
    return int(stats["train_rows"])


def render(report: RoundReport, *, top: int = 5) -> list[str]:
    """The round for people: the lines :func:`alops.demo.render` appends."""
    changed = [v for v in report.batch if v.answer is not None and v.answer != v.predicted and v.rejected is None]
    rejected = [v for v in report.batch if v.rejected is not None]
    lines = [
        "",
        f"{report.branch}",
        "  role      al: the active-learning data branch; one round, as its CI jobs run it",
        f"  model     trained on {report.train_rows[0]:,} rows: {_metrics(report.metrics_before)}",
        f"  query     {len(report.batch)} of {report.pool:,} pool samples by {report.strategy} "
        f"(score@full wrote the pool's probabilities); the top {min(top, len(report.batch))}:",
        "              id      predicted  confidence  score   oracle",
    ]
    for q in report.batch[:top]:
        score = "-" if q.score is None else f"{q.score:.3f}"
        answer = "-" if q.answer is None else q.answer + (" (rejected)" if q.rejected else "")
        lines.append(f"              {q.id:<7} {q.predicted:<10} {q.confidence:<11.3f} {score:<7} {answer}")
    lines.append(
        f"  labels    the oracle (scripts/oracle.py: the digits' held-back labels) answered {len(report.batch)}; "
        f"{len(changed)} differ from the model's prediction"
    )
    for q in rejected:
        lines.append(f"            rejected {q.id}: {q.rejected} (it stays in the pool)")
    if report.commit is None:
        lines.append("  version   nothing was accepted: no new data version")
    else:
        lines += [
            f"  version   round {report.round}: +{report.accepted} labels, the labelled set {report.labelled_after:,} "
            f"rows, the pool {report.pool_after:,}",
            f"            commit {report.commit[:12]} on {report.branch}: {report.subject}",
        ]
        width = max(len(v.path) for v in report.versions)
        lines += [f"            {v.path:<{width}}  {v.before[:12]} → {v.after[:12]}" for v in report.versions]
    lines.append(f"  retrain   trained on {report.train_rows[1]:,} rows: {_compare(report)}")
    trainings = "the trainings pushed outputs and run-cache, as the al flow does in CI" if report.pushed else "none"
    lines.append(
        f"  push      {trainings}; the new data version and its commit stay here "
        "(in CI `alops al ingest --push` pushes both)"
    )
    s = report.seconds
    parts = ", ".join(f"{k} {s[k]:.1f}" for k in ROUND)
    lines.append(
        f"  time      the round {sum(s[k] for k in ROUND):.1f} s ({parts}); "
        f"training {s['train']:.1f} s, retraining {s['retrain']:.1f} s (each with its record commit)"
    )
    return lines


def _metrics(values: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in values.items() if k != "test_rows") or "(none)"


def _compare(report: RoundReport) -> str:
    before, after = report.metrics_before, report.metrics_after
    shown = [k for k in after if k != "test_rows"]
    return ", ".join(f"{k} {before[k]:.4g} → {after[k]:.4g}" if k in before else f"{k} {after[k]:.4g}" for k in shown)
