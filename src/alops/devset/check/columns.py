"""How `alops devset check` reads each column: numbers, categories, or not at all.

CSV cells arrive as text (lines that are not UTF-8 are already counted
corrupt, by the builder's block parser). Which columns are numeric and what a
number is come from :mod:`alops.devset.dataset.cells`, the builder's own definitions: a numeric
column's cell that is not a number makes its row corrupt, in every numeric
column, compared or not (identifiers too), as the builder counts it; an empty
cell is a missing value. Nested and binary columns are carried, not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.devset.dataset import cells
from alops.devset.dataset.read import PATH_COLUMN, Chunk

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    Floats = npt.NDArray[np.float64]
    Bools = npt.NDArray[np.bool_]

#: A text column is numeric when at least this share of its non-empty dev values are numbers (as the builder says).
NUMERIC_SHARE = cells.NUMERIC_SHARE
#: Categorical columns with more distinct dev values than this (or than half the dev rows) are identifiers: skipped.
MAX_CATEGORIES = 1000


@dataclass(frozen=True)
class Plan:
    """How each column is compared."""

    label: str | None  # None: the data has no label column
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]  # the label excluded
    outliers: tuple[str, ...]
    skipped: dict[str, str]  # column → why it is not compared
    parsed: tuple[str, ...] = ()  # every numeric column, compared or not: a cell that is not a number is corrupt
    parsed_in: dict[Path, tuple[str, ...]] = field(default_factory=dict)  # per table, when the builder typed it

    def numeric_in(self, table: Path) -> tuple[str, ...]:
        """The numeric columns of ``table`` (the builder's typing of it), whose non-numbers are corrupt."""
        return self.parsed_in.get(table, self.parsed)

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.label, *self.categorical) if self.label else self.categorical


def not_compared(chunks: Sequence[Chunk], column: str) -> str | None:
    """Why a column is never compared whatever its values (nested, or bytes), or None."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    for chunk in chunks:
        arr = chunk.columns.get(column)
        if arr is None:
            continue
        if cells.is_nested(arr.type):
            return f"a nested type ({arr.type}): carried into the dev set, not compared"
        if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
            return "bytes, not text: carried into the dev set, not compared"
    return None


def _numbers(text: pa.Array) -> tuple[Floats, Bools]:
    """Text cells as numbers (NaN: empty or not a number), and which are not numbers (corrupt)."""
    return cells.numbers(text)


def _is_text(t: pa.DataType) -> bool:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _text(arr: pa.Array) -> tuple[pa.Array, Bools | None]:
    """CSV cells (bytes) as text, and which are not UTF-8 (None: all are); those become null."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    if not pa.types.is_binary(arr.type):
        return arr, None
    try:
        return arr.cast(pa.string()), None
    except pa.ArrowInvalid:  # rare: find the cells, one by one
        values, bad = [], np.zeros(len(arr), dtype=bool)
        for i, raw in enumerate(arr.to_pylist()):
            try:
                values.append(raw.decode("utf-8") if raw is not None else None)
            except UnicodeDecodeError:
                values.append(None)
                bad[i] = True
        return pa.array(values, pa.string()), bad


def _as_string(arr: pa.Array) -> pa.Array:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    if _is_text(arr.type):
        return _text(arr)[0]
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # nested, or bytes in one table of several: missing
        return pa.nulls(len(arr), pa.string())


def _numeric_type(t: pa.DataType) -> bool:
    return cells.is_numeric_type(t)


@dataclass
class Rows:
    """One chunk, typed: numbers as floats (NaN: missing), categories as text (null: missing)."""

    rows: int
    invalid: int
    corrupt: Bools
    numbers: dict[str, Floats]
    texts: dict[str, pa.Array]


def typed(chunk: Chunk, plan: Plan) -> Rows:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    corrupt = np.zeros(chunk.rows, dtype=bool) if chunk.unopenable is None else chunk.unopenable.copy()
    numbers: dict[str, Any] = {}
    for name in {*plan.numeric, *plan.outliers, *plan.numeric_in(chunk.table)}:
        arr = chunk.columns.get(name)
        if arr is None:
            numbers[name] = np.full(chunk.rows, np.nan)
        elif _is_text(arr.type):
            text, bad = _text(arr)
            if bad is not None:
                corrupt |= bad
            values, bad = _numbers(text)
            corrupt |= bad
            numbers[name] = values
        elif _numeric_type(arr.type):
            numbers[name] = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        else:  # another type in one of several tables: not comparable, so missing
            numbers[name] = np.full(chunk.rows, np.nan)
    texts = {}
    for name in plan.texts:
        arr = chunk.columns.get(name)
        if arr is None:
            arr = pa.nulls(chunk.rows, pa.string())
        elif _is_text(arr.type):
            arr, bad = _text(arr)
            if bad is not None:
                corrupt |= bad
        else:
            arr = _as_string(arr)
        texts[name] = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return Rows(chunk.rows, chunk.invalid, corrupt, numbers, texts)


def skipped_reason(dev: Sequence[Chunk], column: str, regular_rows: int) -> str | None:
    """Why a text column is not compared (identifier-like: too many distinct values), or None."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    if column == PATH_COLUMN:
        return "the file path of each sample"
    parts = [_as_string(c.columns[column]) for c in dev if column in c.columns and len(c.columns[column])]
    distinct = len(pc.unique(pa.chunked_array(parts, pa.string()))) if parts else 0
    if distinct > MAX_CATEGORIES or (distinct > 20 and distinct > regular_rows / 2):
        return f"an identifier: {distinct} distinct values in the dev set"
    return None
