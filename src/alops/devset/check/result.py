"""What `alops devset check` finds: one :class:`Finding` per test, and the :class:`CheckResult`.

The result types on their own, so the check (:mod:`.run`), its tests
(:mod:`.compare`) and its reports (:mod:`.report`) all import them and none
imports another in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShareRange:
    """A share test's counts: dev rows found, full-data rows, and the dev rows expected and allowed."""

    dev: int
    full: int
    expected: float
    low: float
    high: float


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
    pvalue_raw: float | None = None  # KS and χ²: before the Holm adjustment
    dof: int | None = None  # χ²: degrees of freedom
    exact: bool | None = None  # KS: the statistic is exact (every dev value is a bin edge)
    share: ShareRange | None = None  # share tests


@dataclass(frozen=True)
class CheckResult:
    """What `alops devset check` found."""

    full: str
    dev: str
    full_rows: int
    dev_rows: int
    findings: tuple[Finding, ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def representative(self) -> bool:
        return all(f.passed for f in self.findings)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.passed)
