"""``alops.atomic.write_text``: a file is replaced whole, and durably (the kill tests are in tests/devset/build/test_write.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from alops import atomic


def test_write_text_syncs_the_file_then_its_folder_before_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "COMMIT"
    target.write_text("old", encoding="utf-8")
    atomic.write_text(target, "new")
    assert (target.read_text("utf-8"), synced) == ("new", ["file", "folder"])
    assert [p.name for p in tmp_path.iterdir()] == ["COMMIT"]  # no temporary sibling left


def test_a_failed_write_keeps_the_old_text_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(OSError):
        atomic.write_text(target, "new")
    assert (target.read_text("utf-8"), [p.name for p in tmp_path.iterdir()]) == ("old", ["report.json"])
