"""Reading CSV in blocks: where blocks start, in what order results come, headers, the spread sample."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from alops.devset.dataset import scan
from alops.errors import ConfigError


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
