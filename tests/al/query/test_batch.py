"""alops.al.query.batch: batch.csv (no formulas), batch.jsonl and tasks.json (exact values, no Infinity), all or none."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from alops.al.query.batch import FILES, BatchRow, csv_cell, finite, tasks, write_batch

HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "\nx", "\uff1dHYPERLINK()", "plain"]


def rows(*ids: object, score: float = 0.5, predicted: str = "cat") -> list[BatchRow]:
    return [BatchRow(i, sample, score, "margin", predicted, 0.75) for i, sample in enumerate(ids)]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_files_hold_each_row_in_order(tmp_path: Path) -> None:
    batch = [BatchRow(7, "s7", 0.9, "entropy", "dog", 0.4), BatchRow(2, 12, 0.25, "entropy", "cat", 0.6)]

    written = write_batch(batch, tmp_path / "out", model_version="m1")

    assert written == tuple(tmp_path / "out" / name for name in FILES)
    assert read_csv(tmp_path / "out/batch.csv") == [
        ["index", "id", "score", "strategy", "predicted", "confidence"],
        ["7", "s7", "0.9", "entropy", "dog", "0.4"],
        ["2", "12", "0.25", "entropy", "cat", "0.6"],
    ]
    lines = (tmp_path / "out/batch.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"index": 7, "id": "s7", "score": 0.9, "strategy": "entropy", "predicted": "dog", "confidence": 0.4},
        {"index": 2, "id": 12, "score": 0.25, "strategy": "entropy", "predicted": "cat", "confidence": 0.6},
    ]
    assert json.loads((tmp_path / "out/tasks.json").read_text(encoding="utf-8"))[0] == {
        "data": {"sample_id": "s7", "index": 7, "score": 0.9, "strategy": "entropy"},
        "predictions": [
            {
                "model_version": "m1",
                "score": 0.4,
                "result": [
                    {"from_name": "label", "to_name": "sample", "type": "choices", "value": {"choices": ["dog"]}}
                ],
            }
        ],
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES), "no staging folder left"


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_looks_like_a_formula_is_escaped_in_csv_only(tmp_path: Path, text: str) -> None:
    write_batch(rows(text, predicted=text), tmp_path, model_version="m")

    cells = read_csv(tmp_path / "batch.csv")[1]
    expected = text if text == "plain" else "'" + text
    assert (cells[1], cells[4]) == (expected, expected)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d")) for cell in cells)
    line = json.loads((tmp_path / "batch.jsonl").read_text(encoding="utf-8"))
    assert (line["id"], line["predicted"]) == (text, text)
    task = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))[0]
    assert task["data"]["sample_id"] == text
    assert task["predictions"][0]["result"][0]["value"]["choices"] == [text]


def test_numbers_are_not_escaped() -> None:
    assert [csv_cell(v) for v in (-5, -0.5, 3, None, math.inf, -math.inf, math.nan)] == [
        "-5",
        "-0.5",
        "3",
        "",
        "",
        "",
        "",
    ]


def test_an_infinite_score_is_null_in_json_and_empty_in_csv(tmp_path: Path) -> None:
    write_batch(rows("a", score=finite(math.inf)), tmp_path, model_version="m")  # type: ignore[arg-type]

    assert read_csv(tmp_path / "batch.csv")[1][2] == ""
    assert json.loads((tmp_path / "batch.jsonl").read_text(encoding="utf-8"))["score"] is None
    text = (tmp_path / "tasks.json").read_text(encoding="utf-8")
    assert "Infinity" not in text and json.loads(text)[0]["data"]["score"] is None


def test_unicode_ids_are_kept(tmp_path: Path) -> None:
    ids = ["échantillon-1", "样本", "🐈", 'a,b"c']

    write_batch(rows(*ids), tmp_path, model_version="m")

    assert [r[1] for r in read_csv(tmp_path / "batch.csv")[1:]] == ["échantillon-1", "样本", "🐈", 'a,b"c']
    assert [t["data"]["sample_id"] for t in json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))] == ids
    assert "样本" in (tmp_path / "batch.jsonl").read_text(encoding="utf-8"), "written as UTF-8, not \\u escapes"


@pytest.mark.parametrize(
    "bad",
    [
        rows(object()),  # batch.csv is written, batch.jsonl fails
        [BatchRow(0, "a", 0.5, "margin", "cat", math.nan)],  # tasks.json fails: JSON has no NaN
    ],
    ids=["jsonl", "tasks"],
)
def test_a_failure_while_writing_leaves_the_previous_batch(tmp_path: Path, bad: list[BatchRow]) -> None:
    write_batch(rows("old"), tmp_path, model_version="m")
    before = {name: (tmp_path / name).read_bytes() for name in FILES}

    with pytest.raises((TypeError, ValueError)):
        write_batch(bad, tmp_path, model_version="m")

    assert {name: (tmp_path / name).read_bytes() for name in FILES} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES), "nothing half-written left behind"


def test_a_first_failed_batch_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_batch(rows(object()), tmp_path / "out", model_version="m")
    assert list((tmp_path / "out").iterdir()) == []


def test_an_empty_batch_is_a_header_and_no_tasks(tmp_path: Path) -> None:
    write_batch([], tmp_path, model_version="m")
    assert read_csv(tmp_path / "batch.csv") == [["index", "id", "score", "strategy", "predicted", "confidence"]]
    assert (tmp_path / "batch.jsonl").read_text(encoding="utf-8") == ""
    assert tasks([], "m") == [] and json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8")) == []
