"""``alops.devset.dataset.manifest``: which files of a manifest open, and placing the kept ones."""

from __future__ import annotations

import os
from pathlib import Path

from alops.devset.dataset import manifest


def test_why_a_file_does_not_open(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("x")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path.parent / "out.txt").write_text("secret")
    os.symlink(tmp_path.parent / "out.txt", tmp_path / "link.txt")
    names = ["ok.txt", "", None, 3, "/etc/passwd", "../out.txt", "missing.txt", "empty.txt", "sub", "link.txt"]
    assert manifest.problems(tmp_path, names) == [
        None,
        "empty path",
        "empty path",
        "path 3 is not text",
        "path '/etc/passwd' is not a relative path inside the dataset",
        "path '../out.txt' is not a relative path inside the dataset",
        "file 'missing.txt' is missing",
        "file 'empty.txt' is empty",
        "'sub' is a folder, not a file",
        "file 'link.txt' is a link to outside the dataset",
    ]


def test_kept_files_are_linked_once_and_missing_ones_skipped(tmp_path: Path) -> None:
    base, dest = tmp_path / "full", tmp_path / "dev"
    (base / "a").mkdir(parents=True)
    (base / "a/1.txt").write_text("one")
    dest.mkdir()
    assert manifest.place(base, ["a/1.txt", "a/1.txt", "gone.txt", None], dest) == 1
    assert (dest / "a/1.txt").read_text() == "one"
    assert manifest.inside(base, "a\\1.txt") == base / "a" / "1.txt"  # written on Windows
