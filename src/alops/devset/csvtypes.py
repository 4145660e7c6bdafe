"""Which columns of a CSV table hold numbers, and sampled values of them, before the pass.

Columns are typed from lines spread over the table (``scan.presample``), the
way ``alops devset check`` types them: a column is numeric when most of its
non-empty values are numbers. Those lines also give the values the outlier
bounds come from, and the shares of outliers and corrupt rows to expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops.devset import csvblock

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]

#: A text column is numeric when at least this share of its non-empty sampled values are numbers.
NUMERIC_SHARE = 0.9


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
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    wanted = tuple(n for n in names if n not in text)
    if not data:
        return Sampled((), {}, 0, 0)
    try:
        table, skipped = csvblock.read(data, csvblock.Columns(names, delimiter, wanted, ()), text_numbers=True)
    except (pa.ArrowInvalid, csvblock.Mismatch):  # not UTF-8, say: count what the slow path can read
        parsed = csvblock.parse(data, csvblock.Columns(names, delimiter, (), ()))
        return Sampled((), {}, parsed.count, len(parsed.corrupt))
    bad = np.zeros(table.num_rows, dtype=bool)
    found: dict[str, Any] = {}
    for name in wanted:
        trimmed = pc.utf8_trim_whitespace(table.column(name))
        empty = pc.equal(trimmed, "")
        number = pc.match_substring_regex(trimmed, csvblock.NUMBER)
        filled = table.num_rows - int(pc.sum(empty).as_py() or 0)
        hits = int(pc.sum(number).as_py() or 0)
        if hits > 0 and hits >= NUMERIC_SHARE * filled:
            bad |= ~np.asarray(pc.or_(number, empty).to_numpy(zero_copy_only=False), dtype=bool)
            found[name] = pc.cast(pc.if_else(number, trimmed, pa.scalar(None, pa.string())), pa.float64())
    numbers = {}
    for name, values in found.items():
        v = np.array(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        bad |= np.isinf(v)
        numbers[name] = v
    for v in numbers.values():
        v[bad] = np.nan
    return Sampled(tuple(found), numbers, table.num_rows + len(skipped), len(skipped) + int(bad.sum()))
