"""Corpus files cut, flipped and spliced at random (seeded): a DataError or labels, never a crash or raw control text."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.al.labels import LabelFile
from alops.errors import DataError

Read = Callable[..., LabelFile]
CORPUS = Path(__file__).parent / "corpus"
SOURCES = sorted(p for p in CORPUS.iterdir() if p.name != "expected.yaml" and p.stat().st_size < 100_000)
POLICIES = [{"policy": "majority"}, {"policy": "reviewer", "reviewer": "3", "min_votes": 2}, {"policy": "unanimous"}]


def mutate(data: bytearray, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        at, op = rng.randrange(len(data)), rng.randrange(5)
        if op == 0:
            del data[at:]
        elif op == 1:
            data[at] = rng.randrange(256)
        elif op == 2:
            data[at:at] = bytes([rng.choice(b'\x00",\n\r[]{}:\xff\xc3 \\')])
        elif op == 3:
            data[at:at] = data[at : at + rng.randint(1, 40)]
        else:
            del data[at : at + rng.randint(1, 10)]
    return bytes(data)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_files(read: Read, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    outcomes = {"read": 0, "refused": 0}
    for round_ in range(100):
        source = rng.choice(SOURCES)
        path = tmp_path / f"m{round_}{source.suffix}"
        path.write_bytes(mutate(bytearray(source.read_bytes()), rng))
        try:
            result = read(path, **rng.choice(POLICIES))
        except DataError as exc:
            assert str(exc).isprintable(), str(exc)
            outcomes["refused"] += 1
            continue
        outcomes["read"] += 1
        for label in result.labels:
            assert label.labelled_at.endswith("Z") and label.votes >= 1
        for row in result.rejected:
            assert row.reason.isprintable() and row.where.isprintable(), row
    assert outcomes["read"] and outcomes["refused"]  # both kinds of outcome were exercised
