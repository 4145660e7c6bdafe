from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.al.labels import source
from alops.errors import DataError

Write = Callable[[str, "str | bytes"], Path]


def test_a_bad_byte_far_into_the_file_is_named_by_its_offset_and_line(write: Write) -> None:
    rows = "".join(f"a{i},3\n" for i in range(20_000))  # well past the first chunk read
    data = b"id,label\n" + rows.encode() + b"caf\xe9,3\n"
    path = write("far.csv", data)
    with pytest.raises(DataError) as caught:
        list(source.lines(path))
    assert str(caught.value).startswith(f"{path}:20002: not UTF-8: byte 0xe9 at offset {len(data) - 4} ")
    assert "re-save it as UTF-8" in str(caught.value)


def test_a_character_cut_by_a_chunk_end_is_not_an_error_but_a_bad_one_after_it_is(write: Write) -> None:
    prefix = b"x" * (source.HEAD - 1)  # "é" (2 bytes) straddles the first chunk's end
    path = write("cut.txt", prefix + "é".encode() + b"\n\xff\n")
    with pytest.raises(DataError, match=rf"cut\.txt:2: not UTF-8: byte 0xff at offset {source.HEAD + 2} "):
        list(source.lines(path))


def test_the_offset_counts_the_bom(write: Write) -> None:
    path = write("bom.csv", codecs.BOM_UTF8 + b"id,label\n\xe9,3\n")
    with pytest.raises(DataError, match=r"bom\.csv:2: not UTF-8: byte 0xe9 at offset 12 "):
        source.text(path)


def test_a_file_cut_inside_a_character(write: Write) -> None:
    path = write("end.csv", b"id,label\na1,\xc3")
    with pytest.raises(DataError, match="not UTF-8"):
        list(source.lines(path))


def test_a_bom_is_dropped_and_line_ends_kept(write: Write) -> None:
    path = write("ok.csv", codecs.BOM_UTF8 + b"id,label\r\na1,3\ra2,4\n")
    assert source.head(path) == "id,label\r\na1,3\ra2,4\n"
    assert list(source.lines(path)) == ["id,label\r\n", "a1,3\r", "a2,4\n"]


def test_a_line_at_the_cap_is_refused_one_below_it_is_read(write: Write) -> None:
    fits = write("fits.csv", "id,label\n" + "a" * (source.MAX_LINE - 3) + ",3\n")
    assert len(list(source.lines(fits))) == 2
    with pytest.raises(DataError, match=r"long\.csv:2: a line longer than 1,048,576 characters"):
        list(source.lines(write("long.csv", "id,label\n" + "a" * source.MAX_LINE + ",3\n")))


def test_an_unreadable_path_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot be read"):
        source.head(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="cannot be read"):
        source.head(tmp_path)  # a folder


def test_a_nul_byte_past_the_head_is_left_to_the_rows(write: Write) -> None:
    # Only the first 64 KiB are sniffed: a NUL later is a control character in a cell,
    # which the id check rejects (tests/al/labels/corpus/nul-in-id.jsonl).
    path = write("late.csv", b"id,label\n" + b"a1,3\n" * 20_000 + b"a\x002,3\n")
    assert list(source.lines(path))[-1] == "a\x002,3\n"
