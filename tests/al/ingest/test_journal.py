"""The transaction's own rules: the ingest lock, a stale index.lock, staging without a journal."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from al.ingest import repo

from alops.al.ingest import journal, recover


def test_the_lock_makes_a_second_ingest_wait(tmp_path: Path) -> None:
    order: list[str] = []

    def second() -> None:
        with journal.locked(tmp_path):
            order.append("b")

    with journal.locked(tmp_path):
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        order.append("a")
    waiting.join(5)
    assert order == ["a", "b"]
    assert (tmp_path / ".alops/.gitignore").read_text() == "*\n"


def test_an_index_lock_is_removed_only_when_our_git_step_could_have_left_it(tmp_path: Path) -> None:
    git_dir = tmp_path / ".git"
    git_dir.mkdir()
    (tmp_path / journal.STATE).mkdir(parents=True)
    lock = git_dir / "index.lock"
    lock.touch()
    assert not journal.clear_stale_git_lock(tmp_path, git_dir)  # no git step began: someone else's
    os.utime(lock, (time.time() - 60, time.time() - 60))
    journal.mark_git(tmp_path)
    assert not journal.clear_stale_git_lock(tmp_path, git_dir) and lock.exists()  # older than our git step
    lock.touch()
    assert journal.clear_stale_git_lock(tmp_path, git_dir) and not lock.exists()


def test_a_torn_dvc_rwlock_is_removed_and_a_readable_one_kept(tmp_path: Path) -> None:
    """A `dvc add` killed while DVC rewrote .dvc/tmp/rwlock (seen in the fifty-kills test): every DVC command
    then fails with "JSON structure is corrupted"."""
    lock = tmp_path / ".dvc/tmp/rwlock"
    assert not journal.clear_torn_dvc_lock(tmp_path)  # none
    lock.parent.mkdir(parents=True)
    lock.write_text('{"read": {}, "write": {}}')
    assert not journal.clear_torn_dvc_lock(tmp_path) and lock.exists()  # DVC's, readable
    for torn in ("", '{"read": {"da'):
        lock.write_text(torn)
        assert journal.clear_torn_dvc_lock(tmp_path) and not lock.exists()


@pytest.mark.slow
def test_a_kill_inside_git_commit_leaves_an_index_lock_that_recovery_clears(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])
    killable = Path(__file__).with_name("killable.py")
    steps = ["staged"] * 4 + ["journal", "committed"] + ["move"] * 4 + ["dvc add", "git add", "git commit"]
    done = subprocess.run([sys.executable, str(killable), str(project), str(source), str(len(steps) - 1)], check=False)
    assert done.returncode < 0
    (project / ".git/index.lock").write_text("")  # what git leaves when it is killed holding the index
    assert recover(project, dict(os.environ)).action == "finished"
    assert not (project / ".git/index.lock").exists()
    assert repo.git(project, "log", "-1", "--format=%s") == "alops al ingest: round 1, +1 labels (0 pseudo)\n"
    assert repo.git(project, "status", "--porcelain") == ""
