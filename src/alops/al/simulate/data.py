"""The labelled data of ``alops al simulate``: scikit-learn's digits, or a project's CSV file."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from alops.errors import ConfigError, DataError
from alops.text import excerpt


@dataclass(frozen=True)
class Dataset:
    """Samples x features and each sample's class (an index into ``classes``)."""

    name: str
    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]
    classes: tuple[str, ...]
    #: Rows of the file left out: no label (the pool), or a feature cell that is not a number.
    unlabelled: int = 0
    unreadable: int = 0
    first_unreadable: str | None = None


def digits() -> Dataset:
    """scikit-learn's digits (1,797 8x8 images, shipped with scikit-learn: no download)."""
    try:
        from sklearn.datasets import load_digits  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigError(_NO_SKLEARN) from None
    data = load_digits()
    labels = np.asarray(data.target, dtype=np.int64)
    return Dataset("digits", np.asarray(data.data, dtype=np.float64), labels, tuple(str(c) for c in range(10)))


_NO_SKLEARN = "alops al simulate trains scikit-learn models: install it (pip install 'alops[example]')"


def read_csv(path: Path, *, label_column: str, id_column: str | None = "id", drop: tuple[str, ...] = ()) -> Dataset:
    """A CSV file with a header: the label column, an optional id column, the columns in ``drop``, and features.

    Rows with an empty label are unlabelled (a pool's rows) and rows with a feature that
    is not a finite number are left out; both are counted in the result.
    """
    if not path.is_file():
        raise DataError(f"the data file {path} does not exist: pass a CSV file of labelled samples (--data)")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise DataError(f"{path} is empty: it needs a header and labelled rows")
            label_at, features = _columns(path, header, label_column, id_column, drop)
            rows: list[list[float]] = []
            labels: list[str] = []
            unlabelled, unreadable, first = 0, 0, None
            for line, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    unreadable += 1
                    first = first or f"{path}:{line}: {len(row)} fields, the header has {len(header)}"
                    continue
                if not row[label_at].strip():
                    unlabelled += 1
                    continue
                values, bad = _numbers(row, features)
                if values is None:
                    unreadable += 1
                    first = first or f"{path}:{line}: column {excerpt(header[bad])} holds {excerpt(row[bad])}"
                    continue
                rows.append(values)
                labels.append(row[label_at].strip())
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}): save it as UTF-8") from None
    if not rows and unreadable:
        raise DataError(
            f"{path}: no labelled row has a number in every feature column (first: {first}): "
            "leave out the columns that are not features with --drop-column"
        )
    names = sorted(set(labels), key=_natural)
    if len(names) < 2:
        raise DataError(
            f"{path}: the column {label_column!r} holds {len(names)} class{'es' if len(names) != 1 else ''} in "
            f"{len(labels)} labelled rows: a simulation needs labelled samples of at least 2 classes"
        )
    index = {name: i for i, name in enumerate(names)}
    codes = np.array([index[name] for name in labels], dtype=np.int64)
    return Dataset(path.name, np.array(rows, dtype=np.float64), codes, tuple(names), unlabelled, unreadable, first)


def _columns(
    path: Path, header: list[str], label_column: str, id_column: str | None, drop: tuple[str, ...]
) -> tuple[int, list[int]]:
    if label_column not in header:
        raise DataError(
            f"{path} has no column {excerpt(label_column)}: its columns are {', '.join(map(excerpt, header[:12]))}"
            f"{', ...' if len(header) > 12 else ''}; name the label column with --label-column"
        )
    missing = [name for name in drop if name not in header]
    if missing:
        raise ConfigError(f"--drop-column names {', '.join(map(excerpt, missing))}, which {path} does not have")
    skipped = {label_column, *drop} | ({id_column} if id_column else set())
    features = [i for i, name in enumerate(header) if name not in skipped]
    if not features:
        raise DataError(f"{path} has no feature columns: every column but the label, id and dropped ones is a feature")
    return header.index(label_column), features


def _numbers(row: list[str], features: list[int]) -> tuple[list[float] | None, int]:
    """The row's features, or None and the first column that is not a finite number."""
    values = []
    for i in features:
        try:
            value = float(row[i])
        except ValueError:
            return None, i
        if not math.isfinite(value):
            return None, i
        values.append(value)
    return values, -1


def _natural(name: str) -> tuple[int, float, str]:
    """Numbers in numeric order (2 before 10), then text."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)
