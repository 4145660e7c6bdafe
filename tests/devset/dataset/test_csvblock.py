"""``alops.devset.dataset.csvblock``: one block of CSV lines parsed, its corrupt lines found and explained."""

from __future__ import annotations

import numpy as np

from alops.devset.dataset import csvblock

COLUMNS = csvblock.Columns(("x", "y", "label"), ",", ("x", "y"), ("label",))


def test_parse_finds_every_kind_of_corrupt_line() -> None:
    data = (
        b"1,2,a\n"
        b"\n"  # empty: skipped, not a row
        b"3,4\r\n"  # a field missing
        b"5,6,b\r\n"
        b"7,8,c,9\n"  # a field too many
        b"n/a,1,d\n"  # not a number
        b"nan,1,e\n"  # pyarrow reads NaN; alops devset check does not: corrupt
        b" 10 ,11,f\n"  # spaces around a number are fine
        b",12,g\n"  # empty: a missing value
        b"13,14,\xff\n"  # not UTF-8
        b"15,16,h"  # no line break at the end
    )
    parsed = csvblock.parse(data, COLUMNS)
    assert parsed.count == 10
    assert parsed.rows.tolist() == [0, 2, 6, 7, 9]
    assert parsed.corrupt.tolist() == [1, 3, 4, 5, 8]
    assert parsed.reasons == {
        1: "expected 3 fields, found 2",
        3: "expected 3 fields, found 4",
        4: "column 'x': 'n/a' is not a number",
        5: "column 'x': 'nan' is not a number",  # the slow path (the block has a non-UTF-8 line) says which value
        8: "not UTF-8 text (byte 7 of the line)",  # the whole line: a cell no column parses counts too
    }
    assert parsed.numbers["x"].tolist()[:3] == [1.0, 5.0, 10.0] and np.isnan(parsed.numbers["x"][3])
    codes, values = parsed.codes["label"]
    assert [values[c] for c in codes] == ["a", "b", "f", "g", "h"]
    assert parsed.whole(parsed.corrupt).tolist() == [2, 4, 5, 6, 9]  # the empty line counts here


def test_parse_of_a_clean_block_and_of_nothing() -> None:
    parsed = csvblock.parse(b"1,2,a\n3,4,b\n", COLUMNS)
    assert (parsed.rows.tolist(), parsed.corrupt.tolist()) == ([0, 1], [])
    parsed = csvblock.parse(b"1,2,a\ninf,4,b\n5,,c\n", COLUMNS)  # the fast path: one typed read
    assert (parsed.rows.tolist(), parsed.reasons) == ([0, 2], {1: "column 'x': not a finite number"})
    empty = csvblock.parse(b"", COLUMNS)
    assert (empty.count, empty.rows.tolist(), empty.numbers["x"].tolist()) == (0, [], [])


def test_strings_keep_cells_as_text_and_lines_as_bytes() -> None:
    data = b"1,x\n2,y\n"
    parsed = csvblock.parse(data, csvblock.Columns(("a", "b"), ",", (), (), (), ("a", "b")))
    assert parsed.strings["a"].to_pylist() == ["1", "2"] and parsed.strings["b"].to_pylist() == ["x", "y"]
    assert csvblock.lines_array(data, parsed.bounds).to_pylist() == [b"1,x\n", b"2,y\n"]
