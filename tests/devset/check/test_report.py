"""``alops.devset.check.report``: Markdown, JSON and the terminal summary of a check."""

from __future__ import annotations

import json
from pathlib import Path

from alops.config import load_config
from alops.devset.check import report as check_report
from alops.devset.check.result import CheckResult, Finding, ShareRange
from alops.devset.check.run import check

from devset_data import HEADER, rows, sample, shifted, write_config, write_csv

FULL = rows(10_000)
DEV = sample(FULL)


def run(root: Path, full: list[list[object]], dev: list[list[object]]) -> CheckResult:
    write_csv(root / "data/full.csv", full)
    write_csv(root / "data/dev.csv", dev)
    return check(load_config(write_config(root)))


def test_the_report_names_the_failing_column_in_markdown_and_json(tmp_path: Path) -> None:
    result = run(tmp_path, shifted(FULL, "x0", 2.0), DEV)
    md, js = check_report.write(result, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.md"]
    text = md.read_text()
    assert text.startswith("## Dev set check: ❌ not representative\n")
    assert "| column | kind | test | statistic | p-value | threshold | result |" in text
    assert "| `x0` | numeric | KS | " in text and "| p ≥ 0.01 | ❌ fail |" in text
    assert "- `x0` (KS): mean 9.973 vs 12 in the full data; sd 2.015 vs 2.004\n" in text
    data = json.loads(js.read_text())
    assert data["representative"] is False
    assert {(f["column"], f["test"]) for f in data["findings"] if not f["passed"]} == {("x0", "ks"), ("x0", "psi")}
    assert data["verdict"].startswith("The dev set data/dev.csv no longer represents the full data data/full.csv")


def test_hostile_column_names_stay_inside_code_spans(tmp_path: Path) -> None:
    name = "x|`@all`<img src=x>\u0007"
    header = [*HEADER[:3], name, *HEADER[4:]]
    write_csv(tmp_path / "data/full.csv", shifted(FULL, "x0", 2.0), header)
    write_csv(tmp_path / "data/dev.csv", DEV, header)
    result = check(load_config(write_config(tmp_path)))
    text = check_report.markdown(result)
    assert "| ``x\\|`@all`<img src=x>\ufffd`` | numeric | KS |" in text
    assert "- ``x|`@all`<img src=x>\ufffd`` (KS): mean" in text
    assert "\u0007" not in text and "\u0007" not in check_report.summary(result)


def test_each_kind_of_test_adds_its_numbers_to_the_json() -> None:
    share = ShareRange(dev=3, full=30, expected=2.5, low=1.5, high=3.5)
    findings = (
        Finding("label", "label", "chi2", 1.0, 0.5, 0.01, True, pvalue_raw=0.25, dof=2),
        Finding("x", "numeric", "ks", 0.1, 0.9, 0.01, True, pvalue_raw=0.45, exact=True),
        Finding("corrupt rows", "rows", "share", 0.01, None, 0.5, True, share=share),
    )
    data = check_report.as_json(CheckResult("full", "dev", 3000, 300, findings, ()))
    chi2, ks, rows_share = data["findings"]
    assert (chi2["dof"], chi2["pvalue_raw"], "exact" in chi2) == (2.0, 0.25, False)
    assert (ks["exact"], ks["pvalue_raw"]) == (1.0, 0.45)
    assert {k: rows_share[k] for k in ("dev", "full", "expected", "low", "high")} == {
        "dev": 3.0,
        "full": 30.0,
        "expected": 2.5,
        "low": 1.5,
        "high": 3.5,
    }
    assert "| corrupt rows | 3 (1.00%) | 2.5 | 1.5–3.5 | ✅ pass |" in check_report.markdown(
        CheckResult("full", "dev", 3000, 300, findings, ())
    )
