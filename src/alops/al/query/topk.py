"""A bounded top-k over a stream of scored rows, with seeded, chunking-independent tie-breaking.

Rows are ordered by score (higher first), then by a tie key: a 64-bit hash of the
seed and the row's position in the pool (splitmix64's finaliser). The key depends on
nothing but the seed and the row, so the order is total and the same however the pool
is cut into chunks, and tied rows are taken in an order that looks random and changes
with the seed. A tie key is computed only for rows that may enter the batch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from alops.splitmix import mix

Ints = npt.NDArray[np.int64]
Floats64 = npt.NDArray[np.float64]
Keys = npt.NDArray[np.uint64]

#: Fewest candidates merged at once: below it, sorting costs more than the rows it sorts.
_MIN_PENDING = 4096


def salt_of(seed: int) -> np.uint64:
    """The hash salt of a seed, drawn from numpy's Generator so any int seed spreads over 64 bits."""
    return np.random.default_rng(seed).integers(0, 2**64, dtype=np.uint64)


def tie_keys(salt: np.uint64, rows: Ints) -> Keys:
    """splitmix64 of ``salt + row``: a seeded pseudo-random permutation key of each pool row."""
    return mix(rows.astype(np.uint64) + salt)


def order(scores: Floats64, keys: Keys, rows: Ints) -> Ints:
    """Positions sorted by score descending, then tie key, then row (lexsort's last key is the first)."""
    return np.lexsort((rows, keys, -scores)).astype(np.int64)


class TopK:
    """The k best rows seen so far, each with its score, tie key and an optional payload row."""

    def __init__(self, k: int, salt: np.uint64) -> None:
        self.k = k
        self.salt = salt
        self.scores: Floats64 = np.empty(0, np.float64)
        self.keys: Keys = np.empty(0, np.uint64)
        self.rows: Ints = np.empty(0, np.int64)
        self.payload: npt.NDArray[np.generic] | None = None
        self.ids: npt.NDArray[np.generic] | None = None
        self._pending: list[tuple[Floats64, Ints, npt.NDArray[np.generic] | None, npt.NDArray[np.generic] | None]] = []
        self._count = 0

    @property
    def threshold(self) -> float | None:
        """The k-th best score once k rows are held: a row scoring below it cannot enter."""
        return float(self.scores[-1]) if len(self.scores) >= self.k else None

    def offer(
        self,
        scores: Floats64,
        rows: Ints,
        payload: npt.NDArray[np.generic] | None = None,
        ids: npt.NDArray[np.generic] | None = None,
    ) -> None:
        """Add candidate rows (global positions ``rows``); they are merged in by :meth:`flush`.

        Candidates wait until k of them are pending, so a stream that offers a few rows
        per block sorts rarely; the threshold they were filtered with is only lower.
        """
        if self.k == 0 or len(rows) == 0:
            return
        self._pending.append((scores, rows, payload, ids))
        self._count += len(rows)
        if self._count >= max(self.k, _MIN_PENDING):
            self.flush()

    def flush(self) -> None:
        """Merge the pending candidates into the top k."""
        if not self._pending:
            return
        scores = np.concatenate([self.scores, *(p[0] for p in self._pending)])
        rows = np.concatenate([self.rows, *(p[1] for p in self._pending)])
        payloads = [p[2] for p in self._pending]
        payload = None if payloads[0] is None else _join(self.payload, payloads)
        idss = [p[3] for p in self._pending]
        ids = None if idss[0] is None else _join(self.ids, idss)
        held = len(self.keys)
        self._pending, self._count = [], 0
        if len(scores) > self.k:
            # Keep every row tied with the k-th best: its tie key may still win.
            kth = np.partition(scores, len(scores) - self.k)[len(scores) - self.k]
            keep = np.flatnonzero(scores >= kth)
        else:
            keep = np.arange(len(scores))
        new = keep[keep >= held]
        keys = np.concatenate([self.keys[keep[keep < held]], tie_keys(self.salt, rows[new])])
        scores, rows = scores[keep], rows[keep]
        best = order(scores, keys, rows)[: self.k]
        self.scores, self.keys, self.rows = scores[best], keys[best], rows[best]
        self.payload = None if payload is None else payload[keep][best]
        self.ids = None if ids is None else ids[keep][best]


def _join(held: npt.NDArray[np.generic] | None, parts: list[npt.NDArray[np.generic] | None]) -> npt.NDArray[np.generic]:
    arrays = [a for a in (held, *parts) if a is not None]
    return np.concatenate(arrays)
