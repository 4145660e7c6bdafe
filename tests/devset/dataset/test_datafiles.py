"""``alops.devset.dataset.datafiles``: which files alops opens, how it names them, what it refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alops.devset.dataset import datafiles
from alops.errors import ConfigError, DataError


def test_a_missing_or_unreadable_file_is_data_a_pipe_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"gone\.csv: cannot be read: it does not exist$"):
        datafiles.open_regular(tmp_path / "gone.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(ConfigError, match="is a named pipe, not a file: alops reads only regular files"):
        datafiles.open_regular(tmp_path / "pipe.csv")  # and it does not hang
    (tmp_path / "t.csv").write_bytes(b"a\n")
    with datafiles.open_regular(tmp_path / "t.csv") as fh:
        assert fh.read() == b"a\n"


def test_names_are_shown_escaped() -> None:
    assert datafiles.shown("data/\x1b[31mred.csv") == "data/\\x1b[31mred.csv"
    assert datafiles.shown(os.fsdecode(b"caf\xe9.csv")) == "caf\\xe9.csv"
    assert not datafiles.is_utf8_name(os.fsdecode(b"caf\xe9.csv")) and datafiles.is_utf8_name("café.csv")


def test_walk_skips_hidden_entries_and_refuses_linked_folders(tmp_path: Path) -> None:
    (tmp_path / "d/.git").mkdir(parents=True)
    (tmp_path / "d/.git/x.csv").write_text("a\n")
    (tmp_path / "d/b.csv").write_text("a\n")
    (tmp_path / "d/a.txt").write_text("a\n")
    assert datafiles.walk(tmp_path / "d", lambda name: name.endswith(".csv")) == [tmp_path / "d/b.csv"]
    os.symlink(tmp_path / "d", tmp_path / "d/loop")
    with pytest.raises(ConfigError, match="is a link to a folder"):
        datafiles.walk(tmp_path / "d", lambda name: True)


def test_a_link_out_of_the_dataset_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text("secret\n")
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "outside.csv", tmp_path / "d/t.csv")
    assert datafiles.escapes(tmp_path / "d/t.csv", tmp_path / "d") == (tmp_path / "outside.csv")
    with pytest.raises(ConfigError, match="outside the dataset"):
        datafiles.confined(tmp_path / "d/t.csv", tmp_path / "d", "the dataset")


def test_a_file_that_changed_or_went_since_it_was_opened_is_data(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    opened = os.stat(path)
    datafiles.still_there(path, opened)
    path.write_text("a\n1\n2\n")
    with pytest.raises(DataError, match=r"changed while alops read it \(4 bytes, now 6\)"):
        datafiles.still_there(path, opened)
    path.unlink()
    with pytest.raises(DataError, match="deleted while alops read it"):
        datafiles.size(path)
