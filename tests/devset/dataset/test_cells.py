"""``alops.devset.dataset.cells``: what a number, a numeric column and a UTF-8 line are, for build and check."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from alops.devset.dataset import cells


def test_numbers_are_finite_and_an_empty_cell_is_missing() -> None:
    text = pa.array(["1", " 2.5 ", "-3e2", "", None, "nan", "inf", "1e999", "x", "0x10"])
    values, bad = cells.numbers(text)
    assert values[:3].tolist() == [1.0, 2.5, -300.0]
    assert np.isnan(values[3:]).all()
    assert bad.tolist() == [False] * 5 + [True] * 5


def test_all_numbers_take_the_fast_path_and_nan_is_still_corrupt() -> None:
    values, bad = cells.numbers(pa.array(["1", "2", "nan"]))
    assert values[:2].tolist() == [1.0, 2.0] and bad.tolist() == [False, False, True]


def test_a_column_is_numeric_when_nine_in_ten_of_its_filled_cells_are_numbers() -> None:
    assert cells.number_counts(pa.array(["1", "2", " ", "x", None])) == (2, 3)
    assert cells.is_numeric(9, 10) and not cells.is_numeric(8, 10) and not cells.is_numeric(0, 0)


def test_lines_that_are_not_utf8_are_found_among_many() -> None:
    lines = [b"ok %d\n" % i for i in range(1000)]
    lines[700] = b"bad \xff\n"
    data = b"".join(lines)
    bounds = np.cumsum([0, *(len(line) for line in lines)]).astype(np.int64)
    assert cells.not_utf8(data, bounds) == {700: "not UTF-8 text (byte 5 of the line)"}
    assert cells.not_utf8(b"fine\n", np.array([0, 5], dtype=np.int64)) == {}


def test_types_that_hold_numbers_and_types_that_nest() -> None:
    assert cells.is_numeric_type(pa.int8()) and cells.is_numeric_type(pa.decimal128(5, 2))
    assert not cells.is_numeric_type(pa.string()) and not cells.is_numeric_type(pa.bool_())
    assert cells.is_nested(pa.list_(pa.int32())) and cells.is_nested(pa.dictionary(pa.int8(), pa.struct([])))
    assert not cells.is_nested(pa.string())
