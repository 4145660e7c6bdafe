"""``alops.versions``: DVC paths and hashes from ``.dvc`` files and ``dvc.lock``, read as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from alops import versions
from alops.config import load_config
from alops.errors import DataError

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev, data/labels.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
"""
LOCK = """schema: '2.0'
stages:
  prepare@dev:
    cmd: python src/prepare.py dev
    deps:
    - path: data/dev
      hash: md5
      md5: d1.dir
    - path: src/prepare.py
      md5: p1
    outs:
    - path: ./data/prepared/dev
      hash: md5
      md5: b1.dir
  prepare@full:
    cmd: python src/prepare.py full
    outs:
    - path: data/prepared/full
      md5: f1.dir
  report:
    cmd: python src/report.py
    outs:
    - path: reports/index.html
      etag: e1
    - path: reports/none.html
"""


def test_a_dvc_file_s_outs_are_relative_to_its_folder() -> None:
    text = "outs:\n- md5: abc.dir\n  size: 3\n  hash: md5\n  path: full\n- path: ../other\n  checksum: c1\n"

    assert versions.dvc_file_outs(text, "data/full.dvc", "the workspace") == {"data/full": "abc.dir", "other": "c1"}
    assert versions.dvc_file_outs("", "x.dvc", "the workspace") == {}
    assert versions.dvc_file_outs("- a list\n", "x.dvc", "the workspace") == {}


def test_the_hash_is_md5_then_etag_then_checksum() -> None:
    assert versions.digest({"md5": "m", "etag": "e", "checksum": "c"}) == "m"
    assert versions.digest({"etag": "e", "checksum": "c"}) == "e"
    assert versions.digest({"md5": "", "checksum": "c"}) == "c"
    assert versions.digest({"size": 3, "md5": None}) is None


def test_lock_hashes_of_some_stages_outs_or_deps() -> None:
    stages = versions.lock_stages(LOCK, "the workspace")

    assert list(stages) == ["prepare@dev", "prepare@full", "report"]
    assert versions.lock_hashes(stages, ["prepare@dev", "report", "gone"], "outs") == {
        "data/prepared/dev": "b1.dir",  # normalized: ./ dropped
        "reports/index.html": "e1",
    }
    assert versions.lock_hashes(stages, ["prepare@dev"], "deps") == {"data/dev": "d1.dir", "src/prepare.py": "p1"}
    assert versions.lock_stages(None, "the workspace") == {}
    assert versions.lock_stages("schema: '2.0'\n", "the workspace") == {}


def test_a_flow_s_versions_are_its_dataset_s_dvc_files_then_its_stages_outs(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data/dev.dvc").write_text("outs:\n- md5: dev.dir\n  path: dev\n", encoding="utf-8")
    (tmp_path / "dvc.lock").write_text(LOCK, encoding="utf-8")
    config = load_config(tmp_path / "alops.yaml")
    read = versions.files(tmp_path)

    # data/dev is read from data/dev.dvc; data/labels.dvc does not exist; prepare@full is another dataset's stage
    assert versions.of_flow(config, "dev", read, "the workspace") == {
        "data/dev": "dev.dir",
        "data/prepared/dev": "b1.dir",
        "reports/index.html": "e1",
    }
    assert versions.of_flow(config, "full", read, "the workspace") == {
        "data/prepared/full": "f1.dir",
        "reports/index.html": "e1",
    }
    assert versions.of_flow(config, "other", read, "the workspace") == {"reports/index.html": "e1"}


@pytest.mark.parametrize(
    ("name", "fix"), [("data/dev.dvc", "restore it from git"), ("dvc.lock", "run `dvc repro` again, or restore")]
)
def test_unreadable_yaml_is_a_data_error_naming_the_file_the_side_and_what_to_do(name: str, fix: str) -> None:
    broken = "outs: [unclosed\n"
    with pytest.raises(DataError, match=rf"^{name} in main \(0a1b2c3d\) is not readable YAML \(.+\): {fix}") as info:
        if name == "dvc.lock":
            versions.lock_stages(broken, "main (0a1b2c3d)")
        else:
            versions.dvc_file_outs(broken, name, "main (0a1b2c3d)")
    assert info.value.exit_code == 4
