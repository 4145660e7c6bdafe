"""Reading CSV in blocks: where blocks start, which lines are corrupt and why."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from alops.devset.dataset import csvblock, scan
from alops.devset.dataset.columns import Sampled
from alops.devset.dataset.columns import _csv as sample_csv
from alops.devset.dataset.locate import open_table
from alops.errors import ConfigError

COLUMNS = csvblock.Columns(("x", "y", "label"), ",", ("x", "y"), ("label",))


def test_blocks_start_at_line_starts_after_fixed_offsets(tmp_path: Path) -> None:
    rng = random.Random(5)
    for _ in range(200):
        body = b"".join(b"v" * rng.randint(0, 40) + b"\n" for _ in range(rng.randint(0, 60)))
        if body and rng.random() < 0.3:
            body = body[:-1]  # no line break at the end
        path = tmp_path / "t.csv"
        path.write_bytes(b"a,b\n" + body)
        table = scan.open_csv(path, "")
        size = rng.randint(1, 50)
        got, at = [], table.data_start
        for index, offset, data in scan.blocks(table, size):
            assert offset == at
            got.append((index, bytes(data)))
            at += len(data)
        assert b"".join(d for _, d in got) == (body if body.endswith(b"\n") or not body else body + b"\n")
        at = table.data_start
        for index, data in got:
            end = at + len(data)
            if end < len(b"a,b\n" + body):
                start_of_next = table.data_start + (index + 1) * size
                assert end >= start_of_next and b"\n" not in (b"a,b\n" + body)[start_of_next - 1 : end - 1]
            at = end
        assert [i for i, _ in got] == sorted({i for i, _ in got})


def test_scan_returns_results_in_block_order_for_any_threads(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"a\n" + b"".join(b"%d\n" % i for i in range(5000)))
    table = scan.open_csv(path, "")
    one = list(scan.scan(table, lambda i, d: (i, bytes(d)), threads=1, block_bytes=100))
    three = list(scan.scan(table, lambda i, d: (i, bytes(d)), threads=3, block_bytes=100))
    assert one == three and len(one) > 100


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


def test_sample_types_columns_by_what_most_values_are(tmp_path: Path) -> None:
    data = b"".join(b"%d,%d.5,t%d,%s\n" % (i, i, i, b"x" if i == 3 else b"%d" % i) for i in range(40))
    (tmp_path / "t.csv").write_bytes(b"a,b,c,d\n" + data)
    sampled: Sampled = sample_csv(open_table(tmp_path / "t.csv", "", "csv"), data, set())
    assert sampled.numeric == ("a", "b", "d")  # d: 39 of 40 are numbers
    assert (sampled.rows, sampled.corrupt) == (40, 1)
    assert np.isnan(sampled.numbers["a"][3]) and sampled.numbers["a"][4] == 4.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: a CSV table needs a header line"),
        (b"a,b,a\n1,2,3\n", "column 'a' appears more than once in the header"),
    ],
)
def test_open_csv_refuses_tables_without_a_usable_header(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        scan.open_csv(path, "")


def test_presample_reads_small_tables_whole_and_spreads_over_big_ones(tmp_path: Path) -> None:
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_bytes(b"a\n1\n2")
    big.write_bytes(b"a\n" + b"".join(b"%06d\n" % i for i in range(100_000)))
    tables = [scan.open_csv(small, "small.csv"), scan.open_csv(big, "big.csv")]
    pieces = scan.presample(tables, budget=64_000, pieces=16)
    assert pieces["small.csv"] == b"1\n2\n"
    lines = pieces["big.csv"].split(b"\n")[:-1]
    assert all(len(line) == 6 for line in lines)  # whole lines only
    values = [int(v) for v in lines]
    assert values[0] == 0 and values[-1] > 90_000 and len(values) < 12_000
