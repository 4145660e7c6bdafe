"""``alops.splitmix.mix``: splitmix64's finalizer, bit for bit (the keys of dev sets and query ties depend on it)."""

from __future__ import annotations

import numpy as np

from alops.splitmix import mix

MASK = (1 << 64) - 1


def reference(z: int) -> int:
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & MASK
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & MASK
    return z ^ (z >> 31)


def test_mix_is_splitmix64_s_finalizer_including_wrap_around() -> None:
    values = [0, 1, 2, 0x9E3779B97F4A7C15, MASK - 1, MASK, 1 << 63]
    assert mix(np.array(values, dtype=np.uint64)).tolist() == [reference(v) for v in values]


def test_mix_of_a_counter_looks_random() -> None:
    keys = mix(np.arange(100_000, dtype=np.uint64))
    assert len(np.unique(keys)) == 100_000  # a bijection: no two rows share a key
    top_bits = (keys >> np.uint64(63)).astype(np.int64)
    assert abs(top_bits.mean() - 0.5) < 0.01
