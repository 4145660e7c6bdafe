"""The bounded top-k: exact against a full sort, whatever the order and grouping of the offers."""

from __future__ import annotations

import numpy as np

from alops.al.query.topk import TopK, salt_of, tie_keys


def test_offers_in_any_grouping_give_the_full_sort() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, 5000).astype(np.float64)  # many ties
    rows = np.arange(5000, dtype=np.int64)
    salt = salt_of(7)
    keys = tie_keys(salt, rows)
    expected = np.lexsort((rows, keys, -scores))[:100]
    for group in (1, 13, 999, 5000):
        top = TopK(100, salt)
        for lo in range(0, 5000, group):
            top.offer(scores[lo : lo + group], rows[lo : lo + group], scores[lo : lo + group, None])
        top.flush()
        assert top.rows.tolist() == expected.tolist()
        assert top.payload is not None and top.payload[:, 0].tolist() == scores[expected].tolist()
        assert top.threshold == scores[expected[-1]]


def test_tie_keys_depend_on_the_seed_and_the_row_only() -> None:
    rows = np.arange(10, dtype=np.int64)
    assert tie_keys(salt_of(1), rows).tolist() == tie_keys(salt_of(1), rows).tolist()
    assert tie_keys(salt_of(1), rows).tolist() != tie_keys(salt_of(2), rows).tolist()
    assert tie_keys(salt_of(1), rows[5:]).tolist() == tie_keys(salt_of(1), rows)[5:].tolist()
    assert len(set(tie_keys(salt_of(1), np.arange(100_000, dtype=np.int64)).tolist())) == 100_000


def test_threshold_is_none_until_k_rows_are_held() -> None:
    top = TopK(3, salt_of(0))
    top.offer(np.array([0.5, 0.7]), np.array([0, 1]))
    top.flush()
    assert top.threshold is None
    top.offer(np.array([0.1, 0.9]), np.array([2, 3]))
    top.flush()
    assert top.threshold == 0.5 and top.rows.tolist() == [3, 1, 0]
