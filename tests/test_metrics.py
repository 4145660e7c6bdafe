"""``alops.metrics``: the flow's metrics files, in the workspace and as a git revision has them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from alops import metrics
from alops.config import load_config
from alops.errors import DataError

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json", "metrics/{role}.yaml"]
"""


def test_numbers_by_key_path_from_json_and_yaml_at_a_revision(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/dev.json").write_text('{"acc": 0.9, "test": {"f1": 1, "ok": true, "name": "x"}}')
    (tmp_path / "metrics/feature.yaml").write_text("loss: 0.25\n")
    config = load_config(tmp_path / "alops.yaml")

    assert metrics.files(config, "dev", "feature") == ["metrics/dev.json", "metrics/feature.yaml"]
    assert metrics.read(config, "dev", "feature") == {
        "metrics/dev.json": {"acc": 0.9, "test.f1": 1.0},
        "metrics/feature.yaml": {"loss": 0.25},
    }
    assert metrics.read(config, "full", "experiment") == {}

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "metrics/dev.json"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "m"], cwd=tmp_path, check=True
    )
    (tmp_path / "metrics/dev.json").write_text('{"acc": 0.1}')
    assert metrics.at_revision(config, "HEAD", "dev", "feature", None) == {
        "metrics/dev.json": {"acc": 0.9, "test.f1": 1.0}
    }


@pytest.mark.parametrize(("name", "text"), [("m.json", "{oops"), ("m.yaml", "a: [1")])
def test_an_unreadable_file_is_a_data_error_naming_it(name: str, text: str) -> None:
    with pytest.raises(DataError, match=r"^somewhere is not a readable metrics file"):
        metrics.parse(text, name, where="somewhere")
