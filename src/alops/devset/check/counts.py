"""The running counts of `alops devset check`.

A :class:`Tally` takes typed blocks of rows (:mod:`alops.devset.dataset.blocks`) and keeps only counts (see
``alops.devset.check.stats``), so the full data streams through it in bounded memory;
tallies of blocks read on different threads merge. Corrupt rows (lines that do
not parse, cells that are not numbers in a numeric column, files that do not
open) and outliers are counted, and left out of the per-column distributions:
the builder includes them up to a capped share, so comparing them column by
column would fail a dev set built exactly as asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alops.devset.check import stats
from alops.devset.check.roles import ColumnRoles
from alops.devset.dataset.blocks import Block

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Ints = npt.NDArray[np.int64]

#: Distinct full-data values kept per column; the rest are counted together (memory stays bounded).
MAX_FULL_CATEGORIES = 10_000
OTHER = "(other values)"


@dataclass
class Tally:
    """Counts of one dataset: rows, corrupt rows, outliers, and the distribution of every compared column."""

    roles: ColumnRoles
    edges: dict[str, Floats]
    bounds: dict[str, tuple[float, float]]
    rows: int = 0
    corrupt: int = 0
    outliers: int = 0
    regular: int = 0
    bins: dict[str, Ints] = field(default_factory=dict)
    missing: Counter[str] = field(default_factory=Counter)
    moments: dict[str, stats.Moments] = field(default_factory=dict)
    categories: dict[str, Counter[str | None]] = field(default_factory=dict)

    def add(self, part: Block) -> None:
        import numpy as np
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

        self.rows += part.rows + part.unparsed
        self.corrupt += part.unparsed + int(part.corrupt.sum())
        outlier = np.zeros(part.rows, dtype=bool)
        for name, (low, high) in self.bounds.items():
            x = part.numbers[name]
            with np.errstate(invalid="ignore"):
                outlier |= (x < low) | (x > high)
        outlier &= ~part.corrupt
        self.outliers += int(outlier.sum())
        keep = ~(part.corrupt | outlier)
        self.regular += int(keep.sum())
        for name in self.roles.numeric:
            x = part.numbers[name][keep]
            self.missing[name] += int(np.isnan(x).sum())
            counts = stats.bin_counts(self.edges[name], x)
            self.bins[name] = counts + self.bins[name] if name in self.bins else counts
            self.moments.setdefault(name, stats.Moments()).add(x)
        mask = pa.array(keep)
        for name in self.roles.texts:
            found = pc.value_counts(part.texts[name].filter(mask))
            values, counts = found.field("values").to_pylist(), found.field("counts").to_pylist()
            self._count(name, zip(values, counts, strict=True))

    def merge(self, other: Tally) -> None:
        """Add the counts of ``other`` (a Tally of other rows, with the same roles, edges and bounds)."""
        self.rows += other.rows
        self.corrupt += other.corrupt
        self.outliers += other.outliers
        self.regular += other.regular
        for name, counts in other.bins.items():
            self.bins[name] = self.bins[name] + counts if name in self.bins else counts
        self.missing.update(other.missing)
        for name, m in other.moments.items():
            self.moments.setdefault(name, stats.Moments()).merge(m)
        for name, counter in other.categories.items():
            self._count(name, counter.items())

    def _count(self, name: str, found: Iterable[tuple[str | None, int]]) -> None:
        counter = self.categories.setdefault(name, Counter())
        for value, n in found:
            key = value if value in counter or len(counter) < MAX_FULL_CATEGORIES else OTHER
            counter[key] += n
