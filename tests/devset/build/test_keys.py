"""The sampler's arithmetic: quotas, candidate thresholds, shares, row keys."""

from __future__ import annotations

import random

import numpy as np
import pytest

from alops.devset.build import keys


@pytest.mark.parametrize(
    ("counts", "n", "expected"),
    [
        # Ideal 60, 20, 15, 4, 0.8, 0.2: the two small strata get one row each, the big ones share
        # the other 98 by largest remainder (59.39, 19.80, 14.85, 3.96).
        ([600, 200, 150, 40, 8, 2], 100, [59, 20, 15, 4, 1, 1]),
        ([10, 10, 10], 3, [1, 1, 1]),
        ([10, 10, 10], 2, [1, 1, 1]),  # more strata than rows: still one each
        ([5, 0, 7], 100, [5, 0, 7]),  # all of it
        ([1, 1, 1, 97], 50, [1, 1, 1, 47]),
        ([3, 3], 3, [2, 1]),  # a tie goes to the earlier stratum
    ],
)
def test_quotas(counts: list[int], n: int, expected: list[int]) -> None:
    assert keys.quotas(counts, n) == expected


def test_quotas_hold_their_promises_on_random_strata() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        counts = [rng.choice([0, 1, 2, 5, rng.randint(1, 10_000)]) for _ in range(rng.randint(1, 12))]
        live = sum(1 for c in counts if c)
        n = rng.randint(0, sum(counts) + 3)
        q = keys.quotas(counts, n)
        assert all(0 <= a <= c for a, c in zip(q, counts, strict=True))
        assert all(a >= 1 for a, c in zip(q, counts, strict=True) if c)
        assert sum(q) == (sum(counts) if n >= sum(counts) else max(n, live)), (counts, n, q)
        if n > live and n < sum(counts):
            # Strata that are not topped up to one row are within one row of their proportional share
            # of what the topped-up ones leave.
            one = [i for i, a in enumerate(q) if a == 1 and counts[i] * n < sum(counts)]
            rest, total = n - len(one), sum(c for i, c in enumerate(counts) if i not in one)
            for i, c in enumerate(counts):
                if c and i not in one:
                    assert abs(q[i] - rest * c / total) < 1, (counts, n, q)


def test_cut_keeps_everything_for_small_groups_and_tightens_as_they_grow() -> None:
    assert keys.cut(0.1, 0) == keys.MAX_KEY
    assert keys.cut(0.1, 50) == keys.MAX_KEY
    assert keys.cut(1.0, 10**9) == keys.MAX_KEY
    shares = [keys.cut(0.1, n) / 2**64 for n in (1_000, 10_000, 100_000, 1_000_000, 10_000_000)]
    assert shares == sorted(shares, reverse=True)
    assert 0.1 < shares[-1] < 0.102
    assert keys.cut(0.05, 10_000) < keys.cut(0.1, 10_000)


def test_cut_leaves_enough_candidates() -> None:
    # The worst case of the bound: a group just big enough for the threshold to be below 1.
    rng = np.random.default_rng(3)
    for rate in (0.001, 0.01, 0.1, 0.5):
        for n in (100, 1_000, 20_000):
            needed = int(rate * n) + 3
            share = keys.cut(rate, n) / 2**64
            candidates = rng.binomial(n, min(share, 1.0), size=2000)
            assert (candidates >= min(needed, n)).all(), (rate, n)


@pytest.mark.parametrize(
    ("found", "total", "n", "share", "expected"),
    [
        (40, 2000, 200, 0.05, 4),  # their share of the full data: 2%
        (40, 2000, 200, 0.01, 2),  # capped at 1% of the dev set
        (3, 2000, 200, 0.05, 1),  # 0.3 rows by share: at least one
        (0, 2000, 200, 0.05, 0),
        (40, 2000, 200, 0.0, 0),  # share 0: none
        (2, 10, 100, 0.5, 2),  # never more than there are
    ],
)
def test_share_count(found: int, total: int, n: int, share: float, expected: int) -> None:
    assert keys.share_count(found, total, n, share) == expected


def test_row_keys_are_a_pure_function_of_position() -> None:
    base = keys.block_base(0, "data.csv", 3)
    whole = keys.row_keys(base, 0, 1000)
    assert whole.dtype == np.uint64
    assert (keys.row_keys(base, 400, 600) == whole[400:]).all()
    assert len(set(whole.tolist())) == 1000
    assert keys.block_base(0, "data.csv", 3) == base
    assert len({keys.block_base(s, t, b) for s in (0, 1) for t in ("a", "b") for b in (0, 1)}) == 8
    # Uniform enough that a threshold keeps its share.
    share = (keys.row_keys(base, 0, 200_000) < np.uint64(2**62)).mean()
    assert 0.245 < share < 0.255
