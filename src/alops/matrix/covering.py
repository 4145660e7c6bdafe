"""Test rows for factors with constraints: every combination, or a pairwise covering set.

Pure: no alops imports, no I/O. Factors are given by index: ``sizes[f]`` values
each (0..size-1); a row is a list of value indices, ``-1`` where the factor is
*irrelevant* (a rule says it has no effect there, so it keeps its default).

Semantics, one place: :func:`normalize`. A rule applies to a row when each of
its ``when`` factors has one of its values (an irrelevant factor counts with its
default). Rules are applied in order, in passes, until nothing changes; a factor
made irrelevant stays so. A row is valid when no applying rule has an
``exclude`` factor at one of its excluded values.

Pairwise (AETG-style): each new row is the best of a few random candidates, each
grown from an uncovered pair by choosing, factor by factor in random order, the
value that covers most uncovered pairs; a few seeds, the smallest result kept,
then rows that cover nothing of their own dropped. Then a tabu search (Nurmela's
moves) takes rows away: drop one, change single values until every pair is covered
again, keep the smaller set. Which pairs must be covered: those of the valid rows
(enumerated with numpy up to ENUMERATE_LIMIT; beyond, a pair no random valid row
has is given up). Budgets are counts of moves, not seconds, and every choice comes
from a seeded :class:`random.Random`: the same input gives the same rows anywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import combinations
from math import prod
from typing import Any

#: Up to this many raw combinations, every one is enumerated (numpy): exact counts and pairs.
ENUMERATE_LIMIT = 2_000_000
CANDIDATES = 24  # random candidates per new row
SEEDS = 2  # independent greedy runs; the smallest kept
WITNESS_TRIES = 200  # random completions tried for a pair when nothing is enumerated
SHRINK_STEPS = 4_000  # tabu-search moves spent removing rows from the greedy set
ATTEMPT_STEPS = 2_000  # moves spent on removing one row before giving up
TABU = 8
EVALUATIONS = 20000  # rows normalized again by the shrink of rows with irrelevant cells


@dataclass(frozen=True)
class Rule:
    """When every ``when`` factor has one of its values: ``irrelevant`` are not varied, ``exclude`` never taken."""

    when: dict[int, frozenset[int]]
    irrelevant: frozenset[int] = frozenset()
    exclude: dict[int, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    rows: list[list[int]]
    total: int  # valid distinct combinations; when not exact, the raw product (an upper bound)
    exact: bool
    pairwise: bool


def normalize(row: list[int], rules: list[Rule], defaults: list[int]) -> tuple[list[int], bool]:
    """``row`` with irrelevant factors set to -1, and whether it breaks no rule."""
    eff = list(row)
    irrelevant = [False] * len(row)
    changed = True
    while changed:
        changed = False
        for rule in rules:
            if rule.irrelevant and all(eff[f] in vals for f, vals in rule.when.items()):
                for f in rule.irrelevant:
                    if not irrelevant[f]:
                        irrelevant[f], eff[f], changed = True, defaults[f], True
    valid = not any(
        rule.exclude
        and all(eff[f] in vals for f, vals in rule.when.items())
        and any(eff[f] in vals for f, vals in rule.exclude.items())
        for rule in rules
    )
    return [-1 if irrelevant[f] else v for f, v in enumerate(row)], valid


class _Ids:
    """Numbers for the things to cover: each pair of values of two factors, then each single value."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        k = len(sizes)
        self.base = [[0] * k for _ in range(k)]
        n = 0
        for i, j in combinations(range(k), 2):
            self.base[i][j] = n
            n += sizes[i] * sizes[j]
        self.single = []
        for i in range(k):
            self.single.append(n)
            n += sizes[i]
        self.count = n

    def pair(self, i: int, a: int, j: int, b: int) -> int:
        if i > j:
            i, a, j, b = j, b, i, a
        return self.base[i][j] + a * self.sizes[j] + b

    def of_row(self, row: list[int]) -> list[int]:
        live = [(f, v) for f, v in enumerate(row) if v >= 0]
        out = [self.single[f] + v for f, v in live]
        out += [self.base[i][j] + a * self.sizes[j] + b for (i, a), (j, b) in combinations(live, 2)]
        return out

    def decode(self, n: int) -> list[tuple[int, int]]:
        """The (factor, value) cells of element ``n``."""
        k = len(self.sizes)
        if n >= self.single[0]:
            f = max(i for i in range(k) if self.single[i] <= n)
            return [(f, n - self.single[f])]
        for i, j in combinations(range(k), 2):
            size = self.sizes[i] * self.sizes[j]
            if self.base[i][j] <= n < self.base[i][j] + size:
                a, b = divmod(n - self.base[i][j], self.sizes[j])
                return [(i, a), (j, b)]
        raise ValueError(n)  # pragma: no cover


