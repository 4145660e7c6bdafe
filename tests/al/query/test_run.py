"""alops.al.query against brute-force references on small random pools."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy.stats import entropy as scipy_entropy

from alops.al.query import ArrayPool, query, stream
from alops.al.query.topk import salt_of, tie_keys
from alops.errors import ConfigError, DataError

UNCERTAINTY = ("least-confidence", "margin", "entropy")


def softmax_pool(n: int, classes: int = 5, seed: int = 0, dtype: type = np.float32) -> npt.NDArray[np.floating]:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, classes)) * 2
    p = np.exp(logits)
    return (p / p.sum(axis=1, keepdims=True)).astype(dtype)


def reference_scores(strategy: str, p: npt.NDArray[np.floating], seed: int) -> npt.NDArray[np.float64]:
    p64 = p.astype(np.float64)
    if strategy == "least-confidence":
        return 1 - p64.max(axis=1)
    if strategy == "margin":
        top = np.sort(p64, axis=1)
        return 1 - (top[:, -1] - top[:, -2])
    if strategy == "entropy":
        return np.asarray(scipy_entropy(p64.T), dtype=np.float64)
    keys = tie_keys(salt_of(seed), np.arange(len(p), dtype=np.int64))
    return (keys >> np.uint64(11)).astype(np.float64) * 2.0**-53


def reference(strategy: str, p: npt.NDArray[np.floating], k: int, seed: int) -> npt.NDArray[np.int64]:
    """Score every row, sort by score then seeded tie key then row: the first k."""
    scores = reference_scores(strategy, p, seed)
    rows = np.arange(len(p), dtype=np.int64)
    keys = tie_keys(salt_of(seed), rows)
    return np.lexsort((rows, keys, -np.round(scores, 12)))[:k]


@pytest.mark.parametrize("strategy", [*UNCERTAINTY, "random"])
@pytest.mark.parametrize("k", [1, 37, 500])
def test_each_strategy_matches_brute_force(strategy: str, k: int) -> None:
    p = softmax_pool(500, seed=k)
    result = query(p, strategy, k, seed=3)
    assert result.indices.tolist() == reference(strategy, p, k, 3).tolist()
    np.testing.assert_allclose(result.scores, reference_scores(strategy, p, 3)[result.indices], rtol=1e-9)
    assert (np.diff(result.scores) <= 0).all()
    assert result.strategy == strategy and result.pool_size == 500 and len(result) == k
    np.testing.assert_array_equal(result.probabilities, p[result.indices])


def test_pruned_streaming_equals_scoring_every_row_on_a_large_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small blocks: entropy's Fano pruning and the pending merges are exercised, the result is unchanged."""
    monkeypatch.setattr(stream, "BLOCK_BYTES", 4096)
    p = softmax_pool(60_000, classes=10, seed=1)
    for strategy in UNCERTAINTY:
        assert query(p, strategy, 300, seed=5).indices.tolist() == reference(strategy, p, 300, 5).tolist()


