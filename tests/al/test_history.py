"""alops.al.history: rounds, trainings and syncs from the trailers of real git commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from alops.al import history
from alops.al.history import Ingest, labels_since_training


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def commit(root: Path, subject: str, trailers: str = "") -> str:
    args = ["commit", "-q", "--allow-empty", "-m", subject] + (["-m", trailers] if trailers else [])
    git(root, *args)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "al/x")
    return tmp_path


def test_rounds_trainings_and_labels_since_the_last_trained_round(repo: Path) -> None:
    commit(repo, "project")
    first = commit(
        repo, "alops al ingest: round 1, +4 labels (0 pseudo)", "ALOps-Round: 1\nALOps-Labels: 4\nALOps-Ingest: aa"
    )
    assert labels_since_training(repo) == 4  # no model yet: every label counts
    trained = commit(repo, "alops al record: round 1", "ALOps-Trained-Round: 1")
    commit(repo, "code change without trailers")
    commit(repo, "alops al ingest: round 2, +6 labels (1 pseudo)", "ALOps-Round: 2\nALOps-Labels: 6\nALOps-Ingest: bb")
    commit(repo, "round 3", "alops-round: 3\nalops-labels: 5")  # git matches trailer keys in any case

    found = history.read(repo)

    assert [(i.round, i.labels, i.ingest_id) for i in found.ingests] == [(1, 4, "aa"), (2, 6, "bb"), (3, 5, None)]
    assert found.ingests[0].commit == first
    assert found.ingests[0].date.startswith("20")
    assert [(t.round, t.commit) for t in found.trainings] == [(1, trained)]
    assert (found.last_round, found.last_trained) == (3, 1)
    assert found.labels_since_training() == labels_since_training(repo) == 6 + 5
    assert found.training_of(1) == found.trainings[0]
    assert found.training_of(2) is None


def test_a_round_committed_twice_counts_once_the_newest_commit(repo: Path) -> None:
    commit(repo, "round 1", "ALOps-Round: 1\nALOps-Labels: 4")
    again = commit(repo, "round 1 after a rebase", "ALOps-Round: 1\nALOps-Labels: 5")

    assert history.read(repo).ingests == (Ingest(1, 5, None, again, history.read(repo).ingests[0].date),)


def test_syncs_record_the_branch_its_commit_and_its_round(repo: Path) -> None:
    mine = commit(repo, "alops al sync: data of al/y", "ALOps-Synced-From: al/y@abc123\nALOps-Synced-Round: 7")
    commit(repo, "an odd one", "ALOps-Synced-From: no-at-sign")

    found = history.read(repo)

    assert [(s.branch, s.source, s.round, s.commit) for s in found.syncs] == [("al/y", "abc123", 7, mine)]
    assert found.last_round == 7
    assert found.labels_since_training() == 0


def test_a_message_that_only_mentions_a_trailer_is_not_one(repo: Path) -> None:
    commit(repo, "ALOps-Round: 9 in the subject", "body\n\nnot a trailer: ALOps-Round: 8\n\nSigned-off-by: x <x@y>")
    commit(repo, "a number that is none", "ALOps-Round: nine\nALOps-Labels: 3")

    assert history.read(repo).ingests == ()


def test_an_empty_repository_and_another_rev(repo: Path) -> None:
    assert history.read(repo) == history.History((), (), ())
    commit(repo, "round 1", "ALOps-Round: 1\nALOps-Labels: 2")
    git(repo, "branch", "old")
    commit(repo, "round 2", "ALOps-Round: 2\nALOps-Labels: 3")

    assert labels_since_training(repo, rev="old") == 2
    assert labels_since_training(repo) == 5


def test_a_shallow_clone_says_so(repo: Path, tmp_path: Path) -> None:
    commit(repo, "round 1", "ALOps-Round: 1\nALOps-Labels: 2")
    commit(repo, "trained", "ALOps-Trained-Round: 1")
    commit(repo, "round 2", "ALOps-Round: 2\nALOps-Labels: 3")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)

    assert not history.read(repo).shallow
    found = history.read(clone)
    assert found.shallow
    assert found.labels_since_training() == 3
