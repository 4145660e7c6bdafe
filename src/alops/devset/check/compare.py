"""The tests of `alops devset check`, from the counts of the dev set and of the full data.

Each gives :class:`Finding` rows: χ² and PSI for the label and each categorical
column, KS and PSI for each numeric column, the shares of outliers and of
corrupt rows, and the columns only one side has. The KS and χ² p-values are
Holm-adjusted together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from alops.devset.check import stats
from alops.devset.check.counts import Tally
from alops.devset.check.report import categorical_detail, numeric_detail
from alops.devset.check.result import Finding, ShareRange
from alops.devset.check.roles import ColumnRoles
from alops.devset.check.spec import CheckSpec


@dataclass(frozen=True)
class _Test:
    """A KS or χ² test before the Holm adjustment."""

    column: str
    kind: str
    test: str  # chi2 or ks
    statistic: float
    pvalue: float
    detail: str
    dof: int | None = None
    exact: bool | None = None


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


def compare(spec: CheckSpec, roles: ColumnRoles, dev: Tally, full: Tally) -> list[Finding]:
    tests: list[_Test] = []
    psis: list[Finding] = []
    for name in roles.texts:
        kind = "label" if name == roles.label else "categorical"
        d, f = dev.categories.get(name, Counter()), full.categories.get(name, Counter())
        cells = stats.cells(d, f)
        statistic, dof, p = stats.chi2_test(cells, dev.regular, full.regular)
        detail = categorical_detail(d, f, unlabelled=kind == "label")
        tests.append(_Test(name, kind, "chi2", statistic, p, detail, dof=dof))
        psi = stats.psi([o for o, _ in cells], [e for _, e in cells])
        psis.append(Finding(name, kind, "psi", psi, None, spec.psi_max, psi <= spec.psi_max, detail))
    for name in roles.numeric:
        d_bins, f_bins = dev.bins[name], full.bins[name]
        statistic = stats.ks_statistic(d_bins, f_bins)
        n, population = int(d_bins.sum()), int(f_bins.sum())
        # Exact when every dev value is a bin edge: no dev value falls strictly between two edges.
        exact = int(d_bins[0::2].sum()) == 0
        detail = numeric_detail(dev.moments.get(name), full.moments.get(name))
        p = stats.ks_pvalue(statistic, n, population)
        tests.append(_Test(name, "numeric", "ks", statistic, p, detail, exact=exact))
        groups = stats.psi_groups(f_bins)
        psi = stats.psi(
            [*stats.grouped(d_bins, groups), float(dev.missing[name])],
            [*stats.grouped(f_bins, groups), float(full.missing[name])],
        )
        psis.append(Finding(name, "numeric", "psi", psi, None, spec.psi_max, psi <= spec.psi_max, detail))
    adjusted = stats.holm([t.pvalue for t in tests])
    out = []
    for t, p in zip(tests, adjusted, strict=True):
        threshold = spec.chi2_pvalue if t.test == "chi2" else spec.ks_pvalue
        out.append(
            Finding(
                t.column,
                t.kind,
                t.test,
                t.statistic,
                p,
                threshold,
                p >= threshold,
                t.detail,
                pvalue_raw=t.pvalue,
                dof=t.dof,
                exact=t.exact,
            )
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
        counts = ShareRange(d, f, expected, max(expected - slack, 0.0), expected + slack)
        share = d / dev.rows
        out.append(Finding(what, "rows", "share", share, None, spec.share_tolerance, passed, detail, share=counts))
    return out
