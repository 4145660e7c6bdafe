"""The per-block half of the sampler: classify rows, key them, keep the candidates.

Runs on the scanning threads. Each row is regular, an outlier or corrupt; a
row stays a candidate when its key is under a threshold (:func:`keys.cut`)
that depends only on counts already seen, which are lower bounds of the final
ones, so every row the final selection could need is kept whatever the order
blocks finish in. Outliers also stay candidates while they are among the
``keys.MOST_EXTREME`` most extreme seen so far (a bar that only rises). Kept
rows carry their text (CSV lines, verbatim) or their record-batch rows
(Parquet): memory grows with the sample, not the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.devset.build import keys, outliers
from alops.devset.build.outliers import Bounds
from alops.devset.dataset import csvblock, manifest

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from alops.devset.dataset.scan import CsvTable

    Ints = npt.NDArray[np.int64]
    Bools = npt.NDArray[np.bool_]
    Floats = npt.NDArray[np.float64]
    Keys = npt.NDArray[np.uint64]
    Codes = tuple[npt.NDArray[np.int32], list[str]]

REGULAR, OUTLIER, CORRUPT = 0, 1, 2


@dataclass(frozen=True)
class PassSettings:
    """What every block needs to know, fixed before the pass."""

    seed: int
    fraction: float | None
    count: int | None
    regular_rate: float  # with a fraction: the highest rate regular rows can be sampled at
    strata: tuple[str, ...]  # the columns that make a stratum (label, split, stratify)
    bounds: dict[str, Bounds]
    outlier_share: float = 0.0  # outliers.max_share (0: no outlier rule)
    corrupt_share: float = 0.0  # corrupt.max_share
    files_base: Path | None = None  # a folder of files: rows whose file does not open are corrupt


class Running:
    """Counts of the blocks merged so far; threads read them (any value read is a lower bound)."""

    def __init__(self) -> None:
        self.strata: dict[tuple[str, ...], int] = {}
        self.regular = 0
        self.outliers = 0
        self.corrupt = 0
        self.total = 0
        # (distance, key) of the keys.MOST_EXTREME-th most extreme outlier merged so far (it only gets more
        # extreme): an outlier less extreme than that can never be one of the most extreme of the data.
        self.extreme: tuple[float, int] = (-1.0, 0)


@dataclass
class Kept:
    """One block's counts and its candidate rows, in row order."""

    table: int
    block: int
    lines: int  # lines of the block, empty ones included (for line numbers)
    strata: list[tuple[str, ...]]  # the block's strata (table path first)
    counts: Ints  # regular rows per stratum of ``strata``
    outliers: int
    corrupt: int
    by_column: dict[str, int]
    keys: Keys  # the key of each kept row
    kind: npt.NDArray[np.int8]  # REGULAR, OUTLIER or CORRUPT
    stratum: npt.NDArray[np.int32]  # index into ``strata`` (-1: not a regular row)
    where: Ints  # line of the block, empty lines counted (CSV), or row of the table (Parquet)
    # The kept rows: CSV lines (a pyarrow binary array, or select.Spilled once in the spill file), or a
    # Parquet record batch; Any because pyarrow ships no types.
    rows: Any
    score: Floats  # how far outside the bounds each kept row is (outliers.scores; 0: not an outlier)
    out_values: Floats  # (kept outliers x sorted bound columns): the kept outliers' values
    text: bool = False  # CSV lines
    paths: list[str | None] | None = None  # a folder of files: each kept row's file
    why: dict[int, str] = field(default_factory=dict)  # kept row → why it is corrupt
    extremes: dict[str, tuple[float, float]] = field(default_factory=dict)  # column → the block's farthest outlier


