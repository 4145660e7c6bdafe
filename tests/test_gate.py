"""``alops.gate``: bounds, regressions against a baseline, JUnit XML and GitLab's metrics report."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from alops.errors import ConfigError
from alops.gate import evaluate, find, junit, metrics_report
from alops.sections import Gate

CURRENT = {"metrics/full.json": {"accuracy": 0.93, "loss": 0.31, "test.f1": 0.9}}
BASELINE = {"metrics/full.json": {"accuracy": 0.96, "loss": 0.30, "test.f1": 0.9}}


def gate(
    metric: str, low: float | None = None, high: float | None = None, drop: float | None = None, better: str = "higher"
) -> Gate:
    return Gate(metric, low, high, drop, better)


def test_a_threshold_the_metric_misses_fails_and_one_it_meets_passes() -> None:
    result = evaluate((gate("accuracy", low=0.99), gate("test.f1", low=0.85, high=1.0)), CURRENT, None, None)
    assert [(c.metric, c.bound, c.outcome) for c in result.checks] == [
        ("accuracy", "min", "failed"),
        ("test.f1", "min", "passed"),
        ("test.f1", "max", "passed"),
    ]
    assert result.failed[0].message == "accuracy = 0.93 misses min 0.99 (must be >= 0.99)"


def test_a_regression_is_measured_the_way_the_metric_improves() -> None:
    gates = (gate("accuracy", drop=0.02), gate("loss", drop=0.02, better="lower"), gate("test.f1", drop=0.0))
    result = evaluate(gates, CURRENT, BASELINE, "main")
    assert [c.outcome for c in result.checks] == ["failed", "passed", "passed"]
    assert result.checks[0].message == "accuracy: 0.96 → 0.93 at main, 0.03 worse, beyond max_regression 0.02"
    assert (result.checks[1].baseline, result.checks[1].value) == (0.30, 0.31)


def test_no_baseline_skips_the_regression_and_says_why() -> None:
    (check,) = evaluate((gate("accuracy", drop=0.02),), CURRENT, None, None).checks
    assert (check.outcome, check.message) == ("skipped", "accuracy: no baseline was given (--against REF)")
    (check,) = evaluate((gate("accuracy", drop=0.02),), CURRENT, {}, "main").checks
    assert (check.outcome, check.message) == ("skipped", "accuracy: main has no value of it")


def test_a_metric_no_file_holds_fails_every_bound() -> None:
    result = evaluate((gate("acuracy", low=0.5, drop=0.1),), CURRENT, BASELINE, "main")
    assert [c.outcome for c in result.checks] == ["failed", "failed"]
    assert "acuracy is in no metrics file (pipeline.metrics)" in result.checks[0].message


def test_a_metric_in_several_files_must_be_named_with_its_file() -> None:
    both = {"metrics/dev.json": {"accuracy": 0.8}, "metrics/full.json": {"accuracy": 0.9}}
    assert find("metrics/dev.json:accuracy", both) == 0.8
    with pytest.raises(ConfigError, match=r"accuracy is in several metrics files .*metrics/dev.json:accuracy"):
        find("accuracy", both)


def test_a_value_that_is_not_finite_never_passes() -> None:
    (check,) = evaluate((gate("accuracy", low=0.5),), {"m.json": {"accuracy": float("nan")}}, None, None).checks
    assert check.outcome == "failed"


def test_junit_has_a_case_per_bound_with_failures_and_skips() -> None:
    result = evaluate((gate("accuracy", low=0.99, drop=0.02), gate("test.f1", low=0.5)), CURRENT, None, None)
    root = ET.fromstring(junit(result))
    (suite,) = root
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {case.get("name"): [child.tag for child in case] for case in suite}
    assert cases == {"accuracy min": ["failure"], "accuracy max_regression": ["skipped"], "test.f1 min": ["system-out"]}


def test_the_metrics_report_is_one_name_value_line_per_metric() -> None:
    assert metrics_report(CURRENT) == "accuracy 0.93\nloss 0.31\ntest.f1 0.9\n"
    both = {"a.json": {"x y": 1.0}, "b.json": {"x": 2.5}}
    assert metrics_report(both) == "a.json:x_y 1\nb.json:x 2.5\n"
    assert metrics_report({}) == ""
