from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.al.labels import Label, LabelFile, Rejected
from alops.errors import ConfigError

Read = Callable[..., LabelFile]
Write = Callable[[str, "str | bytes"], Path]
NOW = "2026-12-02T00:00:00Z"


def test_a_plain_csv_label_records_who_when_and_the_strategy(read: Read, write: Write) -> None:
    path = write(
        "labels.csv",
        "sample_id,label,annotator,labelled_at,strategy\n"
        "a1,3,alice@example.com,2026-11-30T11:00:00+01:00,margin\n"
        "a2,4,,,\n",
    )
    assert read(path).labels == (
        Label("a1", "3", "alice@example.com", "2026-11-30T10:00:00Z", "human", 1, None, "margin"),
        Label("a2", "4", "unknown", NOW, "human", 1, None, None),
    )


def test_several_agreeing_rows_are_one_label_with_their_votes_annotators_and_newest_time(
    read: Read, write: Write
) -> None:
    path = write(
        "votes.csv",
        "id,label,annotator,labelled_at\n"
        "a1,3,alice,2026-11-30T10:00:00Z\n"
        "a2,4,alice,\n"
        "a1,3,bob,2026-11-30T12:00:00Z\n"
        "a1,5,carol,2026-11-30T13:00:00Z\n",
    )
    result = read(path)
    assert result.labels == (
        Label("a1", "3", "alice;bob", "2026-11-30T12:00:00Z", "human", 2, None, None),
        Label("a2", "4", "alice", NOW, "human", 1, None, None),
    )  # in the order of each sample's first row


def test_min_votes_keeps_a_sample_with_one_row_in_the_pool(read: Read, write: Write) -> None:
    path = write("few.csv", "id,label,annotator\na1,3,alice\na2,4,alice\na2,4,bob\n")
    result = read(path, min_votes=2)
    assert ([(label.sample_id, label.votes) for label in result.labels], result.skipped) == ([("a2", 2)], ("a1",))


def test_the_reviewer_alone_is_enough_with_min_votes(read: Read, write: Write) -> None:
    path = write("rev.csv", "id,label,annotator\na1,3,rev@x\na2,4,alice\n")
    result = read(path, policy="reviewer", reviewer="rev@x", min_votes=2)
    assert ([label.sample_id for label in result.labels], result.skipped) == (["a1"], ("a2",))


def test_an_id_already_labelled_is_rejected_or_with_its_labels_known_unchanged(read: Read, write: Write) -> None:
    path = write("again.csv", "id,label\nold1,3\nold2,4\na1,5\n")
    assert [row.reason for row in read(path).rejected] == ["already labelled: labels are never rewritten"] * 2
    result = read(path, labelled={"old1": "3", "old2": "9"})
    assert (result.unchanged, [label.sample_id for label in result.labels]) == (("old1",), ["a1"])
    assert result.rejected == (Rejected("old2", "already labelled '9': labels are never rewritten", "again.csv:3"),)


def test_skipped_ids_are_only_those_of_the_pool(read: Read, write: Write) -> None:
    path = write("empty-labels.csv", "id,label\na1,\nzz,\nold1,\n")
    result = read(path)
    assert (result.skipped, result.rejected, result.labels) == (("a1",), (), ())


def test_formula_text_is_never_evaluated_only_compared(read: Read, write: Write) -> None:
    path = write("f.csv", 'id,label\n"=HYPERLINK(""http://x"")",=1+1\n')
    result = read(path, classes=("=1+1", "2"))
    assert [(label.sample_id, label.label) for label in result.labels] == [('=HYPERLINK("http://x")', "=1+1")]


def test_a_time_that_is_not_one_rejects_the_sample_and_any_vote_of_it(read: Read, write: Write) -> None:
    path = write("t.csv", "id,label,annotator,labelled_at\na1,3,alice,2026-11-30T10:00:00Z\na1,3,bob,soon\n")
    assert read(path).rejected == (
        Rejected("a1", "labelled_at 'soon' is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)", "t.csv:2"),
    )


def test_an_unknown_id_wins_over_a_disagreement_and_is_rejected_once_a_task(read: Read, write: Write) -> None:
    tasks = [
        {"id": 9, "data": {"sample_id": "zz"}, "annotations": [_annotation(1, "3"), _annotation(2, "4")]},
        {"id": 10, "data": {"sample_id": None}, "annotations": [_annotation(1, "3"), _annotation(2, "3")]},
    ]
    result = read(write("ls.json", json.dumps(tasks)))
    assert result.rejected == (
        Rejected("zz", "unknown sample id 'zz': not in the pool", "ls.json: task 9"),
        Rejected(None, "no sample id", "ls.json: task 10"),
    )


def test_labels_rejections_and_skips_keep_the_file_order(read: Read, write: Write) -> None:
    path = write("order.csv", "id,label,annotator\na3,3,x\nzz,1,x\na1,,x\na2,4,x\na3,3,y\nyy,2,x\na5,,x\n")
    result = read(path)
    assert [label.sample_id for label in result.labels] == ["a3", "a2"]
    assert [row.sample_id for row in result.rejected] == ["zz", "yy"]
    assert result.skipped == ("a1", "a5")


@pytest.mark.parametrize(
    ("policy", "reviewer", "message"),
    [
        ("vote", None, "active_learning.annotators.policy: 'vote' is not one of majority, unanimous, reviewer"),
        ("reviewer", None, "active_learning.annotators.reviewer: the reviewer policy needs"),
    ],
)
def test_a_policy_that_cannot_work_is_a_config_error(
    read: Read, write: Write, policy: str, reviewer: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        read(write("x.csv", "id,label\na1,3\n"), policy=policy, reviewer=reviewer)


def test_reading_writes_nothing(read: Read, write: Write, tmp_path: Path) -> None:
    path = write("x.csv", "id,label\na1,3\nzz,4\n")
    before = sorted(tmp_path.rglob("*"))
    read(path)
    assert sorted(tmp_path.rglob("*")) == before


def _annotation(who: int, label: str) -> dict[str, object]:
    value = {"choices": [label]}
    return {"completed_by": who, "result": [{"type": "choices", "from_name": "label", "value": value}]}


def test_plain_rows_take_their_time_from_label_studio_names_too(read: Read, write: Write) -> None:
    path = write(
        "min.jsonl",
        '{"sample_id": "a1", "label": "3", "annotator": "alice", "updated_at": "2026-11-30T10:00:00Z"}\n'
        '{"sample_id": "a1", "label": "3", "annotator": "bob", "created_at": "2026-11-30T11:00:00Z"}\n',
    )
    assert read(path).labels == (Label("a1", "3", "alice;bob", "2026-11-30T11:00:00Z", "human", 2, None, None),)
