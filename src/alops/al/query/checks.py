"""Validation of a block of class probabilities, with messages that name the row and say what to do."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alops.errors import DataError
from alops.text import excerpt

_FIX = "the scoring stage must write class probabilities (a softmax), one row per sample"


@dataclass(frozen=True)
class Checked:
    """A valid block transposed (classes x rows, C order) and each row's largest probability."""

    t: npt.NDArray[np.floating]
    top: npt.NDArray[np.floating]


def check_block(
    block: npt.NDArray[np.generic], start: int, ids: npt.NDArray[np.generic] | None, *, atol: float
) -> Checked:
    """The block transposed, once every row is finite, >= 0 and sums to 1 +- atol.

    A NaN or an infinity anywhere in a row makes its sum fail the test, so no
    element-wise NaN mask is built.
    """
    if block.ndim != 2 or block.shape[1] < 2:
        raise DataError(
            f"the pool's probabilities have shape {block.shape}: one row per sample and a column per class, "
            "at least 2 classes"
        )
    if block.dtype.kind not in "fiub":
        raise DataError(f"the pool's probabilities are {block.dtype}, not numbers: {_FIX}")
    dtype = block.dtype if block.dtype in (np.float32, np.float64) else np.float64
    t: npt.NDArray[np.floating] = np.empty((block.shape[1], len(block)), dtype)
    np.copyto(t, block.T)
    sums = t.sum(axis=0)
    # Two reductions, no temporaries; NaN propagates through min and max and fails both tests.
    if sums.min() >= 1 - atol and sums.max() <= 1 + atol and t.min() >= 0:
        return Checked(t, t.max(axis=0))
    with np.errstate(invalid="ignore"):
        ok = np.abs(sums - 1) <= atol
        negative = bool(t.min() < 0)
    rows = (t < 0).any(axis=0) if negative else ~ok
    row = int(np.flatnonzero(rows)[0])
    values = t[:, row]
    if negative:
        problem = f"has a negative probability ({values.min():.6g})"
    elif not np.isfinite(values).all():
        problem = "has a NaN or infinite probability (an empty cell reads as NaN)"
    else:
        problem = f"sums to {sums[row]:.6g}, {abs(sums[row] - 1):.3g} off 1 (allowed: {atol:g})"
    where = f"row {start + row}" + ("" if ids is None else f" (id {excerpt(_plain(ids[row]))})")
    bad = int(rows.sum())
    others = f"; {bad - 1} more such row{'s' if bad > 2 else ''} in the same block of {len(block)}" if bad > 1 else ""
    raise DataError(f"{where} of the pool {problem}{others}: {_FIX}")


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so that a message shows ``7``, not ``np.int64(7)``."""
    return value.item() if isinstance(value, np.generic) else value
