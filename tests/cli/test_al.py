"""``alops al query`` end to end on real scores files: the summary, the batch files, options over alops.yaml, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from alops.al.query import STRATEGIES
from alops.cli import cli
from alops.cli.al import STRATEGY_NAMES
from alops.errors import EXIT_CONFIG, EXIT_DATA

HEAD = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
"""
#: Five samples, two classes: sorted by least confidence, c (0.5), e (0.6), b (0.7), d (0.8), a (0.9).
IDS = ["a", "b", "c", "d", "e"]
CAT = [0.9, 0.3, 0.5, 0.8, 0.4]


def project(tmp_path: Path, section: str = "  scores: data/scores.parquet\n") -> Path:
    (tmp_path / "alops.yaml").write_text(HEAD + "active_learning:\n  pool: data/pool\n" + section, encoding="utf-8")
    (tmp_path / "data").mkdir()
    table = pa.table({"id": IDS, "cat": CAT, "dog": [1 - p for p in CAT]})
    pq.write_table(table, tmp_path / "data/scores.parquet")
    return tmp_path


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "al", "query", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def batch(folder: Path) -> list[dict[str, str]]:
    with (folder / "batch.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_query_writes_the_batch_alops_yaml_asks_for(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.parquet\n  batch_size: 3\n")

    code, out, err = invoke(root)

    folder = root / ".alops/al/batch"
    assert (code, err) == (0, "")
    assert out == (
        f"Chose 3 of 5 samples by least-confidence from {root}/data/scores.parquet: "
        f"wrote batch.csv, batch.jsonl, tasks.json to {folder}\n"
    )
    assert [(r["index"], r["id"], r["predicted"]) for r in batch(folder)] == [
        ("2", "c", "cat"),
        ("4", "e", "dog"),
        ("1", "b", "dog"),
    ]
    assert [float(r["score"]) for r in batch(folder)] == pytest.approx([0.5, 0.4, 0.3])
    assert {r["strategy"] for r in batch(folder)} == {"least-confidence"}
    lines = [json.loads(line) for line in (folder / "batch.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["c", "e", "b"]
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["sample_id"] for t in tasks] == ["c", "e", "b"]
    assert tasks[1]["predictions"][0]["model_version"] == "scores.parquet"
    assert tasks[1]["predictions"][0]["result"][0]["value"] == {"choices": ["dog"]}
    assert tasks[1]["predictions"][0]["score"] == pytest.approx(0.6)
    assert (root / ".alops/.gitignore").read_text() == "*\n", "alops's own folder stays out of git"


def test_options_override_alops_yaml(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/missing.parquet\n  strategy: entropy\n  batch_size: 4\n  seed: 1\n")
    pcsv.write_csv(pa.table({"id": ["007", "008", "009"], "x": [0.1, 0.5, 0.7], "y": [0.9, 0.5, 0.3]}), root / "s.csv")
    out_dir = tmp_path / "elsewhere"

    code, out, err = invoke(
        root, "--strategy", "margin", "--batch-size", "2", "--seed", "5", "--scores", str(root / "s.csv"),
        "--out", str(out_dir), "--model-version", "resnet@3",
    )  # fmt: skip

    assert (code, err) == (0, "")
    assert (
        out
        == f"Chose 2 of 3 samples by margin from {root}/s.csv: wrote batch.csv, batch.jsonl, tasks.json to {out_dir}\n"
    )
    assert [(r["id"], r["strategy"]) for r in batch(out_dir)] == [("008", "margin"), ("009", "margin")]
    tasks = json.loads((out_dir / "tasks.json").read_text(encoding="utf-8"))
    assert tasks[0]["predictions"][0]["model_version"] == "resnet@3"
    assert not (root / ".alops").exists()


def test_the_seed_decides_ties_the_same_way_each_time(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.parquet\n  strategy: random\n  batch_size: 3\n")

    runs = [invoke(root, "--seed", seed, "--out", str(tmp_path / f"run{i}")) for i, seed in enumerate("778")]

    assert [code for code, _, _ in runs] == [0, 0, 0]
    ids = [[r["id"] for r in batch(tmp_path / f"run{i}")] for i in range(3)]
    assert ids[0] == ids[1] != ids[2]


def test_npy_pool_names_samples_by_row_and_classes_by_column(tmp_path: Path) -> None:
    root = project(tmp_path, '  scores: data/scores.npy\n  batch_size: 3\n  quotas: {"0": 1, "2": 2}\n')
    probs = np.array([[0.9, 0.05, 0.05], [0.4, 0.3, 0.3], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]])
    np.save(root / "data/scores.npy", probs.astype(np.float32))

    code, out, err = invoke(root)

    assert (code, err) == (0, "")
    assert out.startswith("Chose 3 of 5 samples by least-confidence from ")
    rows = batch(root / ".alops/al/batch")
    assert [(r["index"], r["id"], r["predicted"]) for r in rows] == [("3", "3", "2"), ("1", "1", "0"), ("2", "2", "2")]
    tasks = json.loads((root / ".alops/al/batch/tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["sample_id"] for t in tasks] == [3, 1, 2]


def test_k_center_first_point_is_written_as_null(tmp_path: Path) -> None:
    root = project(
        tmp_path, "  scores: data/scores.parquet\n  embeddings: data/emb.npy\n  strategy: k-center\n  batch_size: 2\n"
    )
    np.save(root / "data/emb.npy", np.array([[0.0, 0], [0, 1], [5, 5], [0, 2], [1, 0]], dtype=np.float32))

    code, out, err = invoke(root)

    assert (code, err) == (0, "")
    assert out.startswith("Chose 2 of 5 samples by k-center from ")
    rows = batch(root / ".alops/al/batch")
    assert rows[0]["score"] == "" and float(rows[1]["score"]) > 0
    text = (root / ".alops/al/batch/tasks.json").read_text(encoding="utf-8")
    assert "Infinity" not in text and json.loads(text)[0]["data"]["score"] is None
    assert "c" in {r["id"] for r in rows}, "the far point (5, 5) is in a spread-out batch"


def test_k_center_measures_from_the_labelled_set(tmp_path: Path) -> None:
    """With the labelled set's embeddings every pick has a distance, and what lies by a labelled sample waits."""
    root = project(
        tmp_path,
        "  scores: data/scores.parquet\n  embeddings: data/emb.npy\n  labelled_embeddings: data/labelled.npy\n"
        "  strategy: k-center\n  batch_size: 2\n",
    )
    np.save(root / "data/emb.npy", np.array([[0.0, 0], [0, 1], [5, 5], [0, 2], [1, 0]], dtype=np.float32))
    # Labelled samples at (5, 5) and (0, 0): the pool's c and a are covered already.
    np.save(root / "data/labelled.npy", np.array([[5.0, 5], [0, 0]], dtype=np.float32))

    code, _, err = invoke(root)

    assert (code, err) == (0, "")
    rows = batch(root / ".alops/al/batch")
    assert [r["id"] for r in rows] == ["d", "b"] or [r["id"] for r in rows] == ["d", "e"]
    assert all(float(r["score"]) > 0 for r in rows)


def test_labelled_embeddings_in_another_space_are_a_data_error(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        "  scores: data/scores.parquet\n  embeddings: data/emb.npy\n  labelled_embeddings: data/labelled.npy\n"
        "  strategy: k-center\n  batch_size: 2\n",
    )
    np.save(root / "data/emb.npy", np.zeros((5, 2), dtype=np.float32))
    np.save(root / "data/labelled.npy", np.zeros((3, 4), dtype=np.float32))

    code, out, err = invoke(root)

    assert (code, out) == (EXIT_DATA, "")
    assert "the labelled embeddings have 4 dimensions, the pool's have 2: score both with the same model" in err


def test_hybrid_with_embeddings(tmp_path: Path) -> None:
    root = project(
        tmp_path, "  scores: data/scores.parquet\n  embeddings: data/emb.npy\n  strategy: hybrid\n  batch_size: 2\n"
    )
    np.save(root / "data/emb.npy", np.arange(10, dtype=np.float64).reshape(5, 2))

    code, out, err = invoke(root)

    assert (code, err) == (0, "")
    assert out.startswith("Chose 2 of 5 samples by hybrid from ")
    assert {r["strategy"] for r in batch(root / ".alops/al/batch")} == {"hybrid"}


def test_hostile_class_names_and_ids_never_reach_the_csv_as_formulas(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.csv\n  batch_size: 2\n")
    table = pa.table({"id": ['=HYPERLINK("x")', "@foo"], "+cmd": [0.2, 0.3], "-x": [0.8, 0.7]})
    pcsv.write_csv(table, root / "data/scores.csv")

    code, _, err = invoke(root)

    assert (code, err) == (0, "")
    rows = batch(root / ".alops/al/batch")
    assert [(r["id"], r["predicted"]) for r in rows] == [("'@foo", "'-x"), ('\'=HYPERLINK("x")', "'-x")]
    lines = (root / ".alops/al/batch/batch.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["@foo", '=HYPERLINK("x")']


def test_a_missing_scores_file_says_to_run_the_scoring_stage(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/nope.parquet\n")

    code, out, err = invoke(root)

    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        f"Error: the scores file {root}/data/nope.parquet does not exist: run the scoring stage (`dvc repro`) "
        "or fetch its output (`alops data pull`), then run again\n"
    )


def test_a_missing_embeddings_file_is_a_data_error(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.parquet\n  embeddings: data/emb.npy\n  strategy: k-center\n")

    code, _, err = invoke(root)

    assert code == EXIT_DATA
    assert err.startswith(f"Error: the embeddings file {root}/data/emb.npy does not exist: run the scoring stage")


def test_scores_not_set(tmp_path: Path) -> None:
    root = project(tmp_path, "")

    code, _, err = invoke(root)

    assert code == EXIT_CONFIG
    assert err == (
        f"Error: {root}/alops.yaml:7: active_learning.scores is not set: name the scores file the project's "
        "scoring stage writes (or pass --scores)\n"
    )


def test_no_active_learning_section(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(HEAD, encoding="utf-8")

    code, _, err = invoke(tmp_path)

    assert code == EXIT_CONFIG
    assert err == (
        f"Error: {tmp_path}/alops.yaml has no active_learning: section: add one naming the pool and the scores "
        "file (see `alops config schema`)\n"
    )


def test_a_quota_naming_an_unknown_class_lists_the_classes(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.parquet\n  batch_size: 2\n  quotas:\n    cat: 1\n    bird: 1\n")

    code, _, err = invoke(root)

    assert code == EXIT_CONFIG
    assert err == (
        f"Error: {root}/alops.yaml:13: active_learning.quotas: no class 'bird' in {root}/data/scores.parquet: "
        "its classes are 'cat', 'dog'\n"
    )


def test_quotas_must_add_up_to_the_batch_size(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.parquet\n  quotas: {cat: 1, dog: 1}\n")

    code, _, err = invoke(root, "--batch-size", "3")

    assert code == EXIT_CONFIG
    assert err == (
        f"Error: {root}/alops.yaml:10: active_learning.quotas add up to 2, but the batch size is 3: make them add up "
        "to the batch size (active_learning.batch_size or --batch-size)\n"
    )


def test_quotas_by_class_name(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/scores.parquet\n  batch_size: 3\n  quotas: {cat: 2, dog: 1}\n")

    code, _, err = invoke(root)

    assert (code, err) == (0, "")
    rows = batch(root / ".alops/al/batch")
    assert sorted(r["predicted"] for r in rows) == ["cat", "cat", "dog"]


def test_k_center_from_the_command_line_needs_embeddings(tmp_path: Path) -> None:
    root = project(tmp_path)

    code, _, err = invoke(root, "--strategy", "k-center")

    assert code == EXIT_CONFIG
    assert err == (
        f"Error: {root}/alops.yaml:7: active_learning.embeddings is not set: the k-center strategy chooses by "
        "distances between embeddings: name the .npy file of the pool's embeddings, or choose another strategy\n"
    )


def test_a_batch_larger_than_the_pool(tmp_path: Path) -> None:
    code, _, err = invoke(project(tmp_path), "--batch-size", "6")

    assert code == EXIT_CONFIG
    assert err == "Error: the batch size 6 is larger than the pool (5 rows): ask for at most 5\n"


def test_an_unknown_strategy_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke(project(tmp_path), "--strategy", "uncertainty")

    assert code == EXIT_CONFIG
    assert "Invalid value for '--strategy': 'uncertainty' is not one of" in err


def test_the_schema_allows_exactly_the_strategies_alops_al_has() -> None:
    assert sorted(STRATEGY_NAMES) == sorted(STRATEGIES)


def test_integer_ids_stay_numbers_in_json(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/ints.parquet\n  batch_size: 1\n")
    pq.write_table(pa.table({"id": [10, -20], "cat": [0.9, 0.5], "dog": [0.1, 0.5]}), root / "data/ints.parquet")

    code, _, err = invoke(root)

    assert (code, err) == (0, "")
    assert batch(root / ".alops/al/batch")[0]["id"] == "-20", "a number is no formula: not escaped"
    tasks = json.loads((root / ".alops/al/batch/tasks.json").read_text(encoding="utf-8"))
    assert tasks[0]["data"]["sample_id"] == -20


def test_a_chosen_row_without_an_id_is_a_data_error(tmp_path: Path) -> None:
    root = project(tmp_path, "  scores: data/gaps.parquet\n  batch_size: 1\n")
    pq.write_table(pa.table({"id": ["a", None], "cat": [0.9, 0.5], "dog": [0.1, 0.5]}), root / "data/gaps.parquet")

    code, out, err = invoke(root)

    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        "Error: row 1 of the scores file has no sample id: the scoring stage must write an id for every sample\n"
    )
    assert not (root / ".alops/al/batch/batch.csv").exists()
