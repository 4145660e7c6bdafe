"""``alops al query`` as a library function: the settings of ``active_learning:``, the scores file, the batch files.

The project's scoring stage (a DVC stage) writes the scores file; this step only
reads it. Options given on the command line win over ``alops.yaml``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from alops import atomic
from alops.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from alops.al.query.batch import BatchRow
    from alops.al.query.result import QueryResult
    from alops.config import Config
    from alops.sections import ActiveLearning

_FETCH = "run the scoring stage (`dvc repro`) or fetch its output (`alops data pull`), then run again"


@dataclass(frozen=True)
class Overrides:
    """What the command line says; None: what alops.yaml says."""

    strategy: str | None = None
    batch_size: int | None = None
    seed: int | None = None
    scores: Path | None = None  # relative to the working directory, as a shell gives it
    out: Path | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class BatchReport:
    """What ``alops al query`` chose and where it wrote it."""

    strategy: str
    chosen: int
    pool_size: int
    scores: Path
    files: tuple[Path, ...]


def select_batch(config: Config, overrides: Overrides = Overrides()) -> BatchReport:
    """Choose a batch of the pool named in ``config`` and write it (see :mod:`alops.al.query.batch`)."""
    settings = _settings(config, overrides)
    scores = overrides.scores or _path(config, settings.scores)
    if scores is None:
        raise ConfigError(
            f"{config.where('active_learning')}: active_learning.scores is not set: name the scores file "
            "the project's scoring stage writes (or pass --scores)"
        )
    if not scores.is_file():
        raise DataError(f"the scores file {scores} does not exist: {_FETCH}")
    embeddings = _embeddings(config, settings, settings.embeddings)
    labelled = None if embeddings is None else _embeddings(config, settings, settings.labelled_embeddings)
    from alops.al.query.pool import FilePool
    from alops.al.query.run import query

    pool = FilePool(scores, id_column=settings.id_column)
    classes = pool.classes or _npy_classes(scores)
    quotas = None if settings.quotas is None else _quotas(config, settings, classes, scores)
    result = query(
        pool, settings.strategy, settings.batch_size, seed=settings.seed, quotas=quotas,
        embeddings=embeddings, labelled=labelled, shortlist_factor=settings.shortlist_factor,
    )  # fmt: skip
    from alops.al.query.batch import write_batch

    out = overrides.out or config.root / settings.batch_dir
    private = config.root / ".alops"
    if out.absolute().is_relative_to(private.absolute()):
        atomic.ignored_folder(private)  # alops's own folder (the default batch_dir): git never shows it
    files = write_batch(batch_rows(result, classes), out, model_version=overrides.model_version or scores.name)
    return BatchReport(result.strategy, len(result), result.pool_size, scores, files)


def batch_rows(result: QueryResult, classes: tuple[str, ...]) -> list[BatchRow]:
    """The rows of the batch files, most informative first; a pool without ids names a sample by its row."""
    from alops.al.query.batch import BatchRow, finite

    rows = []
    for selected, probs in zip(result.rows(), result.probabilities, strict=True):
        sample_id = selected.index if result.ids is None else _plain_id(selected.id)
        if sample_id is None:
            raise DataError(
                f"row {selected.index} of the scores file has no sample id: the scoring stage must write an id "
                "for every sample"
            )
        confidence = float(probs[selected.predicted])
        name = classes[selected.predicted]
        rows.append(BatchRow(selected.index, sample_id, finite(selected.score), selected.strategy, name, confidence))
    return rows


def _settings(config: Config, overrides: Overrides) -> ActiveLearning:
    if config.al is None:
        raise ConfigError(
            f"{config.path} has no active_learning: section: add one naming the pool and the scores file "
            "(see `alops config schema`)"
        )
    given = {k: v for k in ("strategy", "batch_size", "seed") if (v := getattr(overrides, k)) is not None}
    settings = dataclasses.replace(config.al, **given)
    if settings.strategy == "k-center" and settings.embeddings is None:
        raise ConfigError(
            f"{config.where('active_learning')}: active_learning.embeddings is not set: the k-center strategy "
            "chooses by distances between embeddings: name the .npy file of the pool's embeddings, or choose "
            "another strategy"
        )
    return settings


def _path(config: Config, written: str | None) -> Path | None:
    return None if written is None else config.root / written


def _embeddings(config: Config, settings: ActiveLearning, written: str | None) -> npt.NDArray[np.floating] | None:
    """The embeddings file ``written`` names (the pool's, or the labelled set's), for the strategies that use one."""
    path = _path(config, written)
    if path is None or settings.strategy not in ("k-center", "hybrid"):
        return None
    if not path.is_file():
        raise DataError(f"the embeddings file {path} does not exist: {_FETCH}")
    import numpy as np

    try:
        # A memory map: k-center reads it in passes, and only the hybrid's shortlist rows are touched.
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{path} is not a readable NPY file ({exc}): write it with numpy.save") from exc
    if array.ndim != 2 or array.dtype.kind != "f":
        raise DataError(f"{path} holds a {array.dtype} array of shape {array.shape}: embeddings are samples x d floats")
    return cast("npt.NDArray[np.floating]", array)


def _npy_classes(scores: Path) -> tuple[str, ...]:
    """An NPY file has no column names: its classes are called by their column, 0, 1, ..."""
    import numpy as np

    try:
        shape = np.load(scores, mmap_mode="r", allow_pickle=False).shape
    except ValueError as exc:
        raise DataError(f"{scores} is not a readable NPY file ({exc}): write it with numpy.save") from exc
    return tuple(str(i) for i in range(shape[1] if len(shape) == 2 else 0))


def _quotas(config: Config, settings: ActiveLearning, classes: tuple[str, ...], scores: Path) -> dict[int, int]:
    assert settings.quotas is not None
    index = {name: i for i, name in enumerate(classes)}
    for name in settings.quotas:
        if name not in index:
            from alops.text import excerpt

            key = ("active_learning", "quotas", name)
            raise ConfigError(
                f"{config.where(*key)}: active_learning.quotas: no class {excerpt(name)} in {scores}: "
                f"its classes are {', '.join(map(excerpt, classes))}"
            )
    total = sum(settings.quotas.values())
    if total != settings.batch_size:
        raise ConfigError(
            f"{config.where('active_learning', 'quotas')}: active_learning.quotas add up to {total}, but the batch "
            f"size is {settings.batch_size}: make them add up to the batch size (active_learning.batch_size or "
            "--batch-size)"
        )
    return {index[name]: n for name, n in settings.quotas.items()}


def _plain_id(value: object) -> object:
    """An id JSON can carry exactly (text, integers, finite numbers); anything else as its text."""
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)
