"""What a cell is, one definition for `alops devset build` and `alops devset check`.

* A line that is not UTF-8 text is a corrupt row (:func:`not_utf8`): any cell
  of it, parsed by the builder or not, compared by the check or not. (A line
  is UTF-8 exactly when all its cells are: delimiters and quotes are ASCII.)
* A number is ``NUMBER`` after trimming spaces, and finite: "nan", "inf",
  ``1e999`` or stray text in a numeric column make the row corrupt; an empty
  cell is a missing value (:func:`numbers`).
* A text column is numeric when at least ``NUMERIC_SHARE`` of its non-empty
  values are numbers (:func:`is_numeric`); a typed (Parquet) column when it
  holds integers, floats or decimals (:func:`is_numeric_type`).
* Nested columns (struct, list, map, union) are carried into the dev set as
  they are, never compared or used as strata (:func:`is_nested`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Floats = npt.NDArray[np.float64]
    Bools = npt.NDArray[np.bool_]
    Ints = npt.NDArray[np.int64]

#: A number (after trimming spaces), as both commands read one.
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
#: A text column is numeric when at least this share of its non-empty values are numbers.
NUMERIC_SHARE = 0.9


def not_utf8(data: bytes | memoryview, bounds: Ints) -> dict[int, str]:
    """The lines of ``data`` (cut at ``bounds``) that are not UTF-8: line index → why."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    whole = pa.Array.from_buffers(pa.binary(), 1, [None, pa.py_buffer(_offsets(0, len(data))), pa.py_buffer(data)])
    try:
        whole.cast(pa.string())  # Arrow's SIMD validation, without the GIL: the common case ends here
        return {}
    except pa.ArrowInvalid:
        pass
    # Halve the lines down to small runs (a cast each, in C), then decode those lines one by one:
    # one bad byte in a block of half a million lines costs a few dozen casts, not a Python loop.
    lines = pa.Array.from_buffers(
        pa.binary(), len(bounds) - 1, [None, pa.py_buffer(bounds.astype(np.int32)), pa.py_buffer(data)]
    )
    view = memoryview(data)
    out = {}
    pending = [(0, len(bounds) - 1)]
    while pending:
        lo, hi = pending.pop()
        if hi - lo > _RUN:
            try:
                lines.slice(lo, hi - lo).cast(pa.string())
                continue
            except pa.ArrowInvalid:
                mid = (lo + hi) // 2
                pending += [(mid, hi), (lo, mid)]
                continue
        for i in range(lo, hi):
            try:
                str(view[int(bounds[i]) : int(bounds[i + 1])], "utf-8")
            except UnicodeDecodeError as exc:
                out[i] = f"not UTF-8 text (byte {exc.start + 1} of the line)"
    return dict(sorted(out.items()))


#: Lines decoded one by one once halving has narrowed a bad stretch down to this many.
_RUN = 64


def _offsets(*values: int) -> Any:
    import numpy as np

    return np.array(values, dtype=np.int32)


def number_counts(text: Any) -> tuple[int, int]:
    """(cells that are numbers, non-empty cells) of a text array."""
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    trimmed = pc.utf8_trim_whitespace(text)
    filled = len(text) - int(pc.sum(pc.equal(trimmed, "")).as_py() or 0) - text.null_count
    return int(pc.sum(pc.match_substring_regex(trimmed, NUMBER)).as_py() or 0), filled


def is_numeric(numbers: int, filled: int) -> bool:
    """Whether a text column with ``numbers`` numbers among ``filled`` non-empty cells is numeric."""
    return numbers > 0 and numbers >= NUMERIC_SHARE * filled


def numbers(text: Any) -> tuple[Floats, Bools]:
    """Text cells as float64 (NaN: empty, missing or not a number), and which are not numbers (corrupt)."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

    null = np.asarray(text.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    try:  # the fast path, for cells that are all numbers: one cast (it reads "nan" and "inf": corrupt)
        values = np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        bad = ~np.isfinite(values) & ~null
    except pa.ArrowInvalid:
        trimmed = pc.utf8_trim_whitespace(text)
        ok = pc.match_substring_regex(trimmed, NUMBER)
        empty = pc.equal(trimmed, "")
        bad = ~np.asarray(pc.fill_null(pc.or_(ok, empty), True).to_numpy(zero_copy_only=False), dtype=bool)
        cast = pc.cast(pc.if_else(ok, trimmed, pa.scalar(None, pa.string())), pa.float64())
        values = np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
        bad |= np.isinf(values)  # 1e999
    return np.where(bad, np.nan, values), bad


def is_numeric_type(t: Any) -> bool:
    """Whether an Arrow type holds numbers: integers, floats, decimals."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def is_nested(t: Any) -> bool:
    """Whether an Arrow type is nested (struct, list, map, union): carried along, never compared."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_nested(t) or pa.types.is_union(t))
