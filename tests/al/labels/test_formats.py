from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alops.al.labels import formats
from alops.errors import DataError

Write = Callable[[str, "str | bytes"], Path]
ONE = '{"id": "a1", "label": "3"}\n'


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("labels.csv", "id,label\na1,3\n", "csv"),
        ("labels.json", "id,label\na1,3\n", "csv"),  # the content decides
        ("labels.txt", ONE, "jsonl"),
        ("labels.jsonl", ONE, "jsonl"),
        ("labels.ndjson", "  \n" + ONE, "jsonl"),
        ("labels.json", ONE, "json"),  # one object in a .json file: a JSON document, refused as not a list
        ("labels.txt", '{\n  "id": "a1"\n}\n', "json"),  # an object over several lines
        ("export.csv", "[]", "json"),
    ],
)
def test_detect(write: Write, name: str, content: str, kind: str) -> None:
    assert formats.detect(write(name, content)) == kind


def test_a_first_line_longer_than_the_head_is_jsonl(write: Write) -> None:
    long = '{"id": "a1", "label": "3", "note": "' + "x" * 100_000 + '"}\n'
    path = write("long.txt", long + ONE)
    assert formats.detect(path) == "jsonl"
    assert [vote.sample_id for vote in formats.votes(path)[1]] == ["a1", "a1"]


def test_a_single_object_in_a_json_file_is_not_a_list_of_tasks(write: Write) -> None:
    with pytest.raises(DataError, match="the JSON is an object, not a list of tasks"):
        list(formats.votes(write("one.json", ONE))[1])


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("id,label", "csv"),
        ("annotation_id,id,label,sample_id", "label-studio-csv"),
        ("sep=|\nid|label", "csv"),
    ],
)
def test_csv_kinds(write: Write, header: str, kind: str) -> None:
    assert formats.votes(write("x.csv", header + "\n"))[0] == kind


def test_an_excel_sep_line_naming_a_tab(write: Write) -> None:
    votes = list(formats.votes(write("tab.csv", "sep=\t\nid\tlabel\na1\t3\n"))[1])
    assert [(vote.sample_id, vote.label, vote.where) for vote in votes] == [("a1", "3", "tab.csv:3")]
