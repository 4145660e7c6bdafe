from __future__ import annotations

import time
from itertools import combinations, product
from math import prod

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alops.matrix import covering
from alops.matrix.covering import Rule, generate, normalize

Row = tuple[int, ...]


def reference(sizes: list[int], rules: list[Rule], defaults: list[int]) -> list[Row]:
    """Every valid distinct row, by brute force through :func:`normalize` (the one definition of the rules)."""
    out = set()
    for raw in product(*(range(s) for s in sizes)):
        row, ok = normalize(list(raw), rules, defaults)
        if ok:
            out.add(tuple(row))
    return sorted(out)


def elements(row: Row) -> set[tuple[int, int, int, int]]:
    """The pairs of relevant values of a row (and each single value, as (f, v, f, v))."""
    live = [(f, v) for f, v in enumerate(row) if v >= 0]
    return {(f, v, f, v) for f, v in live} | {(i, a, j, b) for (i, a), (j, b) in combinations(live, 2)}


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[int], list[Rule], list[int], int]:
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=7))
    while prod(sizes) > 3000:  # the brute-force reference stays fast
        sizes[sizes.index(max(sizes))] -= 1
    k = len(sizes)
    defaults = [draw(st.integers(0, s - 1)) for s in sizes]
    rules = []
    for _ in range(draw(st.integers(0, 3))):
        when_f = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=2, unique=True))
        when = {f: frozenset(draw(st.lists(st.integers(0, sizes[f] - 1), min_size=1, max_size=2))) for f in when_f}
        others = [f for f in range(k) if f not in when]
        irrelevant = frozenset(draw(st.lists(st.sampled_from(others), max_size=2))) if others else frozenset()
        exclude = {}
        if others and (not irrelevant or draw(st.booleans())):
            f = draw(st.sampled_from(others))
            exclude[f] = frozenset({draw(st.integers(0, sizes[f] - 1))})
        if irrelevant or exclude:
            rules.append(Rule(when, irrelevant, exclude))
    cap = draw(st.integers(1, 80))
    return sizes, rules, defaults, cap


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 3))
def test_covering_properties(problem: tuple[list[int], list[Rule], list[int], int], seed: int) -> None:
    sizes, rules, defaults, cap = problem
    valid = reference(sizes, rules, defaults)
    result = generate(sizes, rules, defaults, cap=cap, seed=seed)
    rows = [tuple(r) for r in result.rows]
    assert result.total == len(valid) and result.exact
    assert set(rows) <= set(valid), "every row is valid and in its canonical form (irrelevant: -1)"
    assert len(set(rows)) == len(rows), "no row twice"
    if len(valid) <= cap:
        assert not result.pairwise
        assert rows == valid, "the full product, in product order"
    else:
        assert result.pairwise
        needed = set().union(*(elements(r) for r in valid))
        covered = set().union(*(elements(r) for r in rows)) if rows else set()
        assert needed <= covered, "every pair some valid row has is covered"
    assert generate(sizes, rules, defaults, cap=cap, seed=seed) == result, "deterministic"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=7), st.integers(0, 2))
def test_pairwise_without_rules_covers_every_pair(sizes: list[int], seed: int) -> None:
    result = generate(sizes, cap=1, seed=seed)
    covered = set().union(*(elements(tuple(r)) for r in result.rows))
    assert len(covered) == sum(sizes) + sum(a * b for a, b in combinations(sizes, 2))
    assert result.total == prod(sizes)
    assert len(result.rows) <= prod(sizes)


def test_every_forces_the_full_product() -> None:
    result = generate([3, 3, 3], cap=5, every=True)
    assert not result.pairwise and len(result.rows) == 27


def test_eight_factors_of_five_values_take_at_most_37_rows_in_under_a_second() -> None:
    start = time.perf_counter()
    result = generate([5] * 8, cap=64)
    elapsed = time.perf_counter() - start
    assert result.pairwise and result.total == 5**8
    assert 25 <= len(result.rows) <= 37  # allpairspy: 45; no set has fewer than 5 x 5
    assert elapsed < 2.0  # about 0.3 s here; slack for a busy CI runner


def test_another_seed_gives_another_valid_set() -> None:
    a, b = generate([4] * 6, cap=1, seed=0), generate([4] * 6, cap=1, seed=1)
    assert a.rows != b.rows


