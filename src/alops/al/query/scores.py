"""What "informative" means for each uncertainty strategy, computed on a block of class probabilities.

Every score is "higher is more informative", so one top-k serves all strategies:

- least-confidence: ``1 - max p``;
- margin: ``1 - (p1 - p2)``, the two largest probabilities (a margin of 0 scores 1);
- entropy: ``-sum p ln p`` of the row normalised to sum 1 (as ``scipy.stats.entropy``
  and modAL compute it), ``0 ln 0 = 0``.

The kernels take a block transposed, classes x rows: numpy reduces along the short
class axis of a rows x classes array about ten times slower than it combines whole
rows of the transposed one. Entropy's logarithms are computed only for rows that can
still enter the batch: Fano's inequality bounds the entropy by the largest probability
(:func:`max_bound`), which the block's validation has computed already.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.floating]
Floats64 = npt.NDArray[np.float64]

#: Relative slack on the entropy bound, for float32 rounding.
_ROUNDING = 1e-5


def least_confidence(top: Floats) -> Floats64:
    """``1 - max p`` from each row's largest probability."""
    return np.asarray(1.0 - top.astype(np.float64), dtype=np.float64)


def margin(t: Floats) -> Floats64:
    """``1 - (p1 - p2)`` of each column of ``t`` (classes x rows)."""
    first, second = _top2(t)
    return np.asarray(1.0 - (first.astype(np.float64) - second.astype(np.float64)), dtype=np.float64)


def margin_gap(t: Floats) -> Floats:
    """``p1 - p2`` of each column of ``t`` in its own precision: a pre-filter for :func:`margin`."""
    first, second = _top2(t)
    first -= second
    return first


def _top2(t: Floats) -> tuple[Floats, Floats]:
    first = np.maximum(t[0], t[1])
    second = np.minimum(t[0], t[1])
    low = np.empty_like(first)
    for row in t[2:]:
        np.minimum(first, row, out=low)
        np.maximum(second, low, out=second)
        np.maximum(first, row, out=first)
    return first, second


def entropy(t: Floats) -> Floats64:
    """The entropy in nats of each column of ``t`` (classes x rows), normalised to sum 1."""
    p = t.astype(np.float64)
    total = p.sum(axis=0)
    # A row of zeros cannot pass validation; the guard only keeps numpy quiet here.
    p /= np.where(total > 0, total, 1.0)
    terms = np.zeros_like(p)
    np.log(p, out=terms, where=p > 0)  # 0 ln 0 = 0
    terms *= p
    return np.asarray(-terms.sum(axis=0), dtype=np.float64)


@lru_cache(maxsize=64)
def max_bound(threshold: float, classes: int, atol: float) -> float:
    """The largest ``max p`` of a row whose entropy can reach ``threshold``.

    Fano: the entropy of a distribution over C classes whose largest probability is
    x is at most ``h(x) + (1 - x) ln(C - 1)``, which falls from ``ln C`` at x = 1/C
    to 0 at x = 1. A row summing to s normalises its max to ``max p / s``, with
    ``s <= 1 + atol``.
    """
    lo, hi = 1.0 / classes, 1.0
    if _fano(lo, classes) >= threshold:
        for _ in range(60):
            mid = (lo + hi) / 2.0
            if _fano(mid, classes) >= threshold:
                lo = mid
            else:
                hi = mid
    return hi * (1.0 + atol) * (1.0 + _ROUNDING)


def _fano(x: float, classes: int) -> float:
    rest = 1.0 - x
    h = -x * math.log(x) - (rest * math.log(rest) if rest > 0 else 0.0)
    return h + rest * math.log(classes - 1)
