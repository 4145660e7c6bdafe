"""alops.data: a branch pulls its own dataset, and only that one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from alops import data
from alops.config import load_config
from alops.errors import ConfigError, DataError
from alops.flow import current_plan

#: The environment the tests pass down, as the command line passes os.environ (the autouse fixture cleaned it).
ENV = os.environ


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

    result = data.pull(config, plan, env=ENV)

    assert (result.dataset, result.targets, result.remote, result.files) == ("dev", ("data/dev.dvc",), None, 2)
    assert result.seconds > 0
    assert (result.remote_name, result.fetched, result.cached, result.run_cache) == ("storage", 3, 0, None)
    assert result.fetched_bytes == sum(p.stat().st_size for p in (project / ".dvc/cache").rglob("*") if p.is_file())
    assert sorted(p.name for p in (project / "data/dev").iterdir()) == ["labelled.csv", "unlabelled.csv"]
    assert not (project / "data/full").exists()
    dev = _objects_of(project, "data/dev.dvc")
    assert _cache_objects(project) == dev  # not one object of data/full
    full_dir = yaml.safe_load((project / "data/full.dvc").read_text())["outs"][0]["md5"]
    assert full_dir not in dev


def test_an_explicit_dataset_overrides_the_plan(project: Path) -> None:
    config = load_config(project / "alops.yaml")
    result = data.pull(config, current_plan(config, {}, branch="feature/x"), dataset="full", env=ENV)
    assert (result.dataset, result.files) == ("full", 3)  # data/full's 2 CSV files, data/labels's README.md
    assert (project / "data/full/labelled.csv").is_file()
    assert not (project / "data/dev").exists()


def test_a_dataset_on_its_own_named_remote(project: Path) -> None:
    path = project / "alops.yaml"
    path.write_text(path.read_text().replace("targets: [data/dev.dvc]", "targets: [data/dev.dvc]\n    remote: storage"))
    config = load_config(path)
    result = data.pull(config, None, dataset="dev", env=ENV)
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


def test_a_warm_pull_never_touches_the_remote(project: Path, tmp_path: Path) -> None:
    config = load_config(project / "alops.yaml")
    data.pull(config, None, dataset="dev", env=ENV)
    shutil.rmtree(project / "data/dev")
    shutil.rmtree(tmp_path / "remote")  # gone: only the cache can give the data back

    result = data.pull(config, None, dataset="dev", env=ENV)

    assert (result.fetched, result.fetched_bytes, result.cached, result.files) == (0, 0, 3, 2)
    assert (project / "data/dev/labelled.csv").is_file()


def test_a_listing_missing_from_the_cache_is_counted_exactly(project: Path) -> None:
    # The .dir listing is not cached but one file of it is (from another version of the dataset):
    # that file must count as cached, not as fetched.
    config = load_config(project / "alops.yaml")
    data.pull(config, None, dataset="dev", env=ENV)
    cache = project / ".dvc/cache"
    listing = next(p for p in cache.rglob("*.dir"))
    kept = next(p for p in cache.rglob("*") if p.is_file() and p.suffix != ".dir")
    for p in [p for p in cache.rglob("*") if p.is_file() and p not in (kept,)]:
        p.chmod(0o644)
        p.unlink()
    shutil.rmtree(project / "data/dev")

    result = data.pull(config, None, dataset="dev", env=ENV)

    assert (result.fetched, result.cached) == (2, 1)
    assert result.fetched_bytes == listing.stat().st_size + sum(
        p.stat().st_size for p in cache.rglob("*") if p.is_file() and p not in (listing, kept)
    )


def test_the_shared_cache_is_configured_once(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    assert data.use_shared_cache(project, {}) is None
    assert data.use_shared_cache(project, {"ALOPS_DVC_CACHE_DIR": str(shared)}) == str(shared)
    config = (project / ".dvc/config.local").read_text()
    assert data.use_shared_cache(project, {}, cache_dir=str(shared)) == str(shared)
    assert (project / ".dvc/config.local").read_text() == config


def test_push_needs_a_remote(project: Path) -> None:
    (project / ".dvc/config").write_text("")
    (project / ".dvc/config.local").unlink()
    config = load_config(project / "alops.yaml")
    with pytest.raises(DataError, match="no DVC remote is configured"):
        data.push(config, current_plan(config, {}, branch="experiment/x"), env=ENV)


def test_summaries() -> None:
    pulled = data.PullResult("dev", ("data/dev.dvc",), None, 2, 1.234, "storage", 12, 3_400_000, 230)
    assert data.pull_summary(pulled) == (
        "pulled dev (data/dev.dvc) from storage: 12 objects, 3.4 MB fetched, 230 objects already cached, 1.2 s"
    )
    shared = data.PullResult("full", ("a.dvc", "b.dvc"), "s3", 9, 0.05, "s3", 1, 5, 1, run_cache=1, cache_dir="/c")
    assert data.pull_summary(shared) == (
        "pulled full (a.dvc, b.dvc) and the run-cache from s3 into the shared cache /c: 1 object, 5 B fetched, "
        "1 object already cached, 1 run-cache entry fetched, 0.1 s"
    )
    pushed = data.PushResult(("train@full",), None, "storage", 0, 0, 5, True, 0.5)
    assert data.push_summary(pushed) == (
        "pushed train@full and the run-cache to storage: 0 objects, 0 B sent, 5 objects already there, 0.5 s"
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (3_400_000, "3.4 MB"),
        (999_960, "1.0 MB"),
        (2 * 10**15, "2000.0 TB"),
    ],
)
def test_human_bytes(n: int, text: str) -> None:
    assert data.human_bytes(n) == text


def test_with_progress_dvc_writes_to_the_terminal_itself(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    config = load_config(project / "alops.yaml")
    result = data.pull(config, None, dataset="dev", progress=True, env=ENV)
    assert (result.fetched, result.files) == (3, 2)
    shown = capfd.readouterr()
    assert "data/dev" in shown.out + shown.err  # DVC's own lines (and bars, on a terminal), not captured by alops


def test_planning_with_an_explicit_environment_ignores_the_process_s(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `alops demo` does: the environment is the one passed, not this process's.
    real = tmp_path / "real-runner-cache"
    monkeypatch.setenv("ALOPS_DVC_CACHE_DIR", str(real))
    config = load_config(project / "alops.yaml")
    given = {k: v for k, v in os.environ.items() if k != "ALOPS_DVC_CACHE_DIR"}

    result = data.pull(config, current_plan(config, {}, branch="feature/x"), env=given)

    assert (result.cache_dir, result.fetched) == (None, 3)
    assert not real.exists()
    assert "cache" not in (project / ".dvc/config.local").read_text()
    assert (project / ".dvc/cache/files/md5").is_dir()
