"""The role of each column in `alops devset check`: the label, compared as numbers or as categories, or not at all.

Which columns hold numbers is the dataset layer's answer
(:mod:`alops.devset.dataset.columns`, the builder's typing of the full data): a
column is compared as numbers when every table holding it types it numeric.
Nested and binary columns are carried into the dev set, not compared;
identifiers (a manifest's paths, text with too many distinct values, distinct
whole numbers) are not compared either: new rows bring new ones whether or not
the data changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alops.devset.dataset.blocks import Block
from alops.devset.dataset.locate import Dataset, Table
from alops.devset.dataset.manifest import PATH_COLUMN
from alops.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from alops.devset.check.spec import CheckSpec

    Floats = npt.NDArray[np.float64]

#: Categorical columns with more distinct dev values than this (or than half the dev rows) are identifiers: skipped.
MAX_CATEGORIES = 1000
#: Numeric columns with more than this many dev values, all distinct whole numbers, are identifiers: skipped.
MIN_IDENTIFIER_VALUES = 20


@dataclass(frozen=True)
class ColumnRoles:
    """How each column is compared."""

    label: str | None  # None: the data has no label column
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]  # the label excluded
    outliers: tuple[str, ...]
    skipped: dict[str, str]  # column → why it is not compared

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.label, *self.categorical) if self.label else self.categorical


def candidates(
    spec: CheckSpec,
    label: str | None,
    shared: Sequence[str],
    tables: Sequence[Table],
    numeric_in: Mapping[Path, tuple[str, ...]],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The shared columns (the label aside) to read as numbers, and those to read as text, before their roles are known.

    Numbers: those that every table holding them (``tables``, of both datasets) types numeric (``numeric_in``).
    """
    holding: dict[str, list[bool]] = {}
    for table in tables:
        chosen = set(numeric_in.get(table.path, ()))
        for name in table.names:
            holding.setdefault(name, []).append(name in chosen)
    categorical_always = {spec.split, *spec.stratify} - {None}
    numbers, texts = [], []
    for name in shared:
        if name == label:
            continue
        if name not in categorical_always and all(holding.get(name, [False])):
            numbers.append(name)
        else:
            texts.append(name)
    return tuple(numbers), tuple(texts)


def roles(
    spec: CheckSpec,
    label: str | None,
    dev: Dataset,
    dev_blocks: Sequence[Block],
    numbers: Sequence[str],
    texts: Sequence[str],
) -> ColumnRoles:
    """The roles of the candidate columns, from the dev set: identifiers and types that do not compare are skipped."""
    rows = sum(b.rows for b in dev_blocks)
    categorical_always = {spec.split, *spec.stratify} - {None}
    skipped: dict[str, str] = {}
    numeric, categorical = [], []
    for name in numbers:
        why = not_compared(dev, name) or number_identifier(dev_blocks, name)
        if why:
            skipped[name] = why
        else:
            numeric.append(name)
    for name in texts:
        why = not_compared(dev, name)
        if why is None and name not in categorical_always:
            why = text_identifier(dev_blocks, name, rows)
        if why:
            skipped[name] = why
        else:
            categorical.append(name)
    outliers: tuple[str, ...] = ()
    if spec.outlier_rule:
        # Identifier columns stay outlier columns if the rule says so.
        compared = [n for n in numbers if not_compared(dev, n) is None]
        outliers = spec.outlier_columns or tuple(compared)
        for name in outliers:
            if name not in compared:
                raise ConfigError(
                    f"datasets.dev.build.outliers.columns: {name!r} is not a numeric column of both "
                    f"{spec.source} and {spec.output}: list numeric columns only"
                )
    return ColumnRoles(label, tuple(numeric), tuple(categorical), outliers, skipped)


def not_compared(dataset: Dataset, column: str) -> str | None:
    """Why a column is never compared whatever its values (nested, or bytes), or None."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    from alops.devset.dataset import cells

    for table in dataset.tables:
        if table.handle is None or column not in table.names:
            continue
        t = table.handle.schema_arrow.field(column).type
        if cells.is_nested(t):
            return f"a nested type ({t}): carried into the dev set, not compared"
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return "bytes, not text: carried into the dev set, not compared"
    return None


def text_identifier(dev: Sequence[Block], column: str, regular_rows: int) -> str | None:
    """Why a text column is not compared (a file path, or too many distinct values), or None."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    if column == PATH_COLUMN:
        return "the file path of each sample"
    parts = [b.texts[column] for b in dev if len(b.texts[column])]
    distinct = len(pc.unique(pa.chunked_array(parts, pa.string()))) if parts else 0
    if distinct > MAX_CATEGORIES or (distinct > 20 and distinct > regular_rows / 2):
        return f"an identifier: {distinct} distinct values in the dev set"
    return None


def number_identifier(dev: Sequence[Block], column: str) -> str | None:
    """Why a numeric column is not compared: its dev values are distinct whole numbers (row ids), or None.

    New rows get new ids, so their distribution moves whenever data is added,
    whether or not the features do.
    """
    import numpy as np

    x = values(dev, column)
    x = x[np.isfinite(x)]
    if len(x) > MIN_IDENTIFIER_VALUES and bool(np.all(x == np.round(x))) and len(np.unique(x)) == len(x):
        return f"an identifier: {len(x)} distinct whole numbers in the dev set"
    return None


def values(parts: Sequence[Block], name: str) -> Floats:
    """The values of a numeric column in rows that are not corrupt."""
    import numpy as np

    return np.concatenate([p.numbers[name][~p.corrupt] for p in parts] or [np.zeros(0)])
