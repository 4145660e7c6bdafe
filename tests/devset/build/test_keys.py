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


def _splitmix64(x: int) -> int:
    """The splitmix64 finaliser, in Python integers (Steele, Lea, Flood 2014; Vigna's reference C)."""
    mask = keys.MAX_KEY
    z = (x + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_row_keys_are_splitmix64_of_base_plus_position() -> None:
    # Vigna's splitmix64 seeded with 0 starts with 0xE220A8397B1DCDAF.
    assert int(keys.row_keys(0, 0, 1)[0]) == 0xE220A8397B1DCDAF
    for base in (0, 1, keys.block_base(7, "t.csv", 0), keys.MAX_KEY, keys.MAX_KEY - 0x9E3779B97F4A7C15):
        got = [int(k) for k in keys.row_keys(base, 5, 4)]
        assert got == [_splitmix64((base + i) & keys.MAX_KEY) for i in range(5, 9)], hex(base)


def test_keys_are_the_same_in_every_version() -> None:
    # Pinned values: a change here changes every dev set ever built (reruns would no longer reproduce them).
    base = keys.block_base(0, "data.csv", 3)
    assert base == 0x2D8D7E0348390B64
    assert [int(k) for k in keys.row_keys(base, 0, 3)] == [0xDC7FD4CF8600CC42, 0x663D1EE4A5D70F9C, 0xAEE403E4D6D27B50]


def test_cut_is_the_documented_share_of_the_key_range() -> None:
    # rate + (Z·sqrt(rate·n) + Z² + 3) / n = 0.1 + (8·sqrt(1000) + 67) / 10000
    assert keys.cut(0.1, 10_000) == int((0.1 + (8 * 1000**0.5 + 67) / 10_000) * 2.0**64)
    # Rate 0 still keeps a few candidates per stratum (each stratum gets at least one row).
    assert keys.cut(0.0, 10**6) == int(67 / 10**6 * 2.0**64)
    assert keys.cut(0.0, 67) == keys.MAX_KEY


@pytest.mark.parametrize(
    ("counts", "n", "expected"),
    [
        ([], 3, []),
        ([0, 0], 5, [0, 0]),  # nothing to take
        ([5, 5], 0, [1, 1]),  # at least one per stratum, even of none wanted
        ([4, 0, 4], 1, [1, 0, 1]),  # an empty stratum gets none
        ([7], 3, [3]),
    ],
)
def test_quotas_edges(counts: list[int], n: int, expected: list[int]) -> None:
    assert keys.quotas(counts, n) == expected
