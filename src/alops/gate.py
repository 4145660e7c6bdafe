"""Quality gates: hold the metrics of a run to alops.yaml's ``quality.thresholds``.

Each gate checks a metric against its absolute bounds (``min``, ``max``) and,
when a baseline is given (the metrics files as another git revision has them),
its change for the worse (``max_regression``; ``better`` says which way is
better). A gate whose metric no metrics file holds fails: a gate that cannot
be checked must not pass silently. A regression bound without a baseline is
skipped and said so: the first run of a project has nothing to compare with.

The outcome is written for GitLab as JUnit XML (``artifacts: reports: junit``:
one test case per bound, shown in the merge request on every tier) and as
GitLab's metrics report (``artifacts: reports: metrics``: one ``name value``
line per metric).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from alops.errors import ConfigError
from alops.sections import Gate

if TYPE_CHECKING:
    from alops.compare import Snapshot
    from alops.config import Config
    from alops.flow import Plan

#: Metrics by file, then by key path, as :mod:`alops.metrics` reads them.
Metrics = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class Check:
    """One bound of one gate, checked."""

    metric: str
    bound: str  # "min", "max" or "max_regression"
    limit: float
    value: float | None  # None: no metrics file holds the metric
    baseline: float | None  # for max_regression
    outcome: str  # "passed", "failed" or "skipped"
    message: str


@dataclass(frozen=True)
class GateResult:
    checks: tuple[Check, ...]
    against: str | None  # the baseline's revision, when there was one

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.outcome == "failed")


def evaluate(gates: tuple[Gate, ...], current: Metrics, baseline: Metrics | None, against: str | None) -> GateResult:
    """Check every bound of ``gates`` on ``current`` (and ``baseline``, for the regressions)."""
    checks: list[Check] = []
    for gate in gates:
        value = find(gate.metric, current)
        if gate.min is not None:
            checks.append(_absolute(gate, "min", gate.min, value))
        if gate.max is not None:
            checks.append(_absolute(gate, "max", gate.max, value))
        if gate.max_regression is not None:
            before = None if baseline is None else find(gate.metric, baseline)
            checks.append(_regression(gate, gate.max_regression, value, before, against))
    return GateResult(tuple(checks), against)


@dataclass(frozen=True)
class Checked:
    """The gates of alops.yaml checked on a run, and the baseline its regressions were measured against."""

    result: GateResult
    baseline: Snapshot | None  # None: no --against and none by default (a local run, the default branch)


def check(config: Config, plan: Plan, current: Metrics, env: Mapping[str, str], against: str | None) -> Checked:
    """Hold ``current`` to ``config.quality``: what ``alops gate`` and ``alops release`` both decide on.

    In CI, off the default branch, ``against`` defaults to the merge request's
    target branch, else the default branch (:func:`alops.baseline.default_ref`).
    """
    from alops import baseline as baselines
    from alops.run import in_ci

    if not config.quality:
        raise ConfigError(
            f"{config.path} has no quality.thresholds: there is no gate to check (see `alops config schema`; "
            "in the CI template, the input `gate: false` turns the gate job off)"
        )
    if against is None and in_ci(env) and plan.ref_kind == "branch" and plan.ref != plan.default_branch:
        against = baselines.default_ref(config, env)  # a CI branch is held to its MR's target, else the default
    snap = None if against is None else baselines.at_ref(config, plan, against, env)
    base = None if snap is None else snap.metrics  # empty when there is none: each regression says so
    return Checked(evaluate(config.quality, current, base, against), snap)


def find(metric: str, metrics: Metrics) -> float | None:
    """The value of ``metric`` (a key path, or ``FILE:KEY``) in ``metrics``; None when no file holds it."""
    name, _, key = metric.rpartition(":")
    if name and name in metrics:
        return metrics[name].get(key)
    holders = [file for file, values in metrics.items() if metric in values]
    if len(holders) > 1:
        raise ConfigError(
            f"quality.thresholds: {metric} is in several metrics files ({', '.join(holders)}): "
            f"name one as FILE:KEY, e.g. {holders[0]}:{metric}"
        )
    return metrics[holders[0]][metric] if holders else None


def _absolute(gate: Gate, bound: str, limit: float, value: float | None) -> Check:
    if value is None:
        return Check(gate.metric, bound, limit, None, None, "failed", _missing(gate.metric))
    ok = math.isfinite(value) and (value >= limit if bound == "min" else value <= limit)
    sign = ">=" if bound == "min" else "<="
    message = f"{gate.metric} = {value:g} {'meets' if ok else 'misses'} {bound} {limit:g} (must be {sign} {limit:g})"
    return Check(gate.metric, bound, limit, value, None, "passed" if ok else "failed", message)


def _regression(gate: Gate, limit: float, value: float | None, before: float | None, against: str | None) -> Check:
    if value is None:
        return Check(gate.metric, "max_regression", limit, None, before, "failed", _missing(gate.metric))
    if before is None:
        why = "no baseline was given (--against REF)" if against is None else f"{against} has no value of it"
        return Check(gate.metric, "max_regression", limit, value, None, "skipped", f"{gate.metric}: {why}")
    worse = (before - value) if gate.better == "higher" else (value - before)
    ok = math.isfinite(worse) and worse <= limit
    change = f"{before:g} → {value:g} at {against}" if against else f"{before:g} → {value:g}"
    verdict = "within" if ok else "beyond"
    message = f"{gate.metric}: {change}, {max(worse, 0.0):g} worse, {verdict} max_regression {limit:g}"
    return Check(gate.metric, "max_regression", limit, value, before, "passed" if ok else "failed", message)


def _missing(metric: str) -> str:
    return f"{metric} is in no metrics file (pipeline.metrics): run the evaluate stage, or correct quality.thresholds"


def junit(result: GateResult) -> str:
    """The checks as JUnit XML: a test case per bound, failed and skipped ones with their message."""
    suite = ET.Element(
        "testsuite",
        name="alops gate",
        tests=str(len(result.checks)),
        failures=str(len(result.failed)),
        skipped=str(sum(c.outcome == "skipped" for c in result.checks)),
    )
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname="alops.gate", name=f"{check.metric} {check.bound}")
        if check.outcome == "failed":
            ET.SubElement(case, "failure", message=check.message, type=check.bound).text = check.message
        elif check.outcome == "skipped":
            ET.SubElement(case, "skipped", message=check.message)
        else:
            ET.SubElement(case, "system-out").text = check.message
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def metrics_report(current: Metrics) -> str:
    """GitLab's metrics report: one ``name value`` line per metric (files named when there are several)."""
    several = len(current) > 1
    lines = []
    for file, values in current.items():
        for key, value in values.items():
            name = f"{file}:{key}" if several else key
            # The format is space-separated: a name must be one word.
            lines.append(f"{''.join(ch if ch.isprintable() and not ch.isspace() else '_' for ch in name)} {value:g}")
    return "\n".join(lines) + ("\n" if lines else "")