def generate(
    sizes: list[int],
    rules: list[Rule] | None = None,
    defaults: list[int] | None = None,
    *,
    cap: int = 64,
    every: bool = False,
    seed: int = 0,
) -> Result:
    """All valid distinct rows when there are at most ``cap`` (or ``every``), else a pairwise covering set."""
    rules = rules or []
    defaults = defaults if defaults is not None else [-1] * len(sizes)
    raw = prod(sizes)
    ids = _Ids(sizes)
    if not rules and (not every and raw > cap):  # every element is covered by some row: nothing to enumerate
        return Result(_pairwise(ids, rules, defaults, {}, seed), raw, True, True)
    if raw <= ENUMERATE_LIMIT:
        valid = _enumerate(sizes, rules, defaults)
        if every or len(valid) <= cap:
            return Result([[int(v) for v in row] for row in valid], len(valid), True, False)
        return Result(_pairwise(ids, rules, defaults, _witnesses(ids, valid), seed), len(valid), True, True)
    if every:
        raise ValueError(f"{raw} combinations are too many to list")
    return Result(_pairwise(ids, rules, defaults, None, seed), raw, False, True)


def _witnesses(ids: _Ids, valid: Any) -> dict[int, list[int]]:
    """For each element some valid row covers: the first such row."""
    import numpy as np

    out: dict[int, list[int]] = {}
    k = len(ids.sizes)
    for i in range(k):
        col = valid[:, i]
        vals, first = np.unique(col[col >= 0], return_index=True)
        where = np.flatnonzero(col >= 0)
        for v, at in zip(vals.tolist(), first.tolist(), strict=True):
            out[ids.single[i] + v] = valid[where[at]].tolist()
    for i, j in combinations(range(k), 2):
        live = np.flatnonzero((valid[:, i] >= 0) & (valid[:, j] >= 0))
        codes = valid[live, i].astype(np.int64) * ids.sizes[j] + valid[live, j]
        vals, first = np.unique(codes, return_index=True)
        for code, at in zip(vals.tolist(), first.tolist(), strict=True):
            out[ids.base[i][j] + code] = valid[live[at]].tolist()
    return out


def _enumerate(sizes: list[int], rules: list[Rule], defaults: list[int]) -> Any:
    """Every valid distinct normalized row, in product order (numpy, the same rules as :func:`normalize`)."""
    import numpy as np

    k = len(sizes)
    if k == 0:
        return np.zeros((1, 0), dtype=np.int16)
    grid = np.indices(sizes, dtype=np.int16).reshape(k, -1).T
    eff = grid.copy()
    irr = np.zeros(grid.shape, dtype=bool)

    def applies(rule: Rule) -> Any:
        hit = np.ones(len(grid), dtype=bool)
        for f, vals in rule.when.items():
            hit &= np.isin(eff[:, f], list(vals))
        return hit

    changed = True
    while changed:
        changed = False
        for rule in rules:
            if not rule.irrelevant:
                continue
            hit = applies(rule)
            for f in rule.irrelevant:
                new = hit & ~irr[:, f]
                if new.any():
                    irr[new, f] = True
                    eff[new, f] = defaults[f]
                    changed = True
    ok = np.ones(len(grid), dtype=bool)
    for rule in rules:
        if rule.exclude:
            bad = np.zeros(len(grid), dtype=bool)
            for f, vals in rule.exclude.items():
                bad |= np.isin(eff[:, f], list(vals))
            ok &= ~(applies(rule) & bad)
    rows = np.where(irr, -1, grid)[ok]
    if irr.any() and len(rows):
        rows = np.unique(rows, axis=0)  # sorted: product order, -1 first
    return rows


def _pairwise(
    ids: _Ids, rules: list[Rule], defaults: list[int], witness: dict[int, list[int]] | None, seed: int
) -> list[list[int]]:
    best: list[list[int]] | None = None
    target = set(witness) if witness else set(range(ids.count))
    for run in range(SEEDS):
        rows = _greedy(ids, rules, defaults, witness, set(target), random.Random(seed * 1_000_003 + run))
        if best is None or len(rows) < len(best):
            best = rows
    assert best is not None
    if all(not r.irrelevant for r in rules) and len(ids.sizes) >= 2:
        best = _shrink(ids, best, rules, defaults, random.Random(seed))
    elif len(ids.sizes) >= 2:
        best = _shrink_normalized(ids, best, rules, defaults, random.Random(seed))
    return sorted(best)  # in product order, as the full product is: easier to read


