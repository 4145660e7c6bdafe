"""Parse one block of CSV lines with pyarrow, finding the lines that do not parse.

A row is a line (pyarrow's ``newlines_in_values=False`` model: a value that
holds a line break does not parse). A line is corrupt when it has the wrong
number of fields, when a numeric column holds something that is not a number,
or when the line is not UTF-8 (:mod:`alops.devset.dataset.cells` defines both, for the builder
and the check). Lines that are not UTF-8 are set aside before pyarrow sees
the block (its handler of bad rows cannot take them). The fast path is one typed ``read_csv`` of the whole
block, which releases the GIL; only a block where that fails pays for a slower
path that finds its corrupt lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alops.devset.dataset import cells

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Ints = npt.NDArray[np.int64]
    Floats = npt.NDArray[np.float64]

#: Corrupt cells per column and block whose value is quoted in the reason.
MAX_REASONS = 20


@dataclass(frozen=True)
class Columns:
    """How to read a table's columns: all names in order, and which ones to convert how."""

    names: tuple[str, ...]
    delimiter: str
    numeric: tuple[str, ...]  # converted to float64; a non-number makes the row corrupt
    categories: tuple[str, ...]  # dictionary-encoded text (strata)
    texts: tuple[str, ...] = ()  # plain text (a manifest's paths)
    strings: tuple[str, ...] = ()  # cells as they are, a pyarrow string array (what `alops devset check` reads)


