"""The arithmetic of the sampler: row keys, candidate thresholds and quotas.

Every row gets a 64-bit key, a seeded hash of where it is: its table, its block
(blocks are fixed byte ranges, whatever the number of threads) and its line in
the block. The dev set keeps, per stratum, the rows with the smallest keys.
Nothing here depends on the order rows arrive in, which is what makes the dev
set the same bytes on every run and with any number of threads.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Keys = npt.NDArray[np.uint64]

MAX_KEY = (1 << 64) - 1
#: At most this many of the dev set's outliers are its most extreme ones (the others are spread over all
#: outliers by key), so that the candidates kept for them stay few whatever the size of the data.
MOST_EXTREME = 1000
#: Safety of the candidate threshold, in standard deviations: a stratum runs out of
#: candidates with probability about exp(-Z²/2) ≈ 1e-14.
Z = 8.0


def block_base(seed: int, table: str, block: int) -> int:
    """The key stream of one block of one table: a 64-bit number from a keyed hash."""
    digest = hashlib.blake2b(f"{seed}\x00{table}\x00{block}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def row_keys(base: int, start: int, count: int) -> Keys:
    """Keys of rows ``start … start+count-1`` of a key stream (splitmix64: fast, well mixed)."""
    import numpy as np

    from alops.splitmix import mix

    x = np.arange(start, start + count, dtype=np.uint64)
    x += np.uint64((base + 0x9E3779B97F4A7C15) & MAX_KEY)  # uint64 arithmetic on arrays wraps around
    return mix(x)


def cut(rate: float, seen: int) -> int:
    """The largest key a row may have to stay a candidate, for a group of ``seen`` rows (so far).

    The final quota of a group of ``n`` rows sampled at ``rate`` is at most
    ``rate * n + 3`` (rounding, at least one per stratum); keeping every row
    whose key is below ``rate + (Z*sqrt(rate*n) + Z² + 3) / n`` of the key
    range keeps more than that many except with negligible probability. The
    threshold only falls as ``seen`` grows and as ``rate`` falls, so a row
    dropped early is never one the final selection needs.
    """
    if seen <= 0 or rate >= 1.0:
        return MAX_KEY
    share = rate + (Z * math.sqrt(rate * seen) + Z * Z + 3) / seen
    return MAX_KEY if share >= 1.0 else int(share * 2.0**64)


def quotas(counts: Sequence[int], n: int) -> list[int]:
    """Split ``n`` rows over strata of ``counts`` rows: at least one each, the rest proportional.

    Strata whose proportional share is under one row get exactly one; the
    rest are apportioned over the others by largest remainder (ties: larger
    stratum, then earlier). Exact integer arithmetic; the result sums to ``n``
    unless there are more strata than ``n`` (then every stratum gets one), and
    never exceeds a stratum's size.
    """
    live = [i for i, c in enumerate(counts) if c > 0]
    out = [0] * len(counts)
    if n >= sum(counts):
        return list(counts)
    if n <= len(live):
        for i in live:
            out[i] = 1
        return out
    one: set[int] = set()
    while True:
        pool = [i for i in live if i not in one]
        seats, total = n - len(one), sum(counts[i] for i in pool)
        small = {i for i in pool if seats * counts[i] < total}
        if not small:
            break
        one |= small
    for i in one:
        out[i] = 1
    for i in pool:
        out[i] = seats * counts[i] // total
    order = sorted(pool, key=lambda i: (-(seats * counts[i] % total), -counts[i], i))
    left = seats - sum(out[i] for i in pool)
    for i in order:
        if left <= 0:
            break
        if out[i] < counts[i]:
            out[i] += 1
            left -= 1
    return out


def share_count(found: int, total: int, n: int, max_share: float) -> int:
    """How many of ``found`` special rows (outliers, corrupt) among ``total`` go in a dev set of ``n``.

    Their share of the full data, at most ``max_share`` of the dev set, and at
    least one when the full data has any (unless ``max_share`` is 0).
    """
    if found == 0 or total == 0 or max_share <= 0:
        return 0
    wanted = round(min(found / total, max_share) * n)
    return min(found, max(1, wanted))
