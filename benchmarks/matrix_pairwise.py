"""Pairwise covering sets: alops's rows and time against allpairspy's, same shapes, same run.

    .venv/bin/python benchmarks/matrix_pairwise.py

Goal (issue 9): 8 parameters of 5 values (390,625 combinations) in at most 37 rows
(allpairspy: 45; no set has fewer than 25) in under 1 s. The baseline is
allpairspy's ``AllPairs`` (the ``bench`` group), which takes constraints as a
filter function over partial rows; alops takes them as alops.yaml's rules. Each
shape is checked: every pair of values that some valid row has is in a row of
alops's result, and the table says how many such pairs allpairspy's rows miss (with a
filter it can leave pairs out). Times are the best of three.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import combinations, product
from typing import Any

from alops.matrix.covering import Rule, generate, normalize

GOAL_ROWS, GOAL_S = 37, 1.0


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def pairs(rows: list[list[int]]) -> set[tuple[int, int, int, int]]:
    return {(i, r[i], j, r[j]) for r in rows for i, j in combinations(range(len(r)), 2) if r[i] >= 0 and r[j] >= 0}


def allpairs(sizes: list[int], rules: list[Rule]) -> list[list[int]]:
    from allpairspy import AllPairs

    def ok(partial: list[int]) -> bool:  # allpairspy asks about each partial row, left to right
        for rule in rules:
            if all(f < len(partial) and partial[f] in v for f, v in rule.when.items()) and any(
                f < len(partial) and partial[f] in v for f, v in rule.exclude.items()
            ):
                return False
        return True

    return [list(r) for r in AllPairs([list(range(s)) for s in sizes], filter_func=ok)]


SHAPES: list[tuple[str, list[int], list[Rule]]] = [
    ("8 x 5", [5] * 8, []),
    ("10 x 3", [3] * 10, []),
    ("4 x 6", [6] * 4, []),
    ("4 x 6, one exclude", [6] * 4, [Rule({0: frozenset({0, 1})}, exclude={1: frozenset({0, 1, 2})})]),
    ("20 x 2", [2] * 20, []),
    (
        "8 mixed, irrelevant",  # allpairspy has no irrelevant parameters: it sees only the exclude
        [3, 4, 4, 4, 3, 3, 3, 3],
        [
            Rule({0: frozenset({0})}, irrelevant=frozenset({1, 2})),
            Rule({0: frozenset({1})}, irrelevant=frozenset({3})),
            Rule({4: frozenset({0})}, exclude={5: frozenset({0, 1})}),
        ],
    ),
    ("6 x 10", [10] * 6, []),
]


def main() -> None:
    print(
        f"{'shape':20} {'combinations':>12} {'pairs':>6} {'alops rows':>10} {'alops s':>8} "
        f"{'allpairspy rows':>15} {'allpairspy s':>12} {'pairs missed':>12}"
    )
    for name, sizes, rules in SHAPES:
        defaults = [0] * len(sizes)
        t_alops, ours = best_of(3, lambda s=sizes, r=rules, d=defaults: generate(s, r, d, cap=1))
        t_base, theirs = best_of(3, lambda s=sizes, r=rules: allpairs(s, r))
        # Rows as they run: an irrelevant parameter keeps its default, so it pairs with nothing.
        valid_base = [row for row, ok in (normalize(r, rules, defaults) for r in theirs) if ok]
        assert len(valid_base) == len(theirs), f"{name}: allpairspy broke a rule"
        every = (normalize(list(r), rules, defaults) for r in product(*(range(s) for s in sizes)))
        valid = [row for row, ok in every if ok]
        need = (
            pairs(valid)
            if rules
            else {
                (i, a, j, b)
                for i, j in combinations(range(len(sizes)), 2)
                for a in range(sizes[i])
                for b in range(sizes[j])
            }
        )
        assert need <= pairs(ours.rows), f"{name}: alops misses a pair"
        missed = len(need - pairs(valid_base))
        print(
            f"{name:20} {ours.total:>12,} {len(need):>6,} {len(ours.rows):>10} {t_alops:>8.2f} "
            f"{len(theirs):>15} {t_base:>12.2f} {missed:>12}"
        )
        if name == "8 x 5":
            goal = len(ours.rows) <= GOAL_ROWS and t_alops < GOAL_S
            print(f"{'':20} goal: at most {GOAL_ROWS} rows in under {GOAL_S:.0f} s: {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
