"""The statistics of `alops devset check`: pure functions on counts, no I/O.

The full data is streamed once, so each column is summarised by counts that
take memory bounded by the dev set, never by the full data:

* numeric columns: counts over bins cut at the dev set's values. The edges are
  every distinct dev value when there are at most ``MAX_EDGES`` of them, else
  its quantiles; each edge is a bin of its own and so is each open interval
  between edges. The KS statistic read from these counts is then exact when
  every dev value is an edge, and otherwise too small by at most the dev mass
  strictly between two edges (about ``1/MAX_EDGES``).
* categorical columns (and the label): counts per value.

The dev set is (meant to be) a sample of the full data drawn without
replacement, so the tests are goodness-of-fit tests of the dev set against the
full data, with the finite-population correction: a dev set holding a quarter
of the full data must match it more closely than a sample of 1 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Ints = npt.NDArray[np.int64]

MAX_EDGES = 2000
#: PSI groups consecutive fine bins into this many bins of about equal full-data mass.
PSI_BINS = 10
#: Proportions below this count as this in PSI (its logarithm needs no zeros).
PSI_FLOOR = 1e-4
#: Categories expected fewer times than this in the dev set are pooled (χ² needs about 5).
MIN_EXPECTED = 5.0


def edges_from(values: Floats) -> Floats:
    """Bin edges for a numeric column: its distinct dev values, or MAX_EDGES of its quantiles."""
    import numpy as np

    finite = values[np.isfinite(values)]
    distinct = np.unique(finite)
    if len(distinct) <= MAX_EDGES:
        return distinct
    return np.unique(np.quantile(finite, np.linspace(0, 1, MAX_EDGES)))


def bin_counts(edges: Floats, values: Floats) -> Ints:
    """Counts over the ``2·len(edges)+1`` bins: (-inf, e0), {e0}, (e0, e1), {e1}, …, (e_last, inf)."""
    import numpy as np

    # Sorting the values and searching the few edges in them is about twice as
    # fast as searching every value among the edges (numpy's sort is SIMD).
    x = np.sort(values[np.isfinite(values)])
    below = np.searchsorted(x, edges, side="left")  # values < edge
    upto = np.searchsorted(x, edges, side="right")  # values <= edge
    bounds = np.empty(2 * len(edges) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, len(x)
    bounds[1:-1:2], bounds[2:-1:2] = below, upto
    return np.diff(bounds)


def ks_statistic(dev: Ints, full: Ints) -> float:
    """Largest distance between the two empirical CDFs, read at every bin boundary."""
    import numpy as np

    if dev.sum() == 0 or full.sum() == 0:
        return 0.0
    return float(np.max(np.abs(np.cumsum(dev) / dev.sum() - np.cumsum(full) / full.sum())))


def effective_n(n: int, population: int) -> float:
    """Sample size with the finite-population correction (dev drawn without replacement from full)."""
    return n * (population - 1) / (population - n) if population > n > 0 else float(n)


def ks_pvalue(statistic: float, n: int, population: int) -> float:
    """p-value of the one-sample KS test of ``n`` dev values against the full data's distribution.

    Conservative for discrete columns (ties), as the KS test always is.
    """
    from scipy import stats  # type: ignore[import-untyped,unused-ignore]

    if n == 0:
        return 1.0
    return float(stats.kstwo.sf(statistic, max(1, round(effective_n(n, population)))))


def cells(dev: Mapping[Any, int], full: Mapping[Any, int]) -> list[tuple[float, float]]:
    """(observed in dev, expected in dev) per category, rare categories pooled.

    Categories expected fewer than MIN_EXPECTED times in the dev set are pooled
    (and the pool takes in the smallest category while it is still too small),
    so a rare category the dev set happens to miss does not fail it. A category
    the full data does not have at all is never pooled: the dev set is drawn from
    the full data, so one is drift (a label renamed in the full data since the
    dev set was built), and its cell, expected 0 times, fails the test (pooled,
    it would cancel out against the category it replaced).
    """
    n, total = sum(dev.values()), sum(full.values())
    if n == 0 or total == 0:
        return []
    keys = set(dev) | set(full)
    expected = {k: n * full.get(k, 0) / total for k in keys}
    big = sorted((k for k in keys if expected[k] >= MIN_EXPECTED), key=lambda k: (expected[k], str(k)))
    small = [k for k in keys if 0 < expected[k] < MIN_EXPECTED]
    unseen = sorted((k for k in keys if expected[k] == 0 and dev.get(k, 0) > 0), key=str)
    out = [(float(dev.get(k, 0)), expected[k]) for k in big]
    if small:
        pool = (float(sum(dev.get(k, 0) for k in small)), sum(expected[k] for k in small))
        while pool[1] < MIN_EXPECTED and out:
            smallest = out.pop(0)
            pool = (pool[0] + smallest[0], pool[1] + smallest[1])
        out.append(pool)
    return out + [(float(dev[k]), 0.0) for k in unseen]


def chi2_test(observed_expected: Sequence[tuple[float, float]], n: int, population: int) -> tuple[float, int, float]:
    """(statistic, degrees of freedom, p-value) of the χ² goodness-of-fit test over ``cells``."""
    from scipy import stats  # type: ignore[import-untyped,unused-ignore]

    if len(observed_expected) < 2 or n == 0:
        return 0.0, 0, 1.0
    statistic = sum((o - e) ** 2 / e if e > 0 else (float("inf") if o > 0 else 0.0) for o, e in observed_expected)
    statistic *= effective_n(n, population) / n  # the finite-population correction
    dof = len(observed_expected) - 1
    return statistic, dof, float(stats.chi2.sf(statistic, dof))


def psi(dev: Sequence[float], full: Sequence[float]) -> float:
    """Population stability index Σ (d - f)·ln(d / f) of two aligned count vectors."""
    import math

    n, total = sum(dev), sum(full)
    if n == 0 or total == 0:
        return 0.0
    value = 0.0
    for d, f in zip(dev, full, strict=True):
        p, q = max(d / n, PSI_FLOOR), max(f / total, PSI_FLOOR)
        value += (p - q) * math.log(p / q)
    return value


def psi_groups(full: Ints) -> Ints:
    """For each fine bin, the PSI bin it joins: consecutive bins of about 1/PSI_BINS of the full data each."""
    import numpy as np

    total = max(int(full.sum()), 1)
    start = (np.cumsum(full) - full) / total
    return np.minimum((start * PSI_BINS).astype(np.int64), PSI_BINS - 1)


def grouped(counts: Ints, groups: Ints) -> list[float]:
    import numpy as np

    return [float(v) for v in np.bincount(groups, weights=counts, minlength=PSI_BINS)]


@dataclass
class Moments:
    """Count, mean, spread and range of a stream of values (Chan et al.'s merge, stable in float64)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")

    def add(self, values: Floats) -> None:
        import numpy as np

        x = values[np.isfinite(values)]
        if not len(x):
            return
        k, mean = len(x), float(x.mean())
        delta, total = mean - self.mean, self.n + k
        self.m2 += float(((x - mean) ** 2).sum()) + delta * delta * self.n * k / total
        self.mean += delta * k / total
        self.n = total
        self.low, self.high = min(self.low, float(x.min())), max(self.high, float(x.max()))

    def merge(self, other: Moments) -> None:
        if not other.n:
            return
        delta, total = other.mean - self.mean, self.n + other.n
        self.m2 += other.m2 + delta * delta * self.n * other.n / total
        self.mean += delta * other.n / total
        self.n = total
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)

    @property
    def sd(self) -> float:
        return (self.m2 / (self.n - 1)) ** 0.5 if self.n > 1 else 0.0


def quantile(edges: Floats, counts: Ints, q: float, low: float, high: float) -> float:
    """The ``q`` quantile read from bin counts (see ``bin_counts``), linear within an interval bin."""
    import numpy as np

    total = int(counts.sum())
    if total == 0:
        return float("nan")
    target = q * total
    cum = np.cumsum(counts)
    b = int(np.searchsorted(cum, target, side="left"))
    if b % 2:  # a bin that is one edge value
        return float(edges[b // 2])
    left = float(edges[b // 2 - 1]) if b else low
    right = float(edges[b // 2]) if b // 2 < len(edges) else high
    before = float(cum[b] - counts[b])
    share = (target - before) / counts[b] if counts[b] else 0.0
    return left + share * (right - left)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values: the family of tests fails by chance with at most the threshold."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
