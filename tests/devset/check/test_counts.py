"""``alops.devset.check.counts``: a Tally of typed blocks, merged across threads, corrupt rows and outliers apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from alops.devset.check.counts import Tally
from alops.devset.check.roles import ColumnRoles
from alops.devset.dataset.blocks import Block

ROLES = ColumnRoles("label", ("x",), ("c",), ("x",), {})


def block(x: list[float], labels: list[str | None], corrupt: list[bool], unparsed: int = 0) -> Block:
    texts = {"label": pa.array(labels, pa.string()), "c": pa.array(["r"] * len(x), pa.string())}
    return Block(Path("t.csv"), len(x), unparsed, np.array(corrupt), {"x": np.array(x)}, texts)


def test_corrupt_rows_and_outliers_are_counted_and_left_out_of_the_distributions() -> None:
    tally = Tally(ROLES, {"x": np.array([1.0, 2.0])}, {"x": (0.0, 10.0)})
    tally.add(block([1.0, 2.0, 50.0, np.nan, 2.0], ["a", "b", "a", None, "a"], [False, False, False, False, True], 2))
    assert (tally.rows, tally.corrupt, tally.outliers, tally.regular) == (7, 3, 1, 3)
    assert tally.categories["label"] == {"a": 1, "b": 1, None: 1}
    assert tally.missing["x"] == 1 and int(tally.bins["x"].sum()) == 2


def test_tallies_of_parts_merge_into_the_tally_of_the_whole() -> None:
    parts = [block([1.0, 2.0], ["a", "b"], [False, False]), block([3.0, 40.0], ["a", None], [False, False], 1)]
    whole = Tally(ROLES, {"x": np.array([2.0])}, {"x": (0.0, 10.0)})
    merged = Tally(ROLES, {"x": np.array([2.0])}, {"x": (0.0, 10.0)})
    for part in parts:
        whole.add(part)
        one = Tally(ROLES, {"x": np.array([2.0])}, {"x": (0.0, 10.0)})
        one.add(part)
        merged.merge(one)
    assert (merged.rows, merged.corrupt, merged.outliers, merged.regular) == (
        whole.rows,
        whole.corrupt,
        whole.outliers,
        whole.regular,
    )
    assert merged.categories == whole.categories and merged.bins["x"].tolist() == whole.bins["x"].tolist()
