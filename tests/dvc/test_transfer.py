"""alops.dvc.transfer: what pull and push count, from DVC's API, on the tiny real repo and its local remote.

The repository has four objects: ``data/raw.csv``, the listing of
``data/dir`` and its two files (``conftest.py``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from alops.dvc import commands
from alops.dvc.errors import CredentialsError
from alops.errors import EXIT_DATA

ENV = os.environ
TARGETS = ["data/raw.csv.dvc", "data/dir.dvc"]


def objects(root: Path) -> dict[str, int]:
    """The cache's object files (relative path: size)."""
    base = root / ".dvc/cache/files/md5"
    return {str(p.relative_to(base)): p.stat().st_size for p in base.rglob("*") if p.is_file()}


def empty(path: Path) -> None:
    shutil.rmtree(path)
    path.mkdir()


def test_a_pull_with_everything_cached_fetches_nothing(tiny_copy: Path) -> None:
    shutil.rmtree(tiny_copy.parent / "remote")  # not asked: the cache has every object
    (tiny_copy / "data/raw.csv").unlink()
    got = commands.pull(TARGETS, cwd=tiny_copy, env=ENV)
    assert (got["fetched"], got["fetched_bytes"], got["cached"], got["run_cache"]) == (0, 0, 4, None)
    assert got["remote"]["name"] == "storage"
    assert (tiny_copy / "data/raw.csv").is_file()


def test_a_pull_counts_the_objects_and_bytes_it_fetched(tiny_copy: Path) -> None:
    sizes = objects(tiny_copy)
    empty(tiny_copy / ".dvc/cache")
    shutil.rmtree(tiny_copy / "data/dir")
    got = commands.pull(TARGETS, cwd=tiny_copy, env=ENV)
    assert (got["fetched"], got["fetched_bytes"], got["cached"]) == (4, sum(sizes.values()), 0)
    assert objects(tiny_copy) == sizes and (tiny_copy / "data/dir/b.csv").is_file()


def test_a_pull_of_one_target_fetches_its_objects_only(tiny_copy: Path) -> None:
    empty(tiny_copy / ".dvc/cache")
    got = commands.pull(["data/raw.csv.dvc"], cwd=tiny_copy, env=ENV)
    assert (got["fetched"], got["cached"]) == (1, 0)
    assert len(objects(tiny_copy)) == 1


def test_entries_cached_under_a_listing_that_is_not_count_as_cached(tiny_copy: Path) -> None:
    tree = next(w for w in (tiny_copy / "data/dir.dvc").read_text().split() if w.endswith(".dir"))
    (tiny_copy / ".dvc/cache/files/md5" / tree[:2] / tree[2:]).unlink()
    got = commands.pull(["data/dir.dvc"], cwd=tiny_copy, env=ENV)
    assert (got["fetched"], got["cached"]) == (1, 2)  # the listing only: its two files were here


def test_a_pull_from_s3_without_credentials_says_so_before_the_network(tiny_copy: Path) -> None:
    config = tiny_copy / ".dvc/config.local"
    config.write_text("[core]\n    remote = s3\n['remote \"s3\"']\n    url = s3://bucket/path\n")
    empty(tiny_copy / ".dvc/cache")
    env = {k: v for k, v in ENV.items() if not k.startswith("AWS_")}
    with pytest.raises(CredentialsError) as caught:
        commands.pull(TARGETS, cwd=tiny_copy, env=env)
    assert caught.value.exit_code == EXIT_DATA and caught.value.code == ""
    assert str(caught.value).startswith(
        "the default DVC remote (s3://bucket/path) refused the credentials (or found none)"
    )


def test_a_push_counts_what_the_remote_lacked(tiny_copy: Path) -> None:
    sizes = objects(tiny_copy)
    empty(tiny_copy.parent / "remote")
    got = commands.push(targets=TARGETS, cwd=tiny_copy, env=ENV)
    assert (got["outputs"], got["sent"], got["sent_bytes"], got["already"], got["lost"]) == (
        4,
        4,
        sum(sizes.values()),
        0,
        [],
    )
    again = commands.push(targets=TARGETS, cwd=tiny_copy, env=ENV)
    assert (again["sent"], again["sent_bytes"], again["already"]) == (0, 0, 4)


def test_a_push_of_what_is_on_neither_side_names_it_and_pushes_nothing(tiny_copy: Path) -> None:
    empty(tiny_copy.parent / "remote")
    oid = hashlib.md5((tiny_copy / "data/dir/a.csv").read_bytes()).hexdigest()
    (tiny_copy / ".dvc/cache/files/md5" / oid[:2] / oid[2:]).unlink()  # the listing stays: the file is named
    got = commands.push(targets=TARGETS, cwd=tiny_copy, env=ENV)
    assert got["lost"] == ["data/dir/a.csv"] and got["stop"] is True
    assert not any(p.is_file() for p in (tiny_copy.parent / "remote").rglob("*"))


def test_a_push_of_nothing_recorded_stops(tiny_copy: Path) -> None:
    (tiny_copy / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp data/raw.csv out.csv\n    outs: [out.csv]\n")
    got = commands.push(targets=["copy"], cwd=tiny_copy, env=ENV)
    assert (got["outputs"], got["sent"], got.get("stop")) == (0, 0, True)


def test_a_push_of_everything_is_dvc_s_own_count(tiny_copy: Path) -> None:
    empty(tiny_copy.parent / "remote")
    assert commands.push(cwd=tiny_copy, env=ENV)["sent"] == 4
    assert commands.push(cwd=tiny_copy, env=ENV)["sent"] == 0
