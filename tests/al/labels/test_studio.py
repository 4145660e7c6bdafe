"""Label Studio's exports, as a real 1.23.2 server writes them (tests/al/labelstudio/exports/, H1's test makes them).

The project: classes cat, dog, =bird; s1 two annotators agree (cat), s2 they disagree,
s3 alice's "dog" is the ground truth and bob says "cat", s4 alice cancelled (skipped),
s5 nobody annotated, s6 the admin chose "=bird" and bob skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.al.labels import Label, LabelFile, Rejected
from alops.errors import DataError

Read = Callable[..., LabelFile]
Write = Callable[[str, "str | bytes"], Path]
EXPORTS = Path(__file__).parents[1] / "labelstudio" / "exports"
CLASSES = ("cat", "dog", "=bird")
POOL = frozenset(f"s{i}" for i in range(1, 7))
FORMATS = {
    "export.json": "label-studio-json",
    "export-min.json": "label-studio-json-min",
    "export.csv": "label-studio-csv",
}


def read_export(read: Read, name: str, **options: object) -> LabelFile:
    return read(EXPORTS / name, classes=CLASSES, pool=POOL, labelled=frozenset(), **options)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_export_is_recognised(read: Read, name: str) -> None:
    assert read_export(read, name).format == FORMATS[name]


def test_the_json_export_has_every_annotation_with_its_ground_truth(read: Read) -> None:
    result = read_export(read, "export.json")
    by_id = {label.sample_id: label for label in result.labels}
    assert sorted(by_id) == ["s1", "s3", "s6"]
    s1 = by_id["s1"]
    assert (s1.label, s1.votes, s1.annotator, s1.strategy) == ("cat", 2, "alice@example.com;bob@example.com", "margin")
    assert s1.labelled_at.endswith("Z") and s1.labelled_at.startswith("20")
    assert (by_id["s3"].label, by_id["s3"].votes, by_id["s3"].annotator) == ("dog", 1, "alice@example.com")
    assert by_id["s6"].label == "=bird"  # the formula-like class, kept as its text
    assert [(row.sample_id, row.where) for row in result.rejected] == [("s2", "export.json: task 2")]
    assert result.rejected[0].reason.startswith("annotators disagree")
    assert result.skipped == ("s4", "s5")  # cancelled; never annotated


@pytest.mark.parametrize("name", ["export-min.json", "export.csv"])
def test_json_min_and_csv_lose_the_ground_truth_and_the_cancelled(read: Read, name: str) -> None:
    result = read_export(read, name)
    assert sorted(label.sample_id for label in result.labels) == ["s1", "s6"]
    # The ground-truth flag is gone: s3 is one vote each way. s4's cancelled annotation is gone too.
    assert [row.sample_id for row in result.rejected] == ["s2", "s3"]
    assert all(row.reason.startswith("annotators disagree") for row in result.rejected)
    assert result.skipped == ("s5",)  # a snapshot's unlabelled task: a row without an annotation


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_reviewer_decides_in_every_format(read: Read, name: str) -> None:
    result = read_export(read, name, policy="reviewer", reviewer="alice@example.com")
    labels = {label.sample_id: label.label for label in result.labels}
    assert labels == {"s1": "cat", "s2": "cat", "s3": "dog", "s6": "=bird"}
    assert result.rejected == ()


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_the_three_exports_agree_under_unanimity(read: Read, name: str) -> None:
    result = read_export(read, name, policy="unanimous")
    assert {label.sample_id for label in result.labels} >= {"s1", "s6"}
    assert "s2" in {row.sample_id for row in result.rejected}


def test_a_json_export_of_user_ids_names_annotators_by_id(read: Read, write: Write) -> None:
    # Without `annotations__completed_by: {only_id: false}` an export has the user's id only.
    task = {"id": 4, "data": {"sample_id": "a1", "strategy": "entropy"}, "annotations": [
        {"completed_by": 7, "result": [{"type": "choices", "from_name": "label", "value": {"choices": ["3"]}}],
         "was_cancelled": False, "ground_truth": False, "created_at": "2026-11-30T10:00:00.5Z", "updated_at": None},
    ]}  # fmt: skip
    result = read(write("ids.json", json.dumps([task])))
    assert result.labels == (Label("a1", "3", "7", "2026-11-30T10:00:00.5Z", "human", 1, None, "entropy"),)


def test_predictions_are_never_labels(read: Read, write: Write) -> None:
    prediction = {
        "model_version": "m",
        "result": [{"type": "choices", "from_name": "label", "value": {"choices": ["3"]}}],
    }
    annotation = {
        "completed_by": 1,
        "result": [],
        "prediction": prediction,
    }  # an empty result, the model's guess inside
    task = {"id": 1, "data": {"sample_id": "a1"}, "predictions": [prediction], "annotations": [annotation]}
    result = read(write("p.json", json.dumps([task])))
    assert (result.labels, result.skipped) == ((), ("a1",))


def test_a_malformed_annotation_rejects_its_task(read: Read, write: Write) -> None:
    tasks = [
        {"id": 1, "data": {"sample_id": "a1"}, "annotations": ["oops"]},
        {"id": 2, "data": {"sample_id": "a2"}, "annotations": [{"completed_by": 1, "result": "3"}]},
    ]
    assert read(write("m.json", json.dumps(tasks))).rejected == (
        Rejected("a1", "an annotation is not an object", "m.json: task 1"),
        Rejected("a2", "the annotation's `result` is not a list", "m.json: task 2"),
    )


def test_a_large_export_on_one_line_is_read(read: Read, write: Write) -> None:
    rows = [{"sample_id": f"s{i}", "id": i, "annotation_id": i, "label": "3"} for i in range(20_000)]
    result = read(
        write("one-line.json", json.dumps(rows, separators=(",", ":"))), pool={f"s{i}" for i in range(20_000)}
    )
    assert len(result.labels) == 20_000


def test_a_csv_export_without_sample_id_column_rejects_each_row(read: Read, write: Write) -> None:
    path = write("no-sid.csv", "annotation_id,annotator,id,label\n1,a@x,5,3\n")
    assert read(path).rejected == (Rejected(None, "no sample id", "no-sid.csv: task 5"),)


def test_a_json_export_that_is_not_tasks_names_the_item(read: Read, write: Write) -> None:
    with pytest.raises(DataError, match=r"x\.json:3: item #2 has no `data`"):
        read(write("x.json", '[{"data": {"sample_id": "a1"}},\n\n{"foo": 1}]'))


def test_only_the_label_tag_counts_when_the_interface_has_other_choices(read: Read, write: Write) -> None:
    result = [
        {"type": "choices", "from_name": "quality", "value": {"choices": ["blurry"]}},
        {"type": "choices", "from_name": "label", "value": {"choices": ["3"]}},
    ]
    task = {"id": 1, "data": {"sample_id": "a1"}, "annotations": [{"completed_by": 1, "result": result}]}
    assert [label.label for label in read(write("tags.json", json.dumps([task]))).labels] == ["3"]
    hand_made = [{"type": "choices", "from_name": "digit", "value": {"choices": ["4"]}}]
    task["annotations"] = [{"completed_by": 1, "result": hand_made}]
    assert [label.label for label in read(write("hand.json", json.dumps([task]))).labels] == ["4"]
