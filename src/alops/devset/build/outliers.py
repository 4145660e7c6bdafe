"""Numeric outliers: the bounds of each column, from an evenly spread sample of the full data.

The bounds are fixed before the streaming pass, so every row is classified the
moment it is read (one pass, nothing held back to decide later). They come from
up to 4 MB of lines taken at 64 places spread over the data, the whole data when
it is smaller: a deterministic sample, so the same data gives the same bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alops.devset.build.spec import Outliers

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Bounds:
    """Values below ``low`` or above ``high`` are outliers (NaN, a missing value, never is).

    ``scale`` is the rule's unit (the IQR, or the standard deviation): how far
    outside the bounds a value is, in that unit, ranks outliers across columns.
    """

    low: float
    high: float
    scale: float = 1.0


def bounds(rule: Outliers, samples: Mapping[str, list[Floats]]) -> dict[str, Bounds]:
    """The bounds of each column from its sampled values, by ``rule`` (IQR or z-score).

    A column without finite values, or whose spread is 0 under the z-score rule,
    has no outliers: its bounds are infinite.
    """
    import numpy as np

    out = {}
    k = rule.threshold
    for name, parts in samples.items():
        values = np.concatenate(parts) if parts else np.zeros(0)
        values = values[np.isfinite(values)]
        if not len(values):
            out[name] = Bounds(-np.inf, np.inf)
        elif rule.rule == "zscore":
            mean, sd = float(values.mean()), float(values.std())
            out[name] = Bounds(mean - k * sd, mean + k * sd, sd) if sd > 0 else Bounds(-np.inf, np.inf)
        else:
            q1, q3 = (float(q) for q in np.quantile(values, [0.25, 0.75]))
            # No spread (q1 = q3): every other value is an outlier, ranked by its plain distance.
            out[name] = Bounds(q1 - k * (q3 - q1), q3 + k * (q3 - q1), (q3 - q1) or 1.0)
    return out


def flags(found: Mapping[str, Bounds], numbers: Mapping[str, Floats], rows: int) -> tuple[Bools, dict[str, int]]:
    """Which rows are outliers in any column, and how many per column."""
    import numpy as np

    out = np.zeros(rows, dtype=bool)
    per_column = {}
    for name, b in found.items():
        values = numbers.get(name)
        if values is None:  # a column this table does not have
            continue
        hit = (values < b.low) | (values > b.high)
        per_column[name] = int(np.count_nonzero(hit))
        out |= hit
    return out, per_column


def scores(found: Mapping[str, Bounds], numbers: Mapping[str, Floats], rows: int) -> Floats:
    """How far outside its bounds each row is, in the rule's unit (IQRs, standard deviations), at its
    farthest column; 0 for a row inside all of them."""
    import numpy as np

    out = np.zeros(rows)
    for name, b in found.items():
        values = numbers.get(name)
        if values is not None:
            np.maximum(out, distance(b, values), out=out)
    return out


def distance(b: Bounds, values: Floats) -> Floats:
    """How far outside ``b`` each value is, in ``b.scale`` units (0 inside, and for NaN)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        far = np.maximum(b.low - values, values - b.high) / b.scale
    return np.where(far > 0, far, 0.0)


def farthest(b: Bounds, values: Floats) -> tuple[float, float] | None:
    """The outlier of ``values`` farthest outside ``b``, as (distance, value); None when there is none.

    Ties (a value as far below as another is above) go to the larger value, so the
    answer does not depend on the order of ``values``.
    """
    import numpy as np

    far = distance(b, values)
    hit = np.flatnonzero(far > 0)
    if not len(hit):
        return None
    best = hit[np.lexsort((values[hit], far[hit]))[-1]]
    return float(far[best]), float(values[best])