def csv_block(
    settings: PassSettings,
    running: Running,
    t: int,
    table: CsvTable,
    columns: csvblock.Columns,
    index: int,
    data: bytes | memoryview,
) -> Kept:
    """Parse, classify and thin one CSV block."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    parsed = csvblock.parse(data, columns)
    every = keys.row_keys(keys.block_base(settings.seed, table.rel, index), 0, parsed.count)
    names: list[str | None] | None = None
    if settings.files_base is not None:
        names = list(parsed.texts.get(manifest.PATH_COLUMN, []))
    rows = _Rows(every[parsed.rows], parsed.numbers, parsed.codes, names, every[parsed.corrupt], parsed.corrupt)
    core = _classify(settings, running, table.rel, rows, parsed.reasons, parsed.rows)
    where = parsed.whole(core.lines)
    # The kept lines are copied out of the block in C++ (the GIL is free meanwhile).
    lines = pc.take(csvblock.lines_array(data, parsed.bounds), pa.array(where), memory_pool=csvblock.pool())
    return core.kept(t, index, len(parsed.bounds) - 1, where.astype(np.int64), lines, text=True)


def parquet_batch(
    settings: PassSettings, running: Running, t: int, rel: str, batch: Any, first: int, numeric: tuple[str, ...]
) -> Kept:
    """Classify and thin one Parquet record batch whose first row is row ``first`` of the table."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    from alops.devset.dataset import parquet

    n = batch.num_rows
    every = keys.row_keys(keys.block_base(settings.seed, rel, 0), first, n)
    numbers = {name: parquet.floats(batch.column(name)) for name in numeric}
    codes = {name: parquet.texts(batch.column(name)) for name in settings.strata}
    names = batch.column(manifest.PATH_COLUMN).to_pylist() if settings.files_base is not None else None
    rows = _Rows(every, numbers, codes, names, np.zeros(0, np.uint64), np.zeros(0, np.int64))
    core = _classify(settings, running, rel, rows, {}, np.arange(n, dtype=np.int64))
    return core.kept(t, first // parquet.BATCH_ROWS, 0, core.lines + first, batch.take(pa.array(core.lines)))


@dataclass
class _Rows:
    keys: Keys  # of the rows that parsed
    numbers: dict[str, Floats]
    codes: dict[str, Codes]
    paths: list[str | None] | None
    corrupt_keys: Keys  # keys of the lines that did not parse
    corrupt_lines: Ints  # and their line indices


@dataclass
class _Core:
    """The classification of one block, its kept rows sorted by line (or row) index."""

    strata: list[tuple[str, ...]]
    counts: Ints
    outliers: int
    corrupt: int
    by_column: dict[str, int]
    lines: Ints  # line (row) index of each kept row, ascending
    keys: Keys
    kind: npt.NDArray[np.int8]
    stratum: npt.NDArray[np.int32]
    paths: list[str | None] | None
    why: dict[int, str]
    score: Floats
    out_values: Floats
    extremes: dict[str, tuple[float, float]] = field(default_factory=dict)

    def kept(self, t: int, block: int, lines: int, where: Ints, rows: Any, *, text: bool = False) -> Kept:
        return Kept(
            table=t,
            block=block,
            lines=lines,
            strata=self.strata,
            counts=self.counts,
            outliers=self.outliers,
            corrupt=self.corrupt,
            by_column=self.by_column,
            keys=self.keys,
            kind=self.kind,
            stratum=self.stratum,
            where=where,
            rows=rows,
            score=self.score,
            out_values=self.out_values,
            text=text,
            paths=self.paths,
            why=self.why,
            extremes=self.extremes,
        )


def _classify(
    settings: PassSettings, running: Running, rel: str, rows: _Rows, reasons: dict[int, str], lines: Ints
) -> _Core:
    """Which rows are regular, outliers or corrupt, and which of them stay candidates."""
    import numpy as np

    n = len(rows.keys)
    broken = np.zeros(n, dtype=bool)
    why = dict(reasons)
    if settings.files_base is not None and rows.paths is not None:
        for i, problem in enumerate(manifest.problems(settings.files_base, rows.paths)):
            if problem is not None:
                broken[i] = True
                why[int(lines[i])] = problem
    is_out, by_column = outliers.flags(settings.bounds, rows.numbers, n)
    is_out &= ~broken
    regular = ~is_out & ~broken
    strata, local = _strata(rel, settings.strata, rows.codes, n)
    counts = np.bincount(local[regular], minlength=len(strata)).astype(np.int64)
    n_out = int(is_out.sum())
    n_bad = len(rows.corrupt_keys) + int(broken.sum())
    if settings.count is not None:  # the rate is at most count / rows seen so far
        rate = min(1.0, settings.count / max(running.regular + int(counts.sum()), 1))
        special = min(1.0, settings.count / (running.total + n + len(rows.corrupt_keys)))
    else:
        rate, special = settings.regular_rate, settings.fraction or 1.0
    cuts = np.array(
        [keys.cut(rate, running.strata.get(s, 0) + int(c)) for s, c in zip(strata, counts, strict=True)], np.uint64
    )
    keep = regular & (rows.keys <= cuts[local])
    keep |= is_out & (rows.keys <= np.uint64(keys.cut(special, running.outliers + n_out)))
    score = np.where(is_out, outliers.scores(settings.bounds, rows.numbers, n), 0.0)
    keep |= _most_extreme(is_out, score, rows.keys, running.extreme)
    bad_cut = np.uint64(keys.cut(special, running.corrupt + n_bad))
    keep |= broken & (rows.keys <= bad_cut)
    unparsed = rows.corrupt_keys <= bad_cut
    kind = np.where(broken, CORRUPT, np.where(is_out, OUTLIER, REGULAR)).astype(np.int8)
    at = np.concatenate([lines[keep], rows.corrupt_lines[unparsed]])
    order = np.argsort(at, kind="stable")
    kept_paths = None
    if rows.paths is not None:
        listed = [rows.paths[i] for i in np.flatnonzero(keep)] + [None] * int(unparsed.sum())
        kept_paths = [listed[i] for i in order]
    at = at[order]
    source_row = np.concatenate([np.flatnonzero(keep), np.full(int(unparsed.sum()), -1)])[order]
    kept_kind = np.concatenate([kind[keep], np.full(int(unparsed.sum()), CORRUPT, np.int8)])[order]
    names = sorted(settings.bounds)
    out_rows = source_row[kept_kind == OUTLIER]
    nan = np.full(len(out_rows), np.nan)
    columns = [rows.numbers[c][out_rows] if c in rows.numbers else nan for c in names]
    out_values = np.column_stack(columns) if columns else np.zeros((len(out_rows), 0))
    extremes = {}
    for name in names:
        values = rows.numbers.get(name)
        found = outliers.farthest(settings.bounds[name], values[is_out]) if values is not None else None
        if found is not None:
            extremes[name] = found
    return _Core(
        strata=strata,
        counts=counts,
        outliers=n_out,
        corrupt=n_bad,
        by_column=by_column,
        lines=at,
        keys=np.concatenate([rows.keys[keep], rows.corrupt_keys[unparsed]])[order],
        kind=kept_kind,
        stratum=np.concatenate([np.where(regular, local, -1)[keep], np.full(int(unparsed.sum()), -1)])[order].astype(
            np.int32
        ),
        paths=kept_paths,
        why={j: why[int(line)] for j, line in enumerate(at.tolist()) if int(line) in why} if why else {},
        score=np.concatenate([score[keep], np.zeros(int(unparsed.sum()))])[order],
        out_values=out_values,
        extremes=extremes,
    )


def _most_extreme(is_out: Bools, score: Floats, row_keys: Keys, threshold: tuple[float, int]) -> Bools:
    """The outliers that can still be among the keys.MOST_EXTREME most extreme of the data (by distance,
    then key): at least as extreme as ``threshold``, and among that many most extreme of the block."""
    import numpy as np

    low, key = threshold
    can = np.flatnonzero(is_out & ((score > low) | ((score == low) & (row_keys <= np.uint64(key)))))
    if len(can) > keys.MOST_EXTREME:
        can = can[np.lexsort((row_keys[can], -score[can]))[: keys.MOST_EXTREME]]
    out = np.zeros(len(is_out), dtype=bool)
    out[can] = True
    return out


def _strata(rel: str, columns: tuple[str, ...], codes: dict[str, Codes], n: int) -> tuple[list[tuple[str, ...]], Ints]:
    """The strata of a block (their values, table path first) and each row's stratum index.

    Combinations are numbered one column at a time: the ids so far times the next
    column's size, then renumbered to the combinations present (fewer than the
    rows). A product of all the columns' sizes would overflow int64 with a few
    columns of many values, and wrap into strata that do not exist.
    """
    import numpy as np

    local = np.zeros(n, dtype=np.int64)
    found = np.zeros((1, 0), dtype=np.int64)  # the codes of each combination present, one column each
    for name in columns:
        c, values = codes[name]
        size = max(len(values), 1)
        mixed = local * size + np.asarray(c, dtype=np.int64)  # < rows x size: no overflow
        span = len(found) * size
        if span <= 4 * n + 1024:  # few combinations: a lookup table, no sort
            present = np.bincount(mixed, minlength=span) > 0
            uniq = np.flatnonzero(present)
            local = (np.cumsum(present) - 1)[mixed]
        else:
            uniq, local = np.unique(mixed, return_inverse=True)
        found = np.column_stack([found[uniq // size], uniq % size])
        local = np.asarray(local, dtype=np.int64).reshape(-1)
    if not columns:
        return [(rel,)], local
    names = [codes[name][1] for name in columns]
    strata = [(rel, *(names[j][d] for j, d in enumerate(row))) for row in found.tolist()]
    return strata, local