def _greedy(
    ids: _Ids,
    rules: list[Rule],
    defaults: list[int],
    witness: dict[int, list[int]] | None,
    target: set[int],
    rng: random.Random,
) -> list[list[int]]:
    sizes, k = ids.sizes, len(ids.sizes)
    uncovered = bytearray(ids.count)
    for n in target:
        uncovered[n] = 1
    left = len(target)
    rows: list[list[int]] = []
    while left:
        todo = sorted(n for n in range(ids.count) if uncovered[n])
        best_row: list[int] | None = None
        best_gain = 0
        for _ in range(CANDIDATES):
            row = [-1] * k
            for f, v in ids.decode(rng.choice(todo)):
                row[f] = v
            order = [f for f in range(k) if row[f] < 0]
            rng.shuffle(order)
            for f in order:
                top, choice = -1, 0
                for v in range(sizes[f]):
                    gain = uncovered[ids.single[f] + v] + sum(
                        uncovered[ids.pair(f, v, g, row[g])] for g in range(k) if row[g] >= 0
                    )
                    if gain > top or (gain == top and rng.random() < 0.5):
                        top, choice = gain, v
                row[f] = choice
            norm, ok = normalize(row, rules, defaults) if rules else (row, True)
            if ok:
                gain = sum(uncovered[n] for n in ids.of_row(norm))
                if gain > best_gain:
                    best_row, best_gain = norm, gain
        if best_row is None:
            best_row = _witness(ids, rules, defaults, witness, todo, uncovered, rng)
            left = sum(uncovered)
            if best_row is None:  # nothing left that any valid row covers
                break
        rows.append(best_row)
        for n in ids.of_row(best_row):
            left -= uncovered[n]
            uncovered[n] = 0
    return _drop_redundant(ids, rows)


def _witness(
    ids: _Ids,
    rules: list[Rule],
    defaults: list[int],
    witness: dict[int, list[int]] | None,
    todo: list[int],
    uncovered: bytearray,
    rng: random.Random,
) -> list[int] | None:
    """A valid row covering an uncovered element; elements no row covers are dropped from ``uncovered``."""
    for n in todo:
        if witness:
            return witness[n]
        if witness is not None and not rules:  # any row with the element will do
            row = [0] * len(ids.sizes)
            for f, v in ids.decode(n):
                row[f] = v
            return row
        for _ in range(WITNESS_TRIES):
            row = [rng.randrange(s) for s in ids.sizes]
            for f, v in ids.decode(n):
                row[f] = v
            norm, ok = normalize(row, rules, defaults)
            if ok and n in ids.of_row(norm):
                return norm
        uncovered[n] = 0  # no valid row found that has it: not a pair to cover
    return None


def _drop_redundant(ids: _Ids, rows: list[list[int]]) -> list[list[int]]:
    count = [0] * ids.count
    elems = [ids.of_row(r) for r in rows]
    for es in elems:
        for n in es:
            count[n] += 1
    keep = []
    for row, es in reversed(list(zip(rows, elems, strict=True))):
        if all(count[n] > 1 for n in es):
            for n in es:
                count[n] -= 1
        else:
            keep.append(row)
    return keep[::-1]


def _shrink(
    ids: _Ids, rows: list[list[int]], rules: list[Rule], defaults: list[int], rng: random.Random
) -> list[list[int]]:
    """Fewer rows, by tabu search (Nurmela's moves): drop a row, then change cells until every pair is covered again.

    Only without irrelevant rules: every cell holds a value; a move that would break an exclude rule is not made.
    """

    def ok(row: list[int], f: int, w: int) -> bool:
        if not rules:
            return True
        changed = list(row)
        changed[f] = w
        return normalize(changed, rules, defaults)[1]

    from collections import deque

    k = len(ids.sizes)
    pair = ids.pair
    rows = [list(r) for r in rows]
    count = [0] * ids.count
    for row in rows:
        for i, j in combinations(range(k), 2):
            count[pair(i, row[i], j, row[j])] += 1
    best = [list(r) for r in rows]
    steps = SHRINK_STEPS
    low = prod(sorted(ids.sizes)[-2:])  # no fewer rows can hold every pair of the two largest factors
    while steps > 0 and len(rows) > low:
        # Drop the row whose pairs are most often covered elsewhere.
        def alone(row: list[int]) -> int:
            return sum(count[pair(i, row[i], j, row[j])] == 1 for i, j in combinations(range(k), 2))

        drop = min(range(len(rows)), key=lambda r: alone(rows[r]))
        gone = rows.pop(drop)
        uncovered = set()
        for i, j in combinations(range(k), 2):
            n = pair(i, gone[i], j, gone[j])
            count[n] -= 1
            if count[n] == 0:
                uncovered.add(n)
        tabu: deque[tuple[int, int, int]] = deque(maxlen=TABU)
        attempt = min(steps, ATTEMPT_STEPS)
        steps -= attempt
        while uncovered and attempt > 0:
            attempt -= 1
            (i, a), (j, b) = ids.decode(rng.choice(sorted(uncovered)))
            moves = [(r, i, a) for r, row in enumerate(rows) if row[j] == b and row[i] != a]
            moves += [(r, j, b) for r, row in enumerate(rows) if row[i] == a and row[j] != b]
            top, chosen = None, []
            for r, f, w in moves:
                if (r, f, w) in tabu or not ok(rows[r], f, w):
                    continue
                row, v = rows[r], rows[r][f]
                delta = sum(
                    (count[pair(f, v, g, row[g])] == 1) - (count[pair(f, w, g, row[g])] == 0)
                    for g in range(k)
                    if g != f
                )
                if top is None or delta < top:
                    top, chosen = delta, [(r, f, w)]
                elif delta == top:
                    chosen.append((r, f, w))
            if not chosen:  # no row is one cell away: change two cells of a random row
                r = rng.randrange(len(rows))
                both = list(rows[r])
                both[i], both[j] = a, b
                if not rules or normalize(both, rules, defaults)[1]:
                    tabu.append((r, i, rows[r][i]))
                    tabu.append((r, j, rows[r][j]))
                    _set(ids, rows[r], i, a, count, uncovered)
                    _set(ids, rows[r], j, b, count, uncovered)
                continue
            r, f, w = rng.choice(chosen)
            tabu.append((r, f, rows[r][f]))
            _set(ids, rows[r], f, w, count, uncovered)
        if uncovered:
            break
        steps += attempt  # what this success did not use
        best = [list(r) for r in rows]
    return best


