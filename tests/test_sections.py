"""Typed sections of alops.yaml: ``Config.al`` (``active_learning:``), defaults applied, None when absent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from alops.config import load_config
from alops.errors import ConfigError
from alops.sections import ActiveLearning

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
        scores="data/scores.npy",
        id_column="id",
        embeddings=None,
        strategy="least-confidence",
        batch_size=100,
        seed=0,
        quotas=None,
        shortlist_factor=10,
        batch_dir=".alops/al/batch",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        al.seed = 1  # type: ignore[misc]


def test_al_every_key() -> None:
    config = load_config(HERE / "config/valid/active-learning.yml")

    assert config.al == ActiveLearning(
        scores="data/pool_scores.parquet",
        id_column="sample",
        embeddings="data/pool_embeddings.npy",
        strategy="k-center",
        batch_size=30,
        seed=7,
        quotas={"cat": 10, "=dog": 20},
        shortlist_factor=5,
        batch_dir="labelling/batch",
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
