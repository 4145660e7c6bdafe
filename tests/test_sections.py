"""Typed sections of alops.yaml: ``Config.al`` (``active_learning:``), defaults applied, None when absent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from alops.config import load_config
from alops.errors import ConfigError
from alops.sections import ActiveLearning, Annotators, Gate, LabelStudioSettings, Schedule, require

HERE = Path(__file__).parent
HEAD = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
"""


def config_of(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alops.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return path


def test_al_is_none_without_the_section() -> None:
    assert load_config(HERE / "config/valid/minimal.yml").al is None


def test_al_defaults(tmp_path: Path) -> None:
    al = load_config(config_of(tmp_path, "active_learning:\n  scores: data/scores.npy\n")).al

    assert al == ActiveLearning(
        pool=None,
        labelled=None,
        label_column="label",
        labels=None,
        classes=None,
        scores="data/scores.npy",
        id_column="id",
        embeddings=None,
        labelled_embeddings=None,
        strategy="least-confidence",
        batch_size=100,
        seed=0,
        quotas=None,
        shortlist_factor=10,
        batch_dir=".alops/al/batch",
        annotators=Annotators("majority", None, 1),
        pseudo_min_confidence=None,
        label_studio=LabelStudioSettings("alops", ""),
        min_new_labels=1,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        al.seed = 1  # type: ignore[misc]


def test_al_every_key() -> None:
    config = load_config(HERE / "config/valid/active-learning.yml")

    assert config.al == ActiveLearning(
        pool="data/pool.parquet",
        labelled="data/labelled.parquet",
        label_column="class",
        labels="data/labels",
        classes=("cat", "=dog"),
        scores="data/pool_scores.parquet",
        id_column="sample",
        embeddings="data/pool_embeddings.npy",
        labelled_embeddings="data/labelled_embeddings.npy",
        strategy="k-center",
        batch_size=30,
        seed=7,
        quotas={"cat": 10, "=dog": 20},
        shortlist_factor=5,
        batch_dir="labelling/batch",
        annotators=Annotators("reviewer", "alice@example.com", 2),
        pseudo_min_confidence=0.98,
        label_studio=LabelStudioSettings("pets", "Pick the animal."),
        min_new_labels=40,
    )
    assert config.schedules == (
        Schedule("al-query", "0 3 * * 1-5", "al/pets", "Europe/Berlin", False, {"ALOPS_AL_STEP": "query"}),
    )
    assert config.document.data["active_learning"].get("id_column") == "sample"
    assert not config.written("active_learning", "missing")


def test_al_defaults_leave_the_document_as_written(tmp_path: Path) -> None:
    config = load_config(config_of(tmp_path, "active_learning:\n  pool: data/pool\n  strategy: hybrid\n"))

    assert config.al is not None and config.al.strategy == "hybrid" and config.al.embeddings is None
    assert config.document.data["active_learning"] == {"pool": "data/pool", "strategy": "hybrid"}


def test_k_center_without_embeddings_names_file_line_and_key(tmp_path: Path) -> None:
    path = config_of(tmp_path, "active_learning:\n  pool: data/pool\n  strategy: k-center\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:7: active_learning: missing required key 'embeddings'" in str(info.value)


def test_schedules_are_empty_without_the_section() -> None:
    assert load_config(HERE / "config/valid/minimal.yml").schedules == ()


def test_a_schedule_takes_its_defaults(tmp_path: Path) -> None:
    config = load_config(config_of(tmp_path, 'schedules:\n  nightly: {cron: "0 3 * * *", ref: al/x}\n'))
    assert config.schedules == (Schedule("nightly", "0 3 * * *", "al/x", "UTC", True, {}),)


def test_the_reviewer_policy_needs_a_reviewer(tmp_path: Path) -> None:
    path = config_of(tmp_path, "active_learning:\n  annotators: {policy: reviewer}\n")
    with pytest.raises(ConfigError, match="annotators: missing required key 'reviewer'"):
        load_config(path)


def test_require_names_what_a_command_misses(tmp_path: Path) -> None:
    al = load_config(config_of(tmp_path, "active_learning:\n  pool: data/pool.csv\n")).al
    assert require(al, "pool", command="alops al ingest") is al
    with pytest.raises(ConfigError, match=r"alops al ingest needs active_learning.labelled, active_learning.classes"):
        require(al, "pool", "labelled", "classes", command="alops al ingest")
    with pytest.raises(ConfigError, match=r"needs active_learning.pool in alops.yaml"):
        require(None, "pool", command="alops al status")


def test_quality_gates_take_their_defaults_in_alops_yaml_s_order(tmp_path: Path) -> None:
    text = (
        "quality:\n  thresholds:\n    loss: {max: 0.5, better: lower}\n    accuracy: {min: 0.8, max_regression: 0.02}\n"
    )
    assert load_config(config_of(tmp_path, text)).quality == (
        Gate("loss", None, 0.5, None, "lower"),
        Gate("accuracy", 0.8, None, 0.02, "higher"),
    )
    assert load_config(HERE / "config/valid/minimal.yml").quality == ()
