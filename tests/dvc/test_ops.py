"""alops.dvc.ops: the operations of the child that are not transfers, through one child (``process.run``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from alops.dvc.process import run

ENV = os.environ


def test_objects_are_the_cache_files_of_the_targets_the_cache_holds(tiny_copy: Path) -> None:
    base = tiny_copy / ".dvc/cache/files/md5"
    present = run([{"op": "objects", "targets": ["data/raw.csv.dvc", "data/dir.dvc"]}], cwd=tiny_copy, env=ENV)[0]
    assert sorted(Path(p) for p in present["present"].values()) == sorted(p for p in base.rglob("*") if p.is_file())
    # A DVC 2 output's object is the legacy cache's file (.dvc/cache/ab/cdef…), which `dvc gc` would remove too.
    text = "id\n9\n"
    oid = hashlib.md5(text.encode()).hexdigest()
    (tiny_copy / "old.csv").write_text(text)
    (tiny_copy / "old.csv.dvc").write_text(f"outs:\n- md5: {oid}\n  size: {len(text)}\n  path: old.csv\n")
    legacy = tiny_copy / ".dvc/cache" / oid[:2] / oid[2:]
    legacy.parent.mkdir()
    legacy.write_text(text)
    found = run([{"op": "objects", "targets": ["old.csv.dvc"]}], cwd=tiny_copy, env=ENV)[0]
    assert found["present"] == {oid: str(legacy)}


def test_cache_resolves_a_relative_dir_and_sees_it_unchanged_through_a_link(tiny_copy: Path, tmp_path: Path) -> None:
    real = tmp_path / "real-cache"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    step = {"op": "cache", "dir": "../real-cache", "type": ["hardlink", "copy"]}
    steps = [step, step, step | {"dir": str(tmp_path / "link")}]
    first, second, linked = run(steps, cwd=tiny_copy, env=ENV)
    assert (first["changed"], second["changed"], linked["changed"]) == (True, False, False)
    config = run([{"op": "config"}], cwd=tiny_copy, env=ENV)[0]
    assert config["cache_dir"] == str(real) and config["cache"]["type"] == "hardlink,copy"