def _set(ids: _Ids, row: list[int], f: int, w: int, count: list[int], uncovered: set[int]) -> None:
    """``row[f] = w``, keeping the pair counts and the uncovered set."""
    for g in range(len(row)):
        if g == f:
            continue
        old, new = ids.pair(f, row[f], g, row[g]), ids.pair(f, w, g, row[g])
        count[old] -= 1
        if count[old] == 0:
            uncovered.add(old)
        count[new] += 1
        uncovered.discard(new)
    row[f] = w


def _shrink_normalized(
    ids: _Ids, rows: list[list[int]], rules: list[Rule], defaults: list[int], rng: random.Random
) -> list[list[int]]:
    """:func:`_shrink` for rows with irrelevant cells: a move changes one value, then the row is normalized again.

    Slower per move (a row's elements are recomputed), so fewer moves: each one covers the chosen pair.
    """
    from collections import deque

    rows = [list(r) for r in rows]
    elems = [set(ids.of_row(r)) for r in rows]
    count = [0] * ids.count
    for es in elems:
        for n in es:
            count[n] += 1
    best = [list(r) for r in rows]
    steps = SHRINK_STEPS // 2
    evaluations = EVALUATIONS
    while steps > 0 and evaluations > 0 and len(rows) > 1:
        drop = min(range(len(rows)), key=lambda r: sum(count[n] == 1 for n in elems[r]))
        rows.pop(drop)
        uncovered = set()
        for n in elems.pop(drop):
            count[n] -= 1
            if count[n] == 0:
                uncovered.add(n)
        tabu: deque[tuple[int, tuple[int, ...]]] = deque(maxlen=TABU)
        attempt = min(steps, ATTEMPT_STEPS // 2)
        steps -= attempt
        while uncovered and attempt > 0 and evaluations > 0:
            attempt -= 1
            target = rng.choice(sorted(uncovered))
            cells = ids.decode(target)
            near = [r for r, row in enumerate(rows) if any(row[f] == v for f, v in cells)]
            top, chosen = None, []
            for r in near if len(cells) == 2 and near else range(len(rows)):
                row = rows[r]
                evaluations -= 1
                raw = [defaults[f] if v < 0 else v for f, v in enumerate(row)]
                for f, v in cells:
                    raw[f] = v
                new, ok = normalize(raw, rules, defaults)
                if not ok or (r, tuple(new)) in tabu:
                    continue
                es = set(ids.of_row(new))
                if target not in es:
                    continue
                old = elems[r]
                delta = sum(count[n] == 1 for n in old - es) - sum(count[n] == 0 for n in es - old)
                if top is None or delta < top:
                    top, chosen = delta, [(r, new, es)]
                elif delta == top:
                    chosen.append((r, new, es))
            if not chosen:
                continue
            r, new, es = rng.choice(chosen)
            tabu.append((r, tuple(rows[r])))
            for n in elems[r] - es:
                count[n] -= 1
                if count[n] == 0:
                    uncovered.add(n)
            for n in es - elems[r]:
                count[n] += 1
                uncovered.discard(n)
            rows[r], elems[r] = new, es
        if uncovered:
            break
        steps += attempt
        best = [list(r) for r in rows]
    return best
