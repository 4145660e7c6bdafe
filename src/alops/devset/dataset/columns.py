"""Which columns of each table hold numbers, and sampled values of them, read before the pass.

A CSV table is typed from lines spread evenly over it (``scan.presample``) by the
rule of :mod:`alops.devset.dataset.cells` (a column is numeric when most of its
non-empty values are numbers); a Parquet table by its schema, with a few of its
batches as the sample (``parquet.sample``). The same sample gives the outlier
bounds and the shares of outliers and corrupt rows to expect. It depends on the
files only, so `alops devset build` and `alops devset check` type every table
alike and call the same rows outliers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alops.devset.dataset import cells, csvblock, parquet, scan
from alops.devset.dataset.locate import Dataset, Table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]


@dataclass
class Sampled:
    """A table's sampled rows: which columns are numeric, and the values of those asked for."""

    numeric: tuple[str, ...]
    numbers: dict[str, Floats]  # NaN: missing, or the row is corrupt in a numeric column
    rows: int  # rows sampled
    corrupt: int  # of which do not parse


def sample(dataset: Dataset, text: set[str], values_of: Callable[[str], bool]) -> dict[str, Sampled]:
    """Each table's (by ``rel``) numeric columns, not those in ``text``, and the sampled values of
    those that ``values_of`` accepts (the outlier columns)."""
    pieces = scan.presample([t.csv for t in dataset.tables if t.csv is not None])
    return {t.rel: _csv(t, pieces[t.rel], text) if t.csv else _parquet(t, text, values_of) for t in dataset.tables}


def _csv(table: Table, data: bytes, text: set[str]) -> Sampled:
    """Type the columns from sampled lines and read their numbers, in one parse.

    Values of a row that is corrupt in any numeric column are left out (NaN).
    """
    import numpy as np

    assert table.csv is not None
    if not data:
        return Sampled((), {}, 0, 0)
    wanted = tuple(n for n in table.names if n not in text)
    # The block parser of the pass: lines that do not parse (or are not UTF-8) are corrupt here too.
    parsed = csvblock.parse(data, csvblock.Columns(table.names, table.csv.delimiter, (), (), (), wanted))
    rows = len(parsed.rows)
    bad = np.zeros(rows, dtype=bool)
    numbers = {}
    for name in wanted:
        column = parsed.strings[name]
        if cells.is_numeric(*cells.number_counts(column)):
            values, not_number = cells.numbers(column)
            bad |= not_number
            numbers[name] = values
    for v in numbers.values():
        v[bad] = np.nan
    return Sampled(tuple(numbers), numbers, rows + len(parsed.corrupt), len(parsed.corrupt) + int(bad.sum()))


def _parquet(table: Table, text: set[str], values_of: Callable[[str], bool]) -> Sampled:
    import numpy as np

    numeric = tuple(n for n in parquet.numeric(table.handle) if n not in text)
    wanted = [n for n in numeric if values_of(n)]
    batches = list(parquet.sample(table.handle, wanted, table.path))
    numbers = {n: np.concatenate([parquet.floats(b.column(n)) for b in batches] or [np.zeros(0)]) for n in wanted}
    return Sampled(numeric, numbers, sum(b.num_rows for b in batches), 0)
