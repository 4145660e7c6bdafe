"""Greedy k-center: each chosen point is the farthest from the centres of its step."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from alops.al.query import kcenter
from alops.al.query.kcenter import k_center
from alops.al.query.topk import salt_of
from alops.errors import DataError


def brute_force_steps(
    x: npt.NDArray[np.float64], chosen: npt.NDArray[np.int64], labelled: npt.NDArray[np.float64] | None
) -> None:
    """At every step, the chosen point's distance to its nearest centre is the largest of all unchosen points'."""
    centres = [] if labelled is None else list(labelled)
    for step, point in enumerate(chosen):
        if centres:
            nearest = np.linalg.norm(x[:, None] - np.array(centres)[None], axis=2).min(axis=1)
            nearest[chosen[:step]] = -1
            assert nearest[point] == pytest.approx(nearest.max(), rel=1e-9), f"step {step}"
        centres.append(x[point])


@pytest.mark.parametrize("with_labelled", [False, True])
def test_each_chosen_point_is_the_farthest_from_the_current_centres(
    with_labelled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks, so that the lazy refresh of blocks and the grouping of centres are exercised.
    monkeypatch.setattr(kcenter, "_BLOCK_ROWS", 16)
    monkeypatch.setattr(kcenter, "_CENTRES_PER_PRODUCT", 3)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal((150, 5)), rng.standard_normal((50, 5)) * 0.1 + 4])
    labelled = rng.standard_normal((7, 5)) if with_labelled else None
    chosen, distances = k_center(x, 25, salt=salt_of(1), centres=labelled)
    assert len(set(chosen.tolist())) == 25
    brute_force_steps(x, chosen, labelled)
    assert (np.diff(distances[1:]) <= 1e-12).all()
    assert np.isinf(distances[0]) != with_labelled


def test_lazy_blocks_give_the_plain_greedy_result(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(3).standard_normal((500, 8))
    whole = k_center(x, 40, salt=salt_of(2))
    monkeypatch.setattr(kcenter, "_BLOCK_ROWS", 7)
    assert k_center(x, 40, salt=salt_of(2))[0].tolist() == whole[0].tolist()


def test_the_first_point_and_ties_follow_the_seed() -> None:
    x = np.zeros((100, 3))  # every point a duplicate: every step is a tie
    firsts = {int(k_center(x, 1, salt=salt_of(seed))[0][0]) for seed in range(6)}
    assert len(firsts) > 1
    chosen, distances = k_center(x, 100, salt=salt_of(0))
    assert sorted(chosen.tolist()) == list(range(100))
    assert (distances[1:] == 0).all()
    assert k_center(x, 5, salt=salt_of(0))[0].tolist() == chosen[:5].tolist()


def test_only_allowed_points_are_chosen() -> None:
    x = np.random.default_rng(4).standard_normal((60, 2))
    allowed = np.arange(60) % 3 == 0
    chosen, _ = k_center(x, 20, salt=salt_of(0), allowed=allowed)
    assert sorted(chosen.tolist()) == list(range(0, 60, 3))
    with pytest.raises(DataError, match="k-center cannot choose 21 points from 20"):
        k_center(x, 21, salt=salt_of(0), allowed=allowed)


def test_float32_embeddings_stay_float32_and_agree_with_float64() -> None:
    x = np.random.default_rng(5).standard_normal((400, 16))
    a, _ = k_center(x, 10, salt=salt_of(0))
    b, _ = k_center(x.astype(np.float32), 10, salt=salt_of(0))
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize(
    ("x", "labelled", "message"),
    [
        (np.ones(5), None, r"the embeddings must be a 2-D array \(samples x dimensions\), got shape \(5,\)"),
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), None, "the embeddings hold NaN, infinite or overflowing values in 1 rows "
         r"\(first: row 1\)"),
        (np.ones((4, 2)), np.ones((2, 3)), "the labelled embeddings have 3 dimensions, the pool's have 2"),
        (np.ones((4, 2)), np.array([[np.inf, 0.0]]), "the labelled embeddings hold NaN"),
    ],
)  # fmt: skip
def test_bad_embeddings_are_data_errors(
    x: npt.NDArray[np.float64], labelled: npt.NDArray[np.float64] | None, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        k_center(x, 1, salt=salt_of(0), centres=labelled)