@pytest.mark.parametrize("strategy", [*UNCERTAINTY, "random", "hybrid"])
def test_chunked_equals_unchunked(strategy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    p = softmax_pool(3000, seed=2, dtype=np.float64)
    whole = query(p, strategy, 100, seed=9)
    monkeypatch.setattr(stream, "BLOCK_BYTES", 1000)
    chunked = query(ArrayPool(p, chunk_rows=333), strategy, 100, seed=9)
    assert chunked.indices.tolist() == whole.indices.tolist()
    np.testing.assert_array_equal(chunked.scores, whole.scores)


def test_ties_are_broken_by_the_seed_reproducibly() -> None:
    """Every row equally uncertain: the batch is a seeded draw, the same for the same seed, another for another."""
    p = np.full((1000, 4), 0.25, np.float32)
    first, again, other = (query(p, "margin", 10, seed=s).indices.tolist() for s in (1, 1, 2))
    assert first == again
    assert first != other
    assert first == reference("margin", p, 10, 1).tolist()
    # Not the first rows, as a stable argsort would give.
    assert first != list(range(10))


def test_k_equal_to_the_pool_takes_every_row_in_score_order() -> None:
    p = softmax_pool(50)
    result = query(p, "entropy", 50)
    assert sorted(result.indices.tolist()) == list(range(50))
    assert (np.diff(result.scores) <= 0).all()


def test_ids_travel_with_their_rows() -> None:
    p = softmax_pool(200)
    ids = np.array([f"sample-{i:03d}" for i in range(200)], dtype=object)
    result = query(ArrayPool(p, ids=ids, chunk_rows=64), "least-confidence", 5)
    assert result.ids is not None
    assert result.ids.tolist() == [f"sample-{i:03d}" for i in result.indices]
    first = next(result.rows())
    assert (first.index, first.id, first.strategy) == (int(result.indices[0]), result.ids[0], "least-confidence")
    assert first.predicted == int(p[first.index].argmax())


@pytest.mark.parametrize("strategy", ["margin", "random", "hybrid"])
def test_quotas_take_that_many_rows_of_each_predicted_class(strategy: str) -> None:
    p = softmax_pool(2000, classes=4, seed=4)
    quotas = {0: 5, 2: 15}
    result = query(p, strategy, 20, quotas=quotas, seed=1)
    predicted = p[result.indices].argmax(axis=1)
    assert {c: int((predicted == c).sum()) for c in (0, 1, 2, 3)} == {0: 5, 1: 0, 2: 15, 3: 0}
    if strategy == "margin":
        mine = np.flatnonzero(p.argmax(axis=1) == 2)
        best = mine[reference("margin", p[mine], 15, 1)]
        assert set(result.indices[predicted == 2].tolist()) <= set(mine.tolist())
        scores = reference_scores("margin", p, 1)
        assert scores[result.indices[predicted == 2]].min() >= scores[best].min()


def test_hybrid_batch_is_more_diverse_than_margin_top_k() -> None:
    """Hard cases come in tight clusters, one of them large: margin takes k copies of one case, the hybrid spreads."""
    rng = np.random.default_rng(0)
    n, k = 5000, 20
    centres = rng.standard_normal((8, 16)) * 10
    cluster = rng.integers(0, 8, n)
    embeddings = centres[cluster] + rng.standard_normal((n, 16)) * 0.1
    p = softmax_pool(n, classes=3, seed=5, dtype=np.float64)

    def hard_cases(rows: npt.NDArray[np.int64], margin: float) -> None:
        jitter = rng.uniform(0, margin, len(rows))
        p[rows] = np.stack([0.4 + jitter, np.full(len(rows), 0.4), 0.2 - jitter], axis=1)

    hard_cases(np.flatnonzero(cluster == 0)[:300], 1e-5)  # 300 near-copies of the hardest case, in one cluster
    hard_cases(np.flatnonzero(cluster != 0)[:100], 1e-3)  # a little easier, in the seven others
    by_margin = query(p, "margin", k)
    hybrid = query(p, "hybrid", k, embeddings=embeddings, shortlist_factor=20)

    def clusters(result_indices: npt.NDArray[np.int64]) -> int:
        return len(set(cluster[result_indices].tolist()))

    def spread(result_indices: npt.NDArray[np.int64]) -> float:
        points = embeddings[result_indices]
        return float(np.linalg.norm(points[:, None] - points[None], axis=2).mean())

    assert clusters(by_margin.indices) == 1
    assert clusters(hybrid.indices) >= 6
    assert spread(hybrid.indices) > 20 * spread(by_margin.indices)
    # Ranked by margin, so the batch still starts with the hardest cases.
    assert (np.diff(hybrid.scores) <= 0).all()


def test_hybrid_without_embeddings_spreads_in_probability_space() -> None:
    p = softmax_pool(1000, classes=3, seed=6)
    p[:200] = [0.34, 0.33, 0.33]
    result = query(p, "hybrid", 10, shortlist_factor=50)
    assert len(set(map(tuple, np.round(result.probabilities, 2)))) > 5


def test_k_center_strategy_reports_distances_and_starts_from_the_labelled_set() -> None:
    rng = np.random.default_rng(1)
    embeddings = rng.standard_normal((300, 4))
    p = softmax_pool(300)
    result = query(p, "k-center", 10, embeddings=embeddings, labelled=embeddings[:5] + 0.01)
    assert np.isfinite(result.scores).all() and (np.diff(result.scores) <= 0).all()
    assert not set(result.indices.tolist()) & set(range(5))
    np.testing.assert_array_equal(result.probabilities, p[result.indices])
    quota = query(p, "k-center", 6, embeddings=embeddings, quotas={1: 6})
    assert (p[quota.indices].argmax(axis=1) == 1).all()


BAD_POOLS = [
    ("nan", lambda p: p.__setitem__((7, 1), np.nan), "row 7 of the pool has a NaN or infinite probability"),
    ("inf", lambda p: p.__setitem__((3, 0), np.inf), "row 3 of the pool has a NaN or infinite probability"),
    ("negative", lambda p: p.__setitem__((4, 0), -0.5), "row 4 of the pool has a negative probability (-0.5)"),
    ("logits", lambda p: p.__setitem__(9, [2.0, 1.0, 0.5]), "row 9 of the pool sums to 3.5, 2.5 off 1 (allowed: 0.01)"),
]


@pytest.mark.parametrize(("name", "spoil", "message"), BAD_POOLS, ids=[b[0] for b in BAD_POOLS])
def test_bad_probabilities_are_data_errors_naming_the_row(name: str, spoil: object, message: str) -> None:
    p = softmax_pool(20, classes=3, dtype=np.float64)
    spoil(p)  # type: ignore[operator]
    with pytest.raises(DataError) as caught:
        query(p, "margin", 2)
    assert str(caught.value).startswith(message)
    assert "the scoring stage must write class probabilities" in str(caught.value)


def test_the_message_names_the_sample_id_and_counts_the_other_bad_rows() -> None:
    p = softmax_pool(20, classes=3, dtype=np.float64)
    p[[2, 5, 6]] = [0.5, 0.5, 0.5]
    ids = np.array([100 + i for i in range(20)])
    with pytest.raises(DataError, match=r"^row 2 \(id 102\) of the pool sums to 1.5, 0.5 off 1 .*; 2 more such rows"):
        query(ArrayPool(p, ids=ids), "entropy", 2)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p: query(p, "k-centre", 3), ConfigError, "unknown query strategy 'k-centre': use one of random, "),
        (lambda p: query(p, "margin", 0), ConfigError, "the batch size must be at least 1, not 0"),
        (lambda p: query(p, "margin", 21), ConfigError, "the batch size 21 is larger than the pool (20 rows)"),
        (lambda p: query(p[:0], "margin", 1), DataError, "the pool is empty: there is nothing to query"),
        (lambda p: query(p[:, :1], "margin", 1), DataError, "the pool's probabilities have shape (20, 1)"),
        (lambda p: query(p[:, 0], "margin", 1), DataError, "the pool's probabilities have shape (20,)"),
        (lambda p: query(p, "margin", 3, quotas={0: 1}), ConfigError, "the per-class quotas {0: 1} must be counts"),
        (lambda p: query(p, "margin", 3, quotas={7: 3}), ConfigError, "a quota names class 7, but the pool has 3"),
        (lambda p: query(p, "margin", 3, quotas={0: 3}), ConfigError, "the quota of class 0 is 3, but only 0 rows"),
        (lambda p: query(p, "k-center", 3), ConfigError, "k-center needs the pool's embeddings"),
        (lambda p: query(p, "hybrid", 3, embeddings=np.ones((5, 2))), DataError, "the pool has 20 rows but 5 emb"),
        (lambda p: query(p, "k-center", 3, embeddings=np.ones((5, 2))), DataError, "the pool has 20 rows but 5 emb"),
        (lambda p: query(p.astype(str), "margin", 1), DataError, "the pool's probabilities are <U"),
    ],
)
def test_bad_calls_say_what_is_wrong(call: object, error: type[Exception], message: str) -> None:
    p = np.tile(np.array([[0.2, 0.3, 0.5]]), (20, 1))
    p[:, 0] += np.linspace(0, 0.01, 20)
    p[:, 1] -= np.linspace(0, 0.01, 20)
    with pytest.raises(error) as caught:
        call(p)  # type: ignore[operator]
    assert str(caught.value).startswith(message)
