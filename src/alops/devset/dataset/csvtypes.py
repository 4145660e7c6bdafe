"""Which columns of a CSV table hold numbers, and sampled values of them, before the pass.

Columns are typed from lines spread over the table (``scan.presample``) by
the rule ``alops devset check`` types them with (:mod:`alops.devset.dataset.cells`): a column is
numeric when most of its non-empty values are numbers. Those lines also give the values the outlier
bounds come from, and the shares of outliers and corrupt rows to expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from alops.devset.dataset import cells, csvblock

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]

#: A text column is numeric when at least this share of its non-empty sampled values are numbers.
NUMERIC_SHARE = cells.NUMERIC_SHARE


@dataclass
class Sampled:
    """Sampled lines of a table, read before the pass: which columns are numeric, and their values."""

    numeric: tuple[str, ...]
    numbers: dict[str, Floats]
    rows: int  # lines sampled
    corrupt: int  # of which do not parse


def sample(data: bytes, names: tuple[str, ...], delimiter: str, text: set[str]) -> Sampled:
    """Type the columns (not in ``text``) from sampled lines and read their numbers, in one parse.

    Values of a row that is corrupt in any numeric column are left out (NaN).
    """
    import numpy as np

    wanted = tuple(n for n in names if n not in text)
    if not data:
        return Sampled((), {}, 0, 0)
    # The block reader of the pass: lines that do not parse (or are not UTF-8) are corrupt here too.
    parsed = csvblock.parse(data, csvblock.Columns(names, delimiter, (), (), (), wanted))
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
