"""One pass over the pool: validate each block of probabilities and keep the best rows for a strategy.

Blocks are about 1 MB (``BLOCK_BYTES``), so each stays in cache while it is
validated, transposed and scored (1 MB ran 15-20 % faster than 256 KB: fewer numpy
calls per row); extra memory is a few blocks plus the top-k, whatever the pool's
size. With quotas there is one top-k per class, fed the rows predicted (argmax) as
that class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from alops.al.query.checks import check_block
from alops.al.query.pool import Pool
from alops.al.query.scores import entropy, least_confidence, margin, margin_gap, max_bound
from alops.al.query.topk import TopK, tie_keys

Scored = Literal["random", "least-confidence", "margin", "entropy"]
BLOCK_BYTES = 1 << 20
_SLACK = 1e-6


@dataclass(frozen=True)
class Best:
    """The pool's size and classes, and the best rows of each class (key ``None`` without quotas)."""

    pool_size: int
    classes: int
    tops: dict[int | None, TopK]


def best_rows(pool: Pool, strategy: Scored, counts: Mapping[int | None, int], *, salt: np.uint64, atol: float) -> Best:
    """Stream ``pool`` once and keep ``counts[c]`` best rows of each predicted class c (or of all: key None)."""
    tops = {c: TopK(n, salt) for c, n in counts.items()}
    size, classes = 0, 0
    for chunk in pool.chunks():
        probs = chunk.probs
        classes = probs.shape[1] if probs.ndim == 2 else 0
        rows = max(1, BLOCK_BYTES // (max(classes, 1) * probs.itemsize))
        for lo in range(0, len(probs), rows):
            block = probs[lo : lo + rows]
            ids = None if chunk.ids is None else chunk.ids[lo : lo + rows]
            _offer(block, chunk.start + lo, ids, strategy, tops, salt=salt, atol=atol)
        size = chunk.start + len(probs)
    for top in tops.values():
        top.flush()
    return Best(size, classes, tops)


def _offer(
    block: npt.NDArray[np.floating],
    start: int,
    ids: npt.NDArray[np.generic] | None,
    strategy: Scored,
    tops: dict[int | None, TopK],
    *,
    salt: np.uint64,
    atol: float,
) -> None:
    checked = check_block(block, start, ids, atol=atol)
    thresholds = [top.threshold for top in tops.values()]
    threshold = None if None in thresholds else min(t for t in thresholds if t is not None)
    if strategy == "entropy":
        local = np.arange(len(block))
        if threshold is not None:
            local = np.flatnonzero(checked.top <= max_bound(threshold, len(checked.t), atol))
        scores = entropy(checked.t[:, local])
    elif strategy == "random":
        scores = _uniform(tie_keys(salt, np.arange(start, start + len(block), dtype=np.int64)))
        local = np.arange(len(block)) if threshold is None else np.flatnonzero(scores >= threshold)
        scores = scores[local]
    else:
        # A float32 pre-filter, loosened by more than float32's rounding; exact float64 scores for the rows it keeps.
        local = np.arange(len(block))
        if threshold is not None:
            limit = (1.0 - threshold) * (1 + _SLACK) + _SLACK
            spread = margin_gap(checked.t) if strategy == "margin" else checked.top
            local = np.flatnonzero(spread <= limit)
        scores = margin(checked.t[:, local]) if strategy == "margin" else least_confidence(checked.top[local])
    if threshold is not None:
        keep = scores >= threshold
        local, scores = local[keep], scores[keep]
    if not len(local):
        return
    rows = checked.t[:, local].T
    picked = None if ids is None else ids[local]
    if None in tops:
        tops[None].offer(scores, start + local, rows, picked)
        return
    predicted = rows.argmax(axis=1)
    for c, top in tops.items():
        mine = np.flatnonzero(predicted == c)
        top.offer(scores[mine], start + local[mine], rows[mine], None if picked is None else picked[mine])


def _uniform(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """The top 53 bits of a tie key as a float in [0, 1): the random strategy's score."""
    return (keys >> np.uint64(11)).astype(np.float64) * 2.0**-53
