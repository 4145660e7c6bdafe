"""Shared by the label-file tests: read a file with the digits project's label set and a small pool."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from pathlib import Path

import pytest

from alops.al.labels import LabelFile, read_labels
from alops.sections import Annotators

CLASSES = tuple(str(digit) for digit in range(10))
POOL = frozenset({"a1", "a2", "a3", "a4", "a5", "7", '=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"})
LABELLED = frozenset({"old1", "old2"})
NOW = "2026-12-02T00:00:00Z"

Read = Callable[..., LabelFile]


def _read(
    path: Path,
    *,
    policy: str = "majority",
    reviewer: str | None = None,
    min_votes: int = 1,
    classes: tuple[str, ...] = CLASSES,
    pool: Set[str] = POOL,
    labelled: Set[str] | Mapping[str, str] = LABELLED,
) -> LabelFile:
    """``read_labels`` with the tests' defaults."""
    return read_labels(
        path,
        classes=classes,
        policy=Annotators(policy, reviewer, min_votes),
        pool_ids=pool,
        labelled_ids=labelled,
        now=NOW,
    )


@pytest.fixture
def read() -> Read:
    """``read_labels`` with the tests' defaults: digits "0".."9", the pool POOL, the labelled set LABELLED, NOW."""
    return _read


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a file (text as UTF-8, bytes as given, newlines untouched) and return its path."""

    def make(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return make
