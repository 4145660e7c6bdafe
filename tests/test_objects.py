"""alops.objects: the DVC objects of targets, read from .dvc files, dvc.lock and .dir listings."""

from __future__ import annotations

import json
from pathlib import Path

from alops import objects

DIR_MD5 = "0123456789abcdef0123456789abcdef.dir"
A, B, F = "aa" + "1" * 30, "bb" + "2" * 30, "cc" + "3" * 30


def _cache_object(cache: Path, key: str, data: bytes) -> None:
    path = cache / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _project(tmp_path: Path) -> tuple[Path, Path]:
    root, cache = tmp_path / "repo", tmp_path / "repo/.dvc/cache"
    (root / "data").mkdir(parents=True)
    (root / "data/d.dvc").write_text(f"outs:\n- md5: {DIR_MD5}\n  size: 5\n  nfiles: 2\n  hash: md5\n  path: d\n")
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n"
        f"    - path: models/m.bin\n      hash: md5\n      md5: {F}\n      size: 3\n"
    )
    return root, cache


def test_a_directory_whose_listing_is_not_cached_is_unlisted(tmp_path: Path) -> None:
    root, cache = _project(tmp_path)
    found = objects.inventory(root, cache, ["data/d.dvc"])
    key = f"files/md5/01/{DIR_MD5[2:]}"
    assert (found.present, found.missing, found.unlisted) == ({}, {key}, {key})
    assert not found.complete
    assert found.paths == {"data/d": key}


def test_entries_of_a_cached_listing_are_known_with_their_sizes(tmp_path: Path) -> None:
    root, cache = _project(tmp_path)
    listing = json.dumps([{"md5": A, "relpath": "a.csv"}, {"md5": B, "relpath": "sub/b.csv"}]).encode()
    _cache_object(cache, f"files/md5/01/{DIR_MD5[2:]}", listing)
    _cache_object(cache, f"files/md5/aa/{A[2:]}", b"aaaa")

    found = objects.inventory(root, cache, ["data/d.dvc"])

    assert found.present == {f"files/md5/01/{DIR_MD5[2:]}": len(listing), f"files/md5/aa/{A[2:]}": 4}
    assert found.missing == {f"files/md5/bb/{B[2:]}"} and not found.unlisted
    assert found.paths["data/d/sub/b.csv"] == f"files/md5/bb/{B[2:]}"
    assert found.size(found.present) == len(listing) + 4

    _cache_object(cache, f"files/md5/bb/{B[2:]}", b"b")
    assert objects.inventory(root, cache, ["data/d.dvc"]).complete


def test_stage_names_and_output_paths_are_looked_up_in_dvc_lock(tmp_path: Path) -> None:
    root, cache = _project(tmp_path)
    key = f"files/md5/cc/{F[2:]}"
    assert objects.outs_of(root, "train") == [objects.Out("models/m.bin", key)]
    assert objects.outs_of(root, "models/m.bin") == [objects.Out("models/m.bin", key)]
    assert objects.outs_of(root, "data/d") == objects.outs_of(root, "data/d.dvc")
    assert objects.outs_of(root, "unknown") == []


def test_dvc2_entries_live_at_the_top_of_the_cache(tmp_path: Path) -> None:
    root = tmp_path
    (root / "old.dvc").write_text(f"outs:\n- md5: {A}\n  path: old.csv\n")
    assert objects.outs_of(root, "old.dvc") == [objects.Out("old.csv", f"aa/{A[2:]}")]


def test_a_snapshot_lists_every_object_and_run_cache_entries_are_counted(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _cache_object(cache, f"files/md5/aa/{A[2:]}", b"a")
    _cache_object(cache, f"bb/{B[2:]}", b"b")
    _cache_object(cache, "runs/ab/abcdef/123456", b"lock")
    assert objects.snapshot(cache) == {f"files/md5/aa/{A[2:]}", f"bb/{B[2:]}"}
    assert objects.snapshot(tmp_path / "none") == set()
    assert objects.run_cache_entries(cache) == 1


def test_unreadable_files_count_as_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.dvc").write_text("outs: [\n")
    (tmp_path / "odd.dvc").write_text("outs:\n- {path: x}\n- 3\n")
    assert objects.outs_of(tmp_path, "bad.dvc") == [] == objects.outs_of(tmp_path, "odd.dvc")
