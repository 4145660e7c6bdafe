"""Passes over the whole pool that k-center needs: the predicted class of every row, and chosen rows' data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alops.al.query.checks import check_block
from alops.al.query.pool import Pool
from alops.al.query.stream import BLOCK_BYTES


@dataclass(frozen=True)
class Gathered:
    """The pool's size, and the probabilities and ids (if any) of the rows asked for, in the order asked."""

    pool_size: int
    probs: npt.NDArray[np.floating]
    ids: npt.NDArray[np.generic] | None


def predicted_classes(pool: Pool, *, atol: float) -> tuple[npt.NDArray[np.int64], int]:
    """The argmax class of every row (N int64: the O(N) that per-class quotas of k-center cost) and the class count."""
    parts: list[npt.NDArray[np.int64]] = []
    classes = 0
    for chunk in pool.chunks():
        classes = chunk.probs.shape[1] if chunk.probs.ndim == 2 else 0
        for lo, block in _blocks(chunk.probs):
            ids = None if chunk.ids is None else chunk.ids[lo : lo + len(block)]
            parts.append(check_block(block, chunk.start + lo, ids, atol=atol).t.argmax(axis=0).astype(np.int64))
    return (np.concatenate(parts) if parts else np.empty(0, np.int64)), classes


def gather(pool: Pool, rows: npt.NDArray[np.int64], *, atol: float) -> Gathered:
    """Validate every row of the pool and keep those at positions ``rows``."""
    by_row = np.argsort(rows)
    wanted = rows[by_row]
    probs: list[npt.NDArray[np.floating]] = []
    ids: list[npt.NDArray[np.generic]] = []
    has_ids, size = True, 0
    for chunk in pool.chunks():
        for lo, block in _blocks(chunk.probs):
            start = chunk.start + lo
            block_ids = None if chunk.ids is None else chunk.ids[lo : lo + len(block)]
            t = check_block(block, start, block_ids, atol=atol).t
            here = wanted[(wanted >= start) & (wanted < start + len(block))] - start
            probs.append(t[:, here].T)
            if block_ids is None:
                has_ids = False
            else:
                ids.append(block_ids[here])
        size = chunk.start + len(chunk.probs)
    unsort = np.empty_like(by_row)
    unsort[by_row] = np.arange(len(by_row))
    found = np.concatenate(probs)[unsort]
    return Gathered(size, found, np.concatenate(ids)[unsort] if has_ids and ids else None)


def _blocks(probs: npt.NDArray[np.generic]) -> list[tuple[int, npt.NDArray[np.generic]]]:
    width = probs.shape[1] if probs.ndim == 2 and probs.shape[1] else 1
    rows = max(1, BLOCK_BYTES // (width * probs.itemsize))
    return [(lo, probs[lo : lo + rows]) for lo in range(0, len(probs), rows)]
