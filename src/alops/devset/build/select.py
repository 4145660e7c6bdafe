"""The final half of the sampler: merge the blocks' candidates, then choose the dev set.

Sizes first: ``n`` rows (the fraction of all rows, or the count), of which the
outliers and the corrupt rows get their share of the full data, capped by
their ``max_share`` of the dev set and at least one when there are any; the
regular rows get the rest, split over the strata by :func:`keys.quotas`. Then,
in each group, the rows with the smallest keys; except that up to half the
outliers' places (at most ``keys.MOST_EXTREME``) go first to the outliers
farthest outside their bounds, in IQRs or standard deviations at their farthest
column, so that a handful of extreme values is never lost among many mild ones.
Candidates are first cut down to the threshold the final counts give, so which
rows an early block happened to keep never shows in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from alops.devset.build import keys
from alops.devset.build.sampler import CORRUPT, OUTLIER, REGULAR, Kept, PassSettings, Running

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Bools = npt.NDArray[np.bool_]
    Floats = npt.NDArray[np.float64]


@dataclass
class Stratum:
    values: tuple[str, ...]  # table path first, then one value per stratum column
    full: int  # regular rows in the full data
    quota: int = 0
    dev: int = 0


@dataclass
class Selection:
    """What the dev set holds, per block (``chosen[i]`` masks ``blocks[i]``'s kept rows), and its counts."""

    blocks: list[Kept]
    chosen: list[Bools]
    strata: list[Stratum]
    rows: int
    target: int
    outliers: tuple[int, int]  # full data, dev set
    corrupt: tuple[int, int]
    by_column: dict[str, int]
    short: list[str] = field(default_factory=list)  # strata that ran out of candidates (see settings.SHARE_MARGIN)
    most_extreme: int = 0  # outliers taken for being the most extreme (the rest are spread by key)
    columns: dict[str, ColumnOutliers] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnOutliers:
    """One column's outliers: how many, and the farthest outside its bounds, in the full data and the dev set."""

    full: int
    dev: int
    full_farthest: float | None
    dev_farthest: float | None


@dataclass(frozen=True)
class Spilled:
    """Kept CSV lines moved to the spill file: where they start there, and each line's offset."""

    at: int
    offsets: npt.NDArray[np.int32]  # one more than lines; the first is 0

    def read(self, spill: BinaryIO) -> Any:
        """The lines back, as a pyarrow binary array (Any: pyarrow ships no types)."""
        import os

        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

        data = os.pread(spill.fileno(), int(self.offsets[-1]), self.at)
        return pa.Array.from_buffers(
            pa.binary(), len(self.offsets) - 1, [None, pa.py_buffer(self.offsets), pa.py_buffer(data)]
        )


class Merger:
    """Takes the blocks in order (on the main thread) and keeps the counts the threads read.

    With a ``spill`` file, kept CSV lines go there as they come (an append per
    block), so memory holds only their keys and offsets, whatever the sample's size.
    """

    def __init__(self, settings: PassSettings, spill: BinaryIO | None = None) -> None:
        self.settings = settings
        self.spill = spill
        self.running = Running()
        self.blocks: list[Kept] = []
        self.by_column: dict[str, int] = {}
        self.ids: dict[tuple[str, ...], int] = {}
        self.lines_before: dict[tuple[int, int], int] = {}
        self._lines: dict[int, int] = {}
        self.extremes: dict[str, tuple[float, float]] = {}  # column → its farthest outlier (distance, value)
        self._top: tuple[Floats, npt.NDArray[np.uint64]] | None = (
            None  # (distances, keys) of the most extreme outliers so far
        )

    def add(self, kept: Kept) -> None:
        """Count ``kept`` and hold its candidates."""
        import numpy as np

        run = self.running
        glob = np.array([self._id(s) for s in kept.strata], dtype=np.int32)
        for s, c in zip(kept.strata, kept.counts.tolist(), strict=True):
            run.strata[s] = run.strata.get(s, 0) + c
        regular = int(kept.counts.sum())
        run.regular += regular
        run.outliers += kept.outliers
        run.corrupt += kept.corrupt
        run.total += regular + kept.outliers + kept.corrupt
        for name, c in kept.by_column.items():
            self.by_column[name] = self.by_column.get(name, 0) + c
        for name, found in kept.extremes.items():
            self.extremes[name] = max(self.extremes.get(name, found), found)
        self._raise_the_bar(kept)
        if len(glob):  # a block of corrupt lines only has no stratum
            kept.stratum = np.where(kept.stratum >= 0, glob[np.maximum(kept.stratum, 0)], -1).astype(np.int32)
        if self.spill is not None and kept.text:
            kept.rows = self._spill(kept.rows)
        self.lines_before[(kept.table, kept.block)] = self._lines.get(kept.table, 0)
        self._lines[kept.table] = self._lines.get(kept.table, 0) + kept.lines
        self.blocks.append(kept)

    def _raise_the_bar(self, kept: Kept) -> None:
        """Keep the (distance, key) of the keys.MOST_EXTREME most extreme outliers; the last is the bar."""
        import numpy as np

        out = kept.kind == OUTLIER
        score, key = kept.score[out], kept.keys[out]
        if self._top is not None:
            score, key = np.concatenate([self._top[0], score]), np.concatenate([self._top[1], key])
        order = np.lexsort((key, -score))[: keys.MOST_EXTREME]
        self._top = score[order], key[order]
        if len(order) == keys.MOST_EXTREME:
            self.running.extreme = (float(score[order[-1]]), int(key[order[-1]]))

    def _spill(self, lines: Any) -> Spilled:
        import numpy as np

        assert self.spill is not None
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
        start, end = int(offsets[0]), int(offsets[-1])
        at = self.spill.tell()
        self.spill.write(memoryview(lines.buffers()[2])[start:end])
        return Spilled(at, (offsets - start).astype(np.int32))

    def _id(self, values: tuple[str, ...]) -> int:
        found = self.ids.get(values)
        if found is None:
            found = self.ids[values] = len(self.ids)
        return found

    def select(self) -> Selection:
        """Choose the dev set from everything merged."""
        import numpy as np

        settings, run = self.settings, self.running
        n = _size(settings, run.total)
        k_out = keys.share_count(run.outliers, run.total, n, settings.outlier_share)
        k_bad = keys.share_count(run.corrupt, run.total, n, settings.corrupt_share)
        regular_n = max(n - k_out - k_bad, 0)
        by_values = sorted(self.ids)  # quotas in a fixed order of strata, not the order they were met
        full = [run.strata.get(v, 0) for v in by_values]
        wanted = keys.quotas(full, regular_n)
        quota = np.zeros(len(self.ids), dtype=np.int64)
        for v, q in zip(by_values, wanted, strict=True):
            quota[self.ids[v]] = q
        counts = np.array([run.strata.get(v, 0) for v in sorted(self.ids, key=self.ids.__getitem__)], np.int64)

        key = np.concatenate([b.keys for b in self.blocks]) if self.blocks else np.zeros(0, np.uint64)
        kind = np.concatenate([b.kind for b in self.blocks]) if self.blocks else np.zeros(0, np.int8)
        stratum = np.concatenate([b.stratum for b in self.blocks]) if self.blocks else np.zeros(0, np.int32)
        rate = self._rate(run)
        cuts = np.array([keys.cut(rate, int(c)) for c in counts], dtype=np.uint64)
        chosen = np.zeros(len(key), dtype=bool)
        if len(cuts):
            regular = np.flatnonzero((kind == REGULAR) & (key <= cuts[np.maximum(stratum, 0)]))
        else:
            regular = np.zeros(0, dtype=np.int64)
        order = regular[np.lexsort((key[regular], stratum[regular]))]
        groups = stratum[order]
        first = np.searchsorted(groups, groups, side="left")
        rank = np.arange(len(order)) - first
        chosen[order[rank < quota[groups]]] = True
        got = np.bincount(stratum[chosen], minlength=len(self.ids)) if len(self.ids) else np.zeros(0, np.int64)
        special = settings.fraction if settings.count is None else min(1.0, settings.count / max(run.total, 1))
        # The most extreme outliers first (up to half the outliers' places), the rest spread over all outliers.
        score = np.concatenate([b.score for b in self.blocks]) if self.blocks else np.zeros(0)
        outlying = np.flatnonzero(kind == OUTLIER)
        extreme_n = min(-(-k_out // 2), keys.MOST_EXTREME, len(outlying))
        chosen[outlying[np.lexsort((key[outlying], -score[outlying]))[:extreme_n]]] = True
        for what, found, k in ((OUTLIER, run.outliers, k_out - extreme_n), (CORRUPT, run.corrupt, k_bad)):
            pool = np.flatnonzero((kind == what) & (key <= np.uint64(keys.cut(special or 1.0, found))) & ~chosen)
            chosen[pool[np.argsort(key[pool], kind="stable")[:k]]] = True
        strata = [Stratum(v, run.strata.get(v, 0), int(quota[self.ids[v]]), int(got[self.ids[v]])) for v in by_values]
        short = [_show(s.values) for s in strata if s.dev < s.quota]
        per_block, at = [], 0
        for b in self.blocks:
            per_block.append(chosen[at : at + len(b.keys)])
            at += len(b.keys)
        return Selection(
            most_extreme=extreme_n,
            columns=self._columns(per_block),
            blocks=self.blocks,
            chosen=per_block,
            strata=strata,
            rows=int(chosen.sum()),
            target=n,
            outliers=(run.outliers, int(((kind == OUTLIER) & chosen).sum())),
            corrupt=(run.corrupt, int(((kind == CORRUPT) & chosen).sum())),
            by_column=self.by_column,
            short=short,
        )

    def _columns(self, per_block: list[Bools]) -> dict[str, ColumnOutliers]:
        """Per column with bounds: its outliers in the full data and in the dev set, and the farthest of each."""
        import numpy as np

        from alops.devset.build import outliers

        names = sorted(self.settings.bounds)
        parts = [b.out_values[m[b.kind == OUTLIER]] for b, m in zip(self.blocks, per_block, strict=True)]
        values = np.concatenate(parts) if parts else np.zeros((0, len(names)))
        out = {}
        for j, name in enumerate(names):
            b = self.settings.bounds[name]
            dev = outliers.farthest(b, values[:, j])
            full = self.extremes.get(name)
            out[name] = ColumnOutliers(
                full=self.by_column.get(name, 0),
                dev=int((outliers.distance(b, values[:, j]) > 0).sum()),
                full_farthest=full[1] if full else None,
                dev_farthest=dev[1] if dev else None,
            )
        return out

    def _rate(self, run: Running) -> float:
        if self.settings.count is not None:
            return min(1.0, self.settings.count / max(run.regular, 1))
        return self.settings.regular_rate


def _size(settings: PassSettings, total: int) -> int:
    if settings.count is not None:
        return min(settings.count, total)
    return min(total, max(1, round((settings.fraction or 0.0) * total))) if total else 0


def _show(values: tuple[str, ...]) -> str:
    return "/".join(v or "(empty)" for v in values[1:]) or values[0] or "(all rows)"
