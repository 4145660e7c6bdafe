"""Greedy k-center (core-set) selection on embeddings, in O(N) memory beyond the embeddings themselves.

Each step takes the point farthest from every centre so far (the labelled set's
embeddings, then the points already chosen) and lowers each point's distance to its
nearest centre with one matrix-vector product: ``|x - c|^2 = |x|^2 - 2 x.c + |c|^2``,
so what is kept is ``|x|^2`` and the min-distance vector, two floats a point.
Ties for the farthest point (duplicates, or every point when nothing is labelled:
the first point is then a seeded draw) go to the smallest tie key of :mod:`alops.al.query.topk`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from alops.al.query.blas import one_blas_thread
from alops.al.query.topk import tie_keys
from alops.errors import DataError

Ints = npt.NDArray[np.int64]
Floats64 = npt.NDArray[np.float64]

#: Points per block that is brought up to date as a whole, and centres per product: 4096 x 512 floats.
_BLOCK_ROWS = 4096
_CENTRES_PER_PRODUCT = 512
#: Entries of one block of the points x labelled-centres distance matrix (32 MB of float64).
_BLOCK_ENTRIES = 1 << 22


def k_center(
    x: npt.NDArray[np.floating],
    k: int,
    *,
    salt: np.uint64,
    centres: npt.NDArray[np.floating] | None = None,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> tuple[Ints, Floats64]:
    """Positions of ``k`` points of ``x`` (N x d) chosen greedily, and each one's distance to the centres before it.

    Only points where ``allowed`` is true are chosen (all points count as candidates
    without it). The first point's distance is ``inf`` when there are no ``centres``
    to start from.
    """
    with one_blas_thread():
        return _k_center(x, k, salt, centres, allowed)


def _k_center(
    x: npt.NDArray[np.floating],
    k: int,
    salt: np.uint64,
    centres: npt.NDArray[np.floating] | None,
    allowed: npt.NDArray[np.bool_] | None,
) -> tuple[Ints, Floats64]:
    x = _floats(x, "embeddings")
    n = len(x) if allowed is None else int(allowed.sum())
    if k > n:
        raise DataError(f"k-center cannot choose {k} points from {n}")
    xsq = _squares(x, "embeddings")
    dmin = np.full(len(x), np.inf, dtype=x.dtype)
    if centres is not None and len(centres):
        centres = _floats(centres, "labelled embeddings").astype(x.dtype, copy=False)
        if centres.shape[1] != x.shape[1]:
            raise DataError(
                f"the labelled embeddings have {centres.shape[1]} dimensions, the pool's have {x.shape[1]}: "
                "score both with the same model"
            )
        _start_from(x, xsq, centres, dmin)
    if allowed is not None:
        dmin[~allowed] = -np.inf
    return _Lazy(x, xsq, dmin, salt).choose(k)


class _Lazy:
    """Greedy k-center that brings a block of points up to date only when it may hold the farthest point.

    A point's distance to the centres only falls as centres are added, so a block's
    largest distance, computed before the latest centres, bounds it from above. Each
    step refreshes the block with the highest bound against the centres it has not
    seen (one matrix product, not one pass over all N points per centre) until the
    best block is up to date and no stale bound reaches its maximum. The result is the
    plain greedy one; on clustered embeddings most blocks are left alone most steps.
    """

    def __init__(
        self,
        x: npt.NDArray[np.floating],
        xsq: npt.NDArray[np.floating],
        dmin: npt.NDArray[np.floating],
        salt: np.uint64,
    ) -> None:
        self.x, self.xsq, self.dmin, self.salt = x, xsq, dmin, salt
        self.starts = np.arange(0, len(x), _BLOCK_ROWS)
        self.bound = np.array([dmin[lo : lo + _BLOCK_ROWS].max() for lo in self.starts], dtype=np.float64)
        self.seen = np.zeros(len(self.starts), np.int64)

    def choose(self, k: int) -> tuple[Ints, Floats64]:
        chosen = np.empty(k, np.int64)
        distances = np.empty(k, np.float64)
        for step in range(k):
            best = self._farthest(chosen[:step])
            chosen[step] = best
            distances[step] = math.sqrt(max(float(self.dmin[best]), 0.0))
            # A chosen point is never chosen again, even when every distance left is 0 (duplicates).
            self.dmin[best] = -np.inf
            b = best // _BLOCK_ROWS
            self.bound[b] = self.dmin[self.starts[b] : self.starts[b] + _BLOCK_ROWS].max()
        return chosen, distances

    def _farthest(self, centres: Ints) -> int:
        while True:
            b = int(np.argmax(self.bound))
            top = self.bound[b]
            stale = np.flatnonzero((self.bound >= top) & (self.seen < len(centres)))
            if not len(stale):
                break
            for s in stale:
                self._refresh(int(s), centres)
        tied_blocks = np.flatnonzero(self.bound == top)
        tied = np.concatenate(
            [lo + np.flatnonzero(self.dmin[lo : lo + _BLOCK_ROWS] == top) for lo in self.starts[tied_blocks]]
        )
        if len(tied) == 1:
            return int(tied[0])
        return int(tied[np.argmin(tie_keys(self.salt, tied.astype(np.int64)))])

    def _refresh(self, b: int, centres: Ints) -> None:
        lo = int(self.starts[b])
        hi = lo + _BLOCK_ROWS
        x, dmin = self.x[lo:hi], self.dmin[lo:hi]
        for first in range(int(self.seen[b]), len(centres), _CENTRES_PER_PRODUCT):
            group = centres[first : first + _CENTRES_PER_PRODUCT]
            # min_j |x - c_j|^2 = |x|^2 + min_j (|c_j|^2 - 2 x.c_j): one product, one add, one reduction.
            d = x @ (-2 * self.x[group]).T
            d += self.xsq[group][None, :]
            nearest = d.min(axis=1)
            nearest += self.xsq[lo:hi]
            np.minimum(dmin, nearest, out=dmin)
        self.seen[b] = len(centres)
        self.bound[b] = dmin.max()


def _floats(a: npt.NDArray[np.floating], what: str) -> npt.NDArray[np.floating]:
    if a.ndim != 2:
        raise DataError(f"the {what} must be a 2-D array (samples x dimensions), got shape {a.shape}")
    dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    return np.ascontiguousarray(a, dtype=dtype)


def _squares(a: npt.NDArray[np.floating], what: str) -> npt.NDArray[np.floating]:
    """Each row's squared norm; a NaN or infinite value anywhere in a row makes it non-finite (no N x d mask)."""
    with np.errstate(over="ignore", invalid="ignore"):
        squares: npt.NDArray[np.floating] = np.einsum("ij,ij->i", a, a)
    bad = np.flatnonzero(~np.isfinite(squares))
    if len(bad):
        raise DataError(
            f"the {what} hold NaN, infinite or overflowing values in {len(bad)} rows (first: row {bad[0]}): "
            "fix the stage that writes them"
        )
    return squares


def _start_from(
    x: npt.NDArray[np.floating],
    xsq: npt.NDArray[np.floating],
    centres: npt.NDArray[np.floating],
    dmin: npt.NDArray[np.floating],
) -> None:
    """The squared distance of each point to its nearest labelled centre, a block of rows at a time."""
    csq = _squares(centres, "labelled embeddings")
    rows = max(1, _BLOCK_ENTRIES // len(centres))
    for lo in range(0, len(x), rows):
        block = xsq[lo : lo + rows, None] - 2 * (x[lo : lo + rows] @ centres.T) + csq[None, :]
        dmin[lo : lo + rows] = block.min(axis=1)


def _farthest(dmin: npt.NDArray[np.floating], salt: np.uint64) -> int:
    best = int(np.argmax(dmin))
    tied = np.flatnonzero(dmin == dmin[best])
    if len(tied) > 1:
        best = int(tied[np.argmin(tie_keys(salt, tied.astype(np.int64)))])
    return best
