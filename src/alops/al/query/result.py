"""What a query returns: the chosen rows, most informative first, each with its score."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

Strategy = Literal["random", "least-confidence", "margin", "entropy", "k-center", "hybrid"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)


@dataclass(frozen=True)
class Selected:
    """One chosen sample: its row in the pool, its id if the pool has ids, its score and predicted class."""

    index: int
    id: object | None
    score: float
    strategy: Strategy
    predicted: int


@dataclass(frozen=True)
class QueryResult:
    """A batch chosen from the pool, sorted by score (most informative first; ties in seeded random order).

    Scores are "higher is more informative": ``1 - max p`` (least-confidence),
    ``1 - (p1 - p2)`` (margin, and the hybrid, which ranks its batch by margin),
    the entropy in nats, a uniform draw in [0, 1) (random), and for k-center the
    distance to the nearest centre when the point was chosen (``inf`` for a first
    point chosen with no labelled set to start from).
    """

    strategy: Strategy
    seed: int
    pool_size: int
    indices: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    #: The chosen rows' class probabilities (k x C): the model's prediction for a pre-annotation.
    probabilities: npt.NDArray[np.floating]
    ids: npt.NDArray[np.generic] | None = None
    classes: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def predicted(self) -> npt.NDArray[np.int64]:
        """The predicted class (argmax; the first of equal probabilities) of each chosen row."""
        return np.asarray(self.probabilities.argmax(axis=1), dtype=np.int64)

    def rows(self) -> Iterator[Selected]:
        """The chosen samples one by one, in the batch's order."""
        predicted = self.predicted
        for i, index in enumerate(self.indices):
            sample_id = None if self.ids is None else _plain(self.ids[i])
            yield Selected(int(index), sample_id, float(self.scores[i]), self.strategy, int(predicted[i]))


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
