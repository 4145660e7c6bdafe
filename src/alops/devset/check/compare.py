"""The tests of `alops devset check`, from the counts of the dev set and of the full data.

Each gives :class:`Finding` rows: χ² and PSI for the label and each categorical
column, KS and PSI for each numeric column, the shares of outliers and of
corrupt rows, and the columns only one side has. The KS and χ² p-values are
Holm-adjusted together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from alops.devset.check import stats
from alops.devset.check.columns import Plan
from alops.devset.check.counts import Tally
from alops.devset.check.spec import CheckSpec


@dataclass(frozen=True)
class Finding:
    """One test of one column (or of the rows as a whole) and its outcome."""

    column: str
    kind: str  # label, numeric, categorical, rows, columns
    test: str  # chi2, ks, psi, share, presence
    statistic: float | None
    pvalue: float | None  # Holm-adjusted
    threshold: float | None
    passed: bool
    detail: str = ""
    values: dict[str, float] = field(default_factory=dict)


def presence(dev: list[str], full: list[str]) -> list[Finding]:
    in_dev, in_full = set(dev), set(full)  # sets: a table may have thousands of columns
    out = [
        Finding(c, "columns", "presence", None, None, None, False, "in the full data, not in the dev set")
        for c in full
        if c not in in_dev
    ]
    out += [
        Finding(c, "columns", "presence", None, None, None, False, "in the dev set, not in the full data")
        for c in dev
        if c not in in_full
    ]
    return out


def compare(spec: CheckSpec, plan: Plan, dev: Tally, full: Tally) -> list[Finding]:
    from alops.devset.check.report import categorical_detail, numeric_detail

    tests: list[tuple[str, str, str, float, float, str, dict[str, float]]] = []  # column, kind, test, stat, p, detail
    psis: list[Finding] = []
    for name in plan.texts:
        kind = "label" if name == plan.label else "categorical"
        d, f = dev.categories.get(name, Counter()), full.categories.get(name, Counter())
        cells = stats.cells(d, f)
        statistic, dof, p = stats.chi2_test(cells, dev.regular, full.regular)
        detail = categorical_detail(d, f, unlabelled=kind == "label")
        tests.append((name, kind, "chi2", statistic, p, detail, {"dof": float(dof)}))
        psi = stats.psi([o for o, _ in cells], [e for _, e in cells])
        psis.append(Finding(name, kind, "psi", psi, None, spec.psi_max, psi <= spec.psi_max, detail))
    for name in plan.numeric:
        d_bins, f_bins = dev.bins[name], full.bins[name]
        statistic = stats.ks_statistic(d_bins, f_bins)
        n, population = int(d_bins.sum()), int(f_bins.sum())
        # Exact when every dev value is a bin edge: no dev value falls strictly between two edges.
        exact = int(d_bins[0::2].sum()) == 0
        detail = numeric_detail(dev.moments.get(name), full.moments.get(name))
        tests.append(
            (
                name,
                "numeric",
                "ks",
                statistic,
                stats.ks_pvalue(statistic, n, population),
                detail,
                {"exact": float(exact)},
            )
        )
        groups = stats.psi_groups(f_bins)
        psi = stats.psi(
            [*stats.grouped(d_bins, groups), float(dev.missing[name])],
            [*stats.grouped(f_bins, groups), float(full.missing[name])],
        )
        psis.append(Finding(name, "numeric", "psi", psi, None, spec.psi_max, psi <= spec.psi_max, detail))
    adjusted = stats.holm([t[4] for t in tests])
    out = []
    for (name, kind, test, statistic, raw, detail, values), p in zip(tests, adjusted, strict=True):
        threshold = spec.chi2_pvalue if test == "chi2" else spec.ks_pvalue
        out.append(
            Finding(name, kind, test, statistic, p, threshold, p >= threshold, detail, {**values, "pvalue_raw": raw})
        )
    order = {f.column: i for i, f in enumerate(out)}
    return sorted([*out, *psis], key=lambda f: (order[f.column], f.test == "psi"))


def shares(spec: CheckSpec, dev: Tally, full: Tally) -> list[Finding]:
    wanted = [("corrupt rows", dev.corrupt, full.corrupt, spec.corrupt_max_share)]
    if spec.outlier_rule:
        wanted.insert(0, ("outliers", dev.outliers, full.outliers, spec.outlier_max_share))
    out = []
    for what, d, f, cap in wanted:
        full_share = f / full.rows
        expected = min(full_share, cap) * dev.rows
        # At least one row of slack: the builder rounds counts to whole rows.
        slack = max(spec.share_tolerance * expected, 1.0)
        passed = abs(d - expected) <= slack
        detail = (
            f"{d} of {dev.rows} dev rows ({d / dev.rows:.2%}); expected {expected:.1f} "
            f"(full data {full_share:.2%}, at most {cap:.2%}), allowed {max(expected - slack, 0):.1f}–{expected + slack:.1f}"
        )
        values = {
            "dev": float(d),
            "full": float(f),
            "expected": expected,
            "low": max(expected - slack, 0.0),
            "high": expected + slack,
        }
        out.append(Finding(what, "rows", "share", d / dev.rows, None, spec.share_tolerance, passed, detail, values))
    return out
