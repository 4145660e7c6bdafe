"""alops.data: a branch pulls its own dataset, and only that one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from alops import data
from alops.config import load_config
from alops.errors import ConfigError
from alops.flow import current_plan


def _cache_objects(project: Path) -> set[str]:
    root = project / ".dvc/cache/files/md5"
    return {p.parent.name + p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _objects_of(project: Path, target: str) -> set[str]:
    """The .dir object of a .dvc file's directory and the objects of its files."""
    dir_md5 = yaml.safe_load((project / target).read_text())["outs"][0]["md5"]
    listing = project / ".dvc/cache/files/md5" / dir_md5[:2] / dir_md5[2:]
    return {dir_md5} | {entry["md5"] for entry in json.loads(listing.read_text())}


def test_a_feature_branch_pulls_the_dev_data_only(project: Path) -> None:
    config = load_config(project / "alops.yaml")
    plan = current_plan(config, {}, branch="feature/x")

    result = data.pull(config, plan)

    assert (result.dataset, result.targets, result.remote, result.files) == ("dev", ("data/dev.dvc",), None, 2)
    assert result.seconds > 0
    assert sorted(p.name for p in (project / "data/dev").iterdir()) == ["labelled.csv", "unlabelled.csv"]
    assert not (project / "data/full").exists()
    dev = _objects_of(project, "data/dev.dvc")
    assert _cache_objects(project) == dev  # not one object of data/full
    full_dir = yaml.safe_load((project / "data/full.dvc").read_text())["outs"][0]["md5"]
    assert full_dir not in dev


def test_an_explicit_dataset_overrides_the_plan(project: Path) -> None:
    config = load_config(project / "alops.yaml")
    result = data.pull(config, current_plan(config, {}, branch="feature/x"), dataset="full")
    assert (result.dataset, result.files) == ("full", 2)
    assert (project / "data/full/labelled.csv").is_file()
    assert not (project / "data/dev").exists()


def test_a_dataset_on_its_own_named_remote(project: Path) -> None:
    path = project / "alops.yaml"
    path.write_text(path.read_text().replace("targets: [data/dev.dvc]", "targets: [data/dev.dvc]\n    remote: storage"))
    config = load_config(path)
    result = data.pull(config, None, dataset="dev")
    assert (result.dataset, result.remote, result.files) == ("dev", "storage", 2)


def test_choose_the_dataset() -> None:
    with pytest.raises(ConfigError, match="pass --dataset dev or --dataset full"):
        data.choose(None, "auto")
    with pytest.raises(ConfigError, match="unknown dataset 'huge': use auto, dev or full"):
        data.choose(None, "huge")
    assert data.choose(None, "full") == "full"


def test_outputs_and_file_counts(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d/a.csv").write_text("x\n")
    (tmp_path / "d/sub").mkdir()
    (tmp_path / "d/sub/b.csv").write_text("y\n")
    (tmp_path / "d.dvc").write_text("outs:\n- md5: 0.dir\n  path: d\n")
    assert data.outputs(tmp_path, "d.dvc") == [tmp_path / "d"]
    assert data.outputs(tmp_path, "nothing-here") == []
    assert data.count_files(tmp_path / "d") == 2
    assert data.count_files(tmp_path / "d/a.csv") == 1
    assert data.count_files(tmp_path / "missing") == 0