@dataclass
class Parsed:
    """One block: where its lines are, which parsed, and the converted columns of those that did.

    Lines are numbered among the non-empty ones (pyarrow skips empty lines);
    ``physical`` maps them to all lines when some are empty.
    """

    bounds: Ints  # offset of every line's start, then the end of the data (empty lines included)
    physical: Ints | None  # index among all lines of each non-empty line (None: none is empty)
    rows: Ints  # non-empty line index of each row that parsed
    corrupt: Ints  # non-empty line index of each line that did not
    reasons: dict[int, str] = field(default_factory=dict)  # non-empty line index → why it is corrupt
    numbers: dict[str, Floats] = field(default_factory=dict)
    codes: dict[str, tuple[npt.NDArray[np.int32], list[str]]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    strings: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Non-empty lines."""
        return len(self.bounds) - 1 if self.physical is None else len(self.physical)

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        """Byte range of non-empty lines ``lo … hi-1``."""
        a, b = (lo, hi - 1) if self.physical is None else (int(self.physical[lo]), int(self.physical[hi - 1]))
        return int(self.bounds[a]), int(self.bounds[b + 1])

    def whole(self, lines: Ints) -> Ints:
        """Index among all lines of the given non-empty lines."""
        return lines if self.physical is None else self.physical[lines]


def split_lines(data: bytes | memoryview) -> tuple[Ints, Ints | None]:
    """Where every line of ``data`` starts (and, last, where the data ends), and which lines are not
    empty (None when none is). A line is empty when it holds nothing but its line break."""
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(arr == 10)
    tail = len(arr) > 0 and arr[-1] != 10
    bounds = np.empty(len(breaks) + 1 + tail, dtype=np.int64)
    bounds[0] = 0
    bounds[1 : len(breaks) + 1] = breaks + 1
    if tail:
        bounds[-1] = len(arr)
    starts, ends = bounds[:-1], bounds[1:]
    # Length without "\n" and "\r\n": pyarrow skips lines that are empty after that.
    size = ends - starts - (arr[ends - 1] == 10)
    size -= (size > 0) & (arr[np.maximum(starts + size - 1, 0)] == 13)
    empty = size <= 0
    if not empty.any():
        return bounds, None
    return bounds, np.flatnonzero(~empty)


def lines_array(data: bytes | memoryview, bounds: Ints) -> Any:
    """Every line of ``data`` as a pyarrow binary array (no copy), so kept lines are taken in C++."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    offsets = bounds.astype("int32")  # a block is far below 2 GB
    return pa.Array.from_buffers(pa.binary(), len(bounds) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def parse(data: bytes | memoryview, columns: Columns, *, _screened: bool = False) -> Parsed:
    """Parse ``data`` (whole lines, no header) into typed columns and corrupt line indices."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    bounds, physical = split_lines(data)
    out = Parsed(bounds, physical, np.zeros(0, np.int64), np.zeros(0, np.int64))
    lines = out.count
    if not lines:
        _fill(out, None, out.rows, {}, columns)
        return out
    not_text = cells.not_utf8(data, bounds)
    if not_text:
        return _without(data, columns, out, not_text)
    try:
        table, skipped = read(data, columns, text_numbers=False)
        if table.num_rows + len(skipped) != lines:
            raise Mismatch
        good = _rows_but(lines, skipped)
        bad: dict[int, str] = {i: why for i, why in skipped}
    except (pa.ArrowInvalid, Mismatch):
        try:
            table, skipped = read(data, columns, text_numbers=True)
            if table.num_rows + len(skipped) != lines:
                raise Mismatch from None
            good = _rows_but(lines, skipped)
            bad = {i: why for i, why in skipped}
            table, good, bad = _check_numbers(table, good, bad, columns)
        except (pa.ArrowInvalid, Mismatch):
            # Lines a value runs past (a lone CR, a quote left open) are found directly: halving
            # the block down to them costs a read per line, minutes for a block full of them.
            spans = {} if _screened else _spanning(data, bounds, columns.delimiter)
            if spans:
                return _without(data, columns, out, spans, screened=True)
            return _line_by_line(data, columns, out)
    _fill(out, table, good, bad, columns)
    return out


def _spanning(data: bytes | memoryview, bounds: Ints, delimiter: str) -> dict[int, str]:
    """The lines pyarrow would read a value past the end of: a lone carriage return, or a quote left open."""
    import csv

    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    cr = np.flatnonzero(arr == 13)
    lone = cr[(cr + 1 >= len(arr)) | (arr[np.minimum(cr + 1, len(arr) - 1)] != 10)]
    out = {int(i): "a value spans lines (a carriage return inside the line)" for i in _line_of(bounds, lone)}
    view = memoryview(data)
    for i in _line_of(bounds, np.flatnonzero(arr == 34)).tolist():
        if i in out:
            continue
        text = str(view[int(bounds[i]) : int(bounds[i + 1])], "utf-8")
        row = next(csv.reader([text if text.endswith("\n") else text + "\n"], delimiter=delimiter), [])
        if row and row[-1].endswith("\n"):  # the line's own end was read into a quoted value
            out[i] = "a value spans lines (a quote is not closed on its line)"
    return out


def _line_of(bounds: Ints, offsets: Ints) -> Ints:
    import numpy as np

    return np.unique(np.searchsorted(bounds, offsets, side="right") - 1)


def _without(
    data: bytes | memoryview, columns: Columns, out: Parsed, not_text: dict[int, str], *, screened: bool = False
) -> Parsed:
    """Parse the other lines on their own; those of ``not_text`` (line → why) are corrupt."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    every = len(out.bounds) - 1
    bad_line = np.zeros(every, dtype=bool)
    bad_line[list(not_text)] = True
    lines = lines_array(data, out.bounds).filter(pa.array(~bad_line))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    clean = memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])] if len(lines) else b""
    sub = parse(clean, columns, _screened=screened)
    # Non-empty lines of the block, and those of them that are text (empty lines are always text).
    nonempty = np.arange(every, dtype=np.int64) if out.physical is None else out.physical
    text = np.flatnonzero(~bad_line[nonempty]).astype(np.int64)
    dropped = np.flatnonzero(bad_line[nonempty]).astype(np.int64)
    reasons = {int(text[i]): why for i, why in sub.reasons.items()}
    reasons.update({int(k): not_text[int(nonempty[k])] for k in dropped})
    out.rows = text[sub.rows]
    out.corrupt = np.array(sorted(reasons), dtype=np.int64)
    out.reasons = reasons
    out.numbers, out.codes, out.texts, out.strings = sub.numbers, sub.codes, sub.texts, sub.strings
    return out