# --- the skeleton's constraints -------------------------------------------------------------
# train.model (logreg, forest), train.C (0.1, 1, 10), train.n_estimators (50, 100, 200), prepare.test_size (0.2, 0.3)
SIZES = [2, 3, 3, 2]
DEFAULTS = [0, 1, 1, 0]  # params.yaml: logreg, 1.0, 100, 0.2
LOGREG, FOREST = frozenset({0}), frozenset({1})
SKELETON = [
    Rule({0: LOGREG}, irrelevant=frozenset({2})),
    Rule({0: FOREST}, irrelevant=frozenset({1})),
    Rule({0: FOREST}, exclude={3: frozenset({1})}),
]


def test_irrelevant_parameters_are_not_varied() -> None:
    result = generate(SIZES, SKELETON, DEFAULTS, cap=64)
    assert not result.pairwise
    assert result.rows == [[0, 0, -1, 0], [0, 0, -1, 1], [0, 1, -1, 0], [0, 1, -1, 1], [0, 2, -1, 0], [0, 2, -1, 1]] + [
        [1, -1, 0, 0],
        [1, -1, 1, 0],
        [1, -1, 2, 0],
    ]


def test_excluded_values_are_never_combined() -> None:
    assert normalize([1, 0, 0, 1], SKELETON, DEFAULTS) == ([1, -1, 0, 1], False)
    assert normalize([0, 0, 0, 1], SKELETON, DEFAULTS) == ([0, 0, -1, 1], True)


def test_pairwise_under_the_skeletons_constraints() -> None:
    result = generate(SIZES, SKELETON, DEFAULTS, cap=4)
    assert result.pairwise and result.total == 9
    rows = [tuple(r) for r in result.rows]
    assert all(r[0] == 0 and r[2] == -1 or r[0] == 1 and r[1] == -1 and r[3] == 0 for r in rows)
    # logreg: each C with each test size (6 pairs need 6 rows); forest: each n_estimators.
    assert len(rows) == 9


def test_an_irrelevant_parameter_counts_with_its_default() -> None:
    # When a is 0, b is irrelevant and keeps its default 1; b == 1 excludes c == 0.
    rules = [
        Rule({0: frozenset({0})}, irrelevant=frozenset({1})),
        Rule({1: frozenset({1})}, exclude={2: frozenset({0})}),
    ]
    assert normalize([0, 0, 0], rules, [0, 1, 0]) == ([0, -1, 0], False)
    assert normalize([1, 0, 0], rules, [0, 1, 0]) == ([1, 0, 0], True)


def test_no_valid_row_gives_no_rows() -> None:
    rules = [Rule({0: frozenset({0, 1})}, exclude={1: frozenset({0, 1})})]
    assert generate([2, 2], rules, [0, 0], cap=1).rows == []


@pytest.mark.parametrize("sizes", [[2] * 25, [3] * 14])
def test_too_many_to_enumerate_still_covers_every_pair(sizes: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(covering, "ENUMERATE_LIMIT", 1000)
    rules = [Rule({0: frozenset({0})}, irrelevant=frozenset({1}), exclude={2: frozenset({1})})]
    result = generate(sizes, rules, [0] * len(sizes), cap=64)
    assert result.pairwise and not result.exact and result.total == prod(sizes)
    rows = [tuple(r) for r in result.rows]
    assert all(normalize([max(v, 0) for v in r], rules, [0] * len(sizes)) == (list(r), True) for r in rows)
    covered = set().union(*(elements(r) for r in rows))
    # Every pair of factors 3.. is free of the rules: all of them are covered.
    assert all(
        (i, a, j, b) in covered for i, j in combinations(range(3, len(sizes)), 2) for a in (0, 1) for b in (0, 1)
    )


def test_rows_with_irrelevant_parameters_are_shrunk_too() -> None:
    f = frozenset
    rules = [
        Rule({0: f({0})}, irrelevant=f({1, 2})),
        Rule({0: f({1})}, irrelevant=f({3})),
        Rule({4: f({0})}, exclude={5: f({0, 1})}),
    ]
    sizes, defaults = [3, 4, 4, 4, 3, 3, 3, 3], [0] * 8
    result = generate(sizes, rules, defaults, cap=64)
    valid = reference(sizes, rules, defaults)
    rows = [tuple(r) for r in result.rows]
    assert set(rows) <= set(valid)
    assert set().union(*(elements(r) for r in valid)) <= set().union(*(elements(r) for r in rows))
    assert len(rows) <= 26  # the greedy alone: 27; 16 at least (f0 = 2 is the only row where f1 meets f3)
