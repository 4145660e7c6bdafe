"""The label log: round numbers, the round's CSV (formula text escaped), pseudo-labels from the scores file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from alops.al.ingest import labellog
from alops.al.ingest.pseudo import pseudo_labels
from alops.al.labels import Label
from alops.config import load_config

NOW = "2026-12-02T03:00:00Z"


def test_the_next_round_follows_the_highest_record(tmp_path: Path) -> None:
    assert labellog.next_round(tmp_path / "missing") == 1
    for name in ("round-0001.json", "round-0003.json", "round-0009.csv", "notes.json"):
        (tmp_path / name).write_text("{}")
    assert labellog.next_round(tmp_path) == 4
    assert labellog.names(12) == ("round-0012.csv", "round-0012.json")


def test_the_round_csv_escapes_formula_text_and_leaves_confidence_empty_for_people() -> None:
    rows = [
        Label("=1+1", "@cat", "-eve", NOW, "human", 2, None, "margin"),
        Label("p9", "dog", "model:m1", NOW, "pseudo", 0, 0.995, None),
    ]
    assert labellog.round_csv(rows, 3).decode() == (
        "id,label,annotator,labelled_at,round,source,votes,confidence\n"
        f"'=1+1,'@cat,'-eve,{NOW},3,human,2,\n"
        f"p9,dog,model:m1,{NOW},3,pseudo,0,0.995\n"
    )


def test_pseudo_labels_are_the_confident_predictions_of_samples_left_in_the_pool(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(
        "version: 1\ndatasets:\n  full: {targets: [f.dvc]}\n  dev: {targets: [d.dvc]}\npipeline:\n  train: [t]\n"
        "active_learning:\n  pool: p.csv\n  classes: [cat, dog]\n  scores: s.parquet\n"
        "  pseudo_labels: {min_confidence: 0.9}\n"
    )
    al = load_config(tmp_path / "alops.yaml").al
    assert al is not None
    assert pseudo_labels(al, tmp_path, {"a"}, now=NOW, model=None) == (
        (),
        "pseudo-labels left out: the scores file s.parquet is not in the working tree",
    )
    scores = {"id": ["a", "b", "c", "d"], "cat": [0.95, 0.5, 0.02, 0.99], "dog": [0.05, 0.5, 0.98, 0.01]}
    pq.write_table(pa.table(scores), tmp_path / "s.parquet")
    made, note = pseudo_labels(al, tmp_path, {"a", "b", "c"}, now=NOW, model="v7")
    assert note is None
    assert [(x.sample_id, x.label, x.annotator, x.source, x.votes) for x in made] == [
        ("a", "cat", "model:v7", "pseudo", 0),
        ("c", "dog", "model:v7", "pseudo", 0),
    ]
    assert [round(x.confidence or 0, 2) for x in made] == [0.95, 0.98]