class Mismatch(Exception):
    """pyarrow saw a different number of rows than there are lines (a quoted line break, a lone CR)."""


def read(data: bytes | memoryview, columns: Columns, *, text_numbers: bool) -> tuple[Any, list[tuple[int, str]]]:
    """One pyarrow read of whole lines: the table, and (line, why) for lines with the wrong field count.

    ``text_numbers`` reads the numeric columns as text (to find the cells that are not numbers).
    """
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.csv as pcsv  # type: ignore[import-untyped,unused-ignore]

    skipped: list[tuple[int, str]] = []

    def skip(row: Any) -> str:
        # pyarrow numbers the non-empty lines of the data from 1, skipped ones included.
        if row.number is None:  # pragma: no cover - known with use_threads=False
            raise Mismatch
        skipped.append((row.number - 1, f"expected {row.expected_columns} fields, found {row.actual_columns}"))
        return "skip"

    number_type = pa.string() if text_numbers else pa.float64()
    types = {name: number_type for name in columns.numeric}
    types.update({name: pa.dictionary(pa.int32(), pa.string()) for name in columns.categories})
    types.update({name: pa.string() for name in columns.texts})
    types.update({name: pa.string() for name in columns.strings})
    table = pcsv.read_csv(
        pa.py_buffer(data),
        memory_pool=pool(),
        read_options=pcsv.ReadOptions(column_names=list(columns.names), use_threads=False, block_size=len(data) + 1),
        parse_options=pcsv.ParseOptions(delimiter=columns.delimiter, invalid_row_handler=skip),
        convert_options=pcsv.ConvertOptions(
            column_types=types,
            include_columns=list(types),
            null_values=[""],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, skipped


def pool() -> Any:
    """pyarrow's memory pool for blocks: the system allocator.

    Every block allocates and frees a few MB on the scanning threads; pyarrow's
    default (mimalloc) keeps what each thread freed, which shows as some 50 MB
    more peak memory for nothing.
    """
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    return pa.system_memory_pool()


def _rows_but(lines: int, skipped: list[tuple[int, str]]) -> Ints:
    import numpy as np

    if not skipped:
        return np.arange(lines, dtype=np.int64)
    keep = np.ones(lines, dtype=bool)
    keep[[i for i, _ in skipped]] = False
    return np.flatnonzero(keep).astype(np.int64)


def _check_numbers(table: Any, good: Ints, bad: dict[int, str], columns: Columns) -> tuple[Any, Ints, dict[int, str]]:
    """Numeric columns read as text: find the cells that are not numbers, drop their rows, convert the rest."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    ok = np.ones(table.num_rows, dtype=bool)
    values = {}
    for name in columns.numeric:
        text = table.column(name)
        numbers, not_number = cells.numbers(text)
        for k, i in enumerate(np.flatnonzero(not_number & ok)):
            # The value itself for the first few: the report shows them.
            shown = f"{text[int(i)].as_py()!r}" if k < MAX_REASONS else "a value"
            bad[int(good[i])] = f"column {name!r}: {shown} is not a number"
        ok &= ~not_number
        values[name] = numbers
    keep = pa.array(ok)
    table = table.filter(keep)
    for name in columns.numeric:
        number = pa.array(values[name][ok], pa.float64(), from_pandas=True)  # NaN: a missing value
        table = table.set_column(table.schema.get_field_index(name), name, number)
    return table, good[ok], bad


def _line_by_line(data: bytes | memoryview, columns: Columns, out: Parsed) -> Parsed:
    """The slow path: halve the block until each failing piece is one line, which is then corrupt."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    view = memoryview(data)
    tables, good, bad = [], [], {}
    pending = [(0, out.count)]
    while pending:
        lo, hi = pending.pop()
        start, end = out.span(lo, hi)
        piece = view[start:end]
        try:
            table, skipped = read(piece, columns, text_numbers=True)
            if table.num_rows + len(skipped) != hi - lo:
                raise Mismatch
            rows = _rows_but(hi - lo, skipped) + lo
            table, rows, found = _check_numbers(table, rows, {lo + i: why for i, why in skipped}, columns)
        except (pa.ArrowInvalid, Mismatch) as exc:
            if hi - lo > 1:
                mid = (lo + hi) // 2
                pending += [(mid, hi), (lo, mid)]  # lo half first: rows stay in line order
                continue
            bad[lo] = _why(exc, columns) if isinstance(exc, pa.ArrowInvalid) else "a value spans lines"
            continue
        tables.append(table)
        good.append(rows)
        bad.update(found)
    if tables:
        table = pa.concat_tables(tables)
        _fill(out, table, np.concatenate(good), bad, columns)
    else:
        _fill(out, None, np.zeros(0, np.int64), bad, columns)
    return out


def _why(exc: Exception, columns: Columns) -> str:
    """pyarrow's message, with the column's name for its number."""
    import re

    from alops.devset.dataset.datafiles import shown

    text = shown(str(exc).splitlines()[0])  # pyarrow quotes the line: hostile bytes, escaped
    found = re.match(r"In CSV column #(\d+): (?:Row #\d+: )?(?:CSV conversion error to \w+: )?(.*)", text)
    if found and int(found.group(1)) < len(columns.names):
        return f"column {columns.names[int(found.group(1))]!r}: {found.group(2)}"
    return re.sub(r"^CSV parse error: (?:Row #\d+: )?", "", text)


def _fill(out: Parsed, table: Any, good: Ints, bad: dict[int, str], columns: Columns) -> None:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    finite = np.ones(len(good), dtype=bool)
    for name in columns.numeric:
        values = np.zeros(0) if table is None else np.asarray(table.column(name).to_numpy(), dtype=np.float64)
        out.numbers[name] = values
        if np.isfinite(values.sum()):  # one pass: a NaN or an infinity anywhere makes the sum one
            continue
        # pyarrow reads "nan" and "inf" as numbers; cells.NUMBER does not: corrupt, like any non-number.
        odd = ~np.isfinite(values) & ~_null(table, name)
        for i in np.flatnonzero(odd & finite):
            bad.setdefault(int(good[i]), f"column {name!r}: not a finite number")
        finite &= ~odd
    keep = None if finite.all() else finite  # None: every row, nothing to filter
    if keep is not None:
        out.numbers = {k: v[keep] for k, v in out.numbers.items()}
    for name in columns.categories:
        out.codes[name] = _codes(table, name, keep)
    for name in columns.texts:
        values = [] if table is None else table.column(name).to_pylist()
        out.texts[name] = values if keep is None else [v for v, k in zip(values, keep, strict=True) if k]
    for name in columns.strings:
        if table is None:
            out.strings[name] = pa.array([], pa.string())
            continue
        column = table.column(name)
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        out.strings[name] = array if keep is None else array.filter(pa.array(keep))
    out.rows = good if keep is None else good[keep]
    out.corrupt = np.array(sorted(bad), dtype=np.int64)
    out.reasons = bad


def _null(table: Any, name: str) -> npt.NDArray[np.bool_]:
    import numpy as np

    if table is None:
        return np.zeros(0, dtype=bool)
    column = table.column(name)
    if column.null_count == 0:
        return np.zeros(len(column), dtype=bool)
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _codes(table: Any, name: str, keep: npt.NDArray[np.bool_] | None) -> tuple[npt.NDArray[np.int32], list[str]]:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    if table is None:
        return np.zeros(0, np.int32), []
    column = table.column(name)
    if column.num_chunks != 1:
        column = column.unify_dictionaries()
        array = pa.concat_arrays(column.chunks) if column.num_chunks else pa.array([], column.type)
    else:
        array = column.chunk(0)
    codes = np.asarray(array.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    return (codes if keep is None else codes[keep]), [str(v) for v in array.dictionary.to_pylist()]
