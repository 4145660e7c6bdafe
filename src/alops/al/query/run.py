"""Choose a batch of the unlabelled pool to label: :func:`query`, the one entry point of alops.al."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np
import numpy.typing as npt

from alops.al.query.kcenter import k_center
from alops.al.query.pool import ArrayPool, Pool
from alops.al.query.result import STRATEGIES, QueryResult, Strategy
from alops.al.query.stream import Best, best_rows
from alops.al.query.topk import TopK, order, salt_of, tie_keys
from alops.al.query.whole import gather, predicted_classes
from alops.errors import ConfigError, DataError

#: The hybrid's shortlist: this many times the batch size of the most uncertain rows (by margin).
SHORTLIST_FACTOR = 10
#: How far a row's probabilities may sum from 1 (CSV files round them).
ROW_SUM_TOLERANCE = 1e-2


def query(
    pool: Pool | npt.NDArray[np.floating],
    strategy: str,
    k: int,
    *,
    seed: int = 0,
    quotas: Mapping[int, int] | None = None,
    embeddings: npt.NDArray[np.floating] | None = None,
    labelled: npt.NDArray[np.floating] | None = None,
    shortlist_factor: int = SHORTLIST_FACTOR,
    atol: float = ROW_SUM_TOLERANCE,
) -> QueryResult:
    """The ``k`` most informative rows of ``pool`` for ``strategy``, most informative first.

    ``pool`` holds class probabilities (N x C), as an array or a :class:`Pool` read
    chunk by chunk. ``quotas`` maps a class index to how many rows predicted as that
    class the batch takes (they sum to ``k``). k-center needs ``embeddings`` (N x d)
    and starts from ``labelled`` (the labelled set's embeddings) when given; the
    hybrid shortlists the ``shortlist_factor * k`` rows of smallest margin and runs
    k-center on their embeddings (their probabilities without embeddings). Ties are
    broken in an order drawn from ``seed``; the same inputs and seed give the same batch.
    """
    chosen = _strategy(strategy)
    counts = _counts(k, quotas, shortlist_factor, atol)
    source: Pool = ArrayPool(pool) if isinstance(pool, np.ndarray) else pool
    salt = salt_of(seed)
    if chosen == "k-center":
        if embeddings is None:
            raise ConfigError("k-center needs the pool's embeddings: have the scoring stage write them")
        return _k_center(source, chosen, counts, embeddings, labelled, seed, salt, atol)
    scored = "margin" if chosen == "hybrid" else chosen
    wanted = {c: n * shortlist_factor if chosen == "hybrid" else n for c, n in counts.items()}
    best = best_rows(source, scored, wanted, salt=salt, atol=atol)
    _check_pool(best.pool_size, best.classes, counts)
    _check_quotas({c: len(top.rows) for c, top in best.tops.items()}, counts)
    if chosen == "hybrid":
        _diversify(best, counts, embeddings, labelled, salt)
    tops = list(best.tops.values())
    scores = np.concatenate([t.scores for t in tops])
    keys = np.concatenate([t.keys for t in tops])
    rows = np.concatenate([t.rows for t in tops])
    probs = np.concatenate([_payload(t) for t in tops])
    ids = None if any(t.ids is None for t in tops) else np.concatenate([t.ids for t in tops if t.ids is not None])
    ranked = order(scores, keys, rows)
    return QueryResult(
        chosen, seed, best.pool_size, rows[ranked], scores[ranked], probs[ranked],
        None if ids is None else ids[ranked], source.classes,
    )  # fmt: skip


def _diversify(
    best: Best,
    counts: Mapping[int | None, int],
    embeddings: npt.NDArray[np.floating] | None,
    labelled: npt.NDArray[np.floating] | None,
    salt: np.uint64,
) -> None:
    """Cut each class's margin shortlist down to its count with k-center, in place."""
    if embeddings is not None and len(embeddings) != best.pool_size:
        raise DataError(f"the pool has {best.pool_size} rows but {len(embeddings)} embeddings: score both at once")
    for c, top in best.tops.items():
        # Sorted rows read a memory-mapped embeddings file front to back.
        by_row = np.argsort(top.rows)
        points = _payload(top)[by_row] if embeddings is None else embeddings[top.rows[by_row]]
        picks, _ = k_center(points, counts[c], salt=salt, centres=None if embeddings is None else labelled)
        keep = by_row[picks]
        top.scores, top.keys, top.rows = top.scores[keep], top.keys[keep], top.rows[keep]
        top.payload = _payload(top)[keep]
        top.ids = None if top.ids is None else top.ids[keep]


def _k_center(
    pool: Pool,
    strategy: Strategy,
    counts: Mapping[int | None, int],
    embeddings: npt.NDArray[np.floating],
    labelled: npt.NDArray[np.floating] | None,
    seed: int,
    salt: np.uint64,
    atol: float,
) -> QueryResult:
    predicted, classes = predicted_classes(pool, atol=atol) if None not in counts else (None, 0)
    size = len(embeddings) if predicted is None else len(predicted)
    if size != len(embeddings):
        raise DataError(f"the pool has {size} rows but {len(embeddings)} embeddings: score both at once")
    _check_pool(size, classes, counts)
    if predicted is not None:
        _check_quotas({c: int((predicted == c).sum()) for c in counts}, counts)
    picks, scores = [], []
    for c, n in counts.items():
        mine, distances = k_center(
            embeddings, n, salt=salt, centres=labelled, allowed=None if predicted is None else predicted == c
        )
        picks.append(mine)
        scores.append(distances)
    rows, score = np.concatenate(picks), np.concatenate(scores)
    ranked = order(score, tie_keys(salt, rows), rows)
    found = gather(pool, rows[ranked], atol=atol)
    if found.pool_size != size:
        raise DataError(f"the pool has {found.pool_size} rows but {size} embeddings: score both at once")
    return QueryResult(strategy, seed, size, rows[ranked], score[ranked], found.probs, found.ids, pool.classes)


def _strategy(name: str) -> Strategy:
    for known in STRATEGIES:
        if name == known:
            return known
    raise ConfigError(f"unknown query strategy {name!r}: use one of {', '.join(STRATEGIES)}")


def _counts(k: int, quotas: Mapping[int, int] | None, factor: int, atol: float) -> dict[int | None, int]:
    if k < 1:
        raise ConfigError(f"the batch size must be at least 1, not {k}")
    if factor < 1:
        raise ConfigError(f"the hybrid's shortlist factor must be at least 1, not {factor}")
    if not 0 < atol < 1:
        raise ConfigError(f"the tolerance on row sums must be between 0 and 1, not {atol}")
    if quotas is None:
        return {None: k}
    if any(n < 0 for n in quotas.values()) or sum(quotas.values()) != k:
        raise ConfigError(f"the per-class quotas {dict(quotas)} must be counts >= 0 that add up to the batch size {k}")
    return {c: n for c, n in quotas.items() if n > 0}


def _check_pool(size: int, classes: int, counts: Mapping[int | None, int]) -> None:
    if size == 0:
        raise DataError("the pool is empty: there is nothing to query (is every sample labelled already?)")
    k = sum(counts.values())
    if k > size:
        raise ConfigError(f"the batch size {k} is larger than the pool ({size} rows): ask for at most {size}")
    for c in counts:
        if c is not None and classes and not 0 <= c < classes:
            raise ConfigError(f"a quota names class {c}, but the pool has {classes} classes (0 to {classes - 1})")


def _check_quotas(available: Mapping[int | None, int], counts: Mapping[int | None, int]) -> None:
    for c, n in counts.items():
        if c is not None and available[c] < n:
            raise ConfigError(
                f"the quota of class {c} is {n}, but only {available[c]} rows of the pool are predicted as "
                f"class {c}: lower that quota"
            )


def _payload(top: TopK) -> npt.NDArray[np.floating]:
    assert top.payload is not None or len(top.rows) == 0
    return np.empty((0, 0)) if top.payload is None else cast("npt.NDArray[np.floating]", top.payload)
