"""Simulated rounds of active learning on labelled data: learning curves per strategy against random.

Each seed holds out a stratified test split, starts from a stratified labelled set
(the same for every strategy) and runs the loop: fit a logistic regression on the
labelled samples, score the rest (the pool), choose a batch with :func:`alops.al.query`
(the kernels of ``alops al query``), reveal the batch's true labels (the oracle) and
fit again. Features are standardised with the mean and spread of the non-test
samples (no labels needed); k-center and the hybrid use them as embeddings, the
inputs of the linear model.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from alops.al.query.result import STRATEGIES
from alops.al.simulate.data import _NO_SKLEARN, Dataset
from alops.errors import ConfigError

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Settings:
    """What to simulate; ``random`` is always run too, as the baseline."""

    strategies: tuple[str, ...]
    rounds: int = 30
    seeds: int = 10
    batch_size: int = 20
    initial: int = 20
    test_fraction: float = 0.25
    #: The logistic regression's inverse regularisation strength (scikit-learn's default).
    c: float = 1.0


@dataclass(frozen=True)
class Point:
    """The test accuracy after one round of one seed (round 0: the initial labelled set)."""

    strategy: str
    seed: int
    round: int
    labelled: int
    accuracy: float


@dataclass(frozen=True)
class Simulation:
    """Every point of every curve, in strategy, seed, round order."""

    dataset: str
    settings: Settings
    points: tuple[Point, ...]
    test_size: int

    @property
    def strategies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.strategy for p in self.points))

    def curve(self, strategy: str) -> tuple[Ints, Floats, Floats]:
        """Labelled counts, and the mean and standard deviation of the accuracy over the seeds, per round."""
        points = [p for p in self.points if p.strategy == strategy]
        rounds = max(p.round for p in points) + 1
        table = np.full((self.settings.seeds, rounds), np.nan)
        labelled = np.zeros(rounds, np.int64)
        for p in points:
            table[p.seed, p.round] = p.accuracy
            labelled[p.round] = p.labelled
        return labelled, table.mean(axis=0), table.std(axis=0)

    def labels_to_reach(self, strategy: str, accuracy: float) -> int | None:
        """The fewest labels after which ``strategy``'s mean accuracy is at least ``accuracy`` (None: never)."""
        labelled, mean, _ = self.curve(strategy)
        reached = np.flatnonzero(mean >= accuracy - 1e-12)
        return int(labelled[reached[0]]) if len(reached) else None


def simulate(dataset: Dataset, settings: Settings, *, progress: Callable[[str], None] | None = None) -> Simulation:
    """Run every strategy for every seed (see the module); the same settings give the same curves."""
    strategies = _check(dataset, settings)
    from alops.al.query.blas import one_blas_thread

    points: list[Point] = []
    with one_blas_thread():  # small matrices: one thread beats two that wait for each other
        for strategy in strategies:
            for seed in range(settings.seeds):
                points.extend(_run(dataset, settings, strategy, seed))
            if progress is not None:
                progress(strategy)
    test = sum(round(settings.test_fraction * n) for n in np.bincount(dataset.labels))
    return Simulation(dataset.name, settings, tuple(points), test)


def _check(dataset: Dataset, settings: Settings) -> tuple[str, ...]:
    unknown = [s for s in settings.strategies if s not in STRATEGIES]
    if unknown:
        raise ConfigError(f"unknown strategy {unknown[0]!r}: use one of {', '.join(STRATEGIES)}")
    for name in ("rounds", "seeds", "batch_size", "initial"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(settings, name)}")
    if not 0 < settings.test_fraction < 1:
        raise ConfigError(f"--test-fraction must be between 0 and 1, not {settings.test_fraction}")
    counts = np.bincount(dataset.labels)
    pool = int(sum(n - round(settings.test_fraction * n) for n in counts))
    needed = settings.initial + settings.rounds * settings.batch_size
    if needed > pool:
        raise ConfigError(
            f"{settings.rounds} rounds of {settings.batch_size} after {settings.initial} initial labels need "
            f"{needed} samples, but {dataset.name} has {pool} once the test split ({settings.test_fraction:g}) "
            "is held out: ask for fewer rounds or a smaller batch"
        )
    return tuple(dict.fromkeys(("random", *settings.strategies)))


def _run(dataset: Dataset, settings: Settings, strategy: str, seed: int) -> list[Point]:
    from alops.al.query import query

    rng = np.random.default_rng(seed)
    test, train = _split(dataset.labels, settings.test_fraction, rng)
    x = dataset.features
    mean, spread = x[train].mean(axis=0), x[train].std(axis=0)
    x = (x - mean) / np.where(spread > 0, spread, 1.0)
    labelled = np.zeros(len(x), bool)
    labelled[_initial(dataset.labels[train], settings.initial, rng, train)] = True
    points = []
    classes = len(dataset.classes)
    for r in range(settings.rounds + 1):
        model = _fit(x[labelled], dataset.labels[labelled], classes, settings.c)
        accuracy = float((model(x[test]).argmax(axis=1) == dataset.labels[test]).mean())
        points.append(Point(strategy, seed, r, int(labelled.sum()), accuracy))
        if r == settings.rounds:
            break
        pool = train[~labelled[train]]
        chosen = query(
            model(x[pool]), strategy, settings.batch_size, seed=seed * 1000 + r,
            embeddings=x[pool], labelled=x[labelled],
        )  # fmt: skip
        labelled[pool[chosen.indices]] = True  # the oracle: their true labels join the labelled set
    return points


def _split(labels: Ints, fraction: float, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """A stratified test split: ``fraction`` of each class (rounded), drawn by ``rng``."""
    test = []
    for c in range(int(labels.max()) + 1):
        members = rng.permutation(np.flatnonzero(labels == c))
        test.append(members[: round(fraction * len(members))])
    held = np.sort(np.concatenate(test)).astype(np.int64)
    rest = np.setdiff1d(np.arange(len(labels)), held).astype(np.int64)
    return held, rest


def _initial(labels: Ints, m: int, rng: np.random.Generator, rows: Ints) -> Ints:
    """``m`` samples spread over the classes as evenly as they allow (the remainder to classes drawn at random)."""
    classes = np.unique(labels)
    order = rng.permutation(classes)
    members = {c: rng.permutation(np.flatnonzero(labels == c)) for c in classes}
    taken = {c: 0 for c in classes}
    chosen: list[int] = []
    while len(chosen) < m:
        for c in order:
            if len(chosen) < m and taken[c] < len(members[c]):
                chosen.append(int(members[c][taken[c]]))
                taken[c] += 1
    return rows[np.array(chosen, dtype=np.int64)]


def _fit(x: Floats, y: Ints, classes: int, c: float) -> Callable[[Floats], Floats]:
    """A logistic regression's class probabilities over all ``classes`` (0 for a class not yet labelled)."""
    seen = np.unique(y)
    if len(seen) == 1:
        only = int(seen[0])
        return lambda rows: np.eye(classes)[np.full(len(rows), only)]
    try:
        from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigError(_NO_SKLEARN) from None
    model: Any = LogisticRegression(C=c, max_iter=1000)
    with warnings.catch_warnings():
        # A probe model: after 1,000 iterations an unconverged fit still ranks the pool.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)

    def probabilities(rows: Floats) -> Floats:
        out = np.zeros((len(rows), classes))
        out[:, model.classes_] = model.predict_proba(rows)
        return out

    return probabilities


def summary_rows(simulation: Simulation) -> Sequence[tuple[str, int, float, float, int | None]]:
    """Per strategy: final labels, mean and sd of the final accuracy, labels to reach random's final mean."""
    _, random_mean, _ = simulation.curve("random")
    target = float(random_mean[-1])
    rows = []
    for strategy in simulation.strategies:
        labelled, mean, sd = simulation.curve(strategy)
        rows.append(
            (strategy, int(labelled[-1]), float(mean[-1]), float(sd[-1]), simulation.labels_to_reach(strategy, target))
        )
    return rows
