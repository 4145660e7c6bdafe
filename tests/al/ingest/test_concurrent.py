"""Two ingests on one branch from two clones sharing a bare git remote and a DVC remote: both sets of labels
end up in the branch (the second push is rejected, the second ingest takes the first's data and applies again)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from al.ingest import repo

from alops.al.ingest import IngestReport, ingest, recover
from alops.config import load_config

pytestmark = pytest.mark.slow


def _run(root: Path, rows: list[tuple[str, str, str]], name: str) -> IngestReport:
    source = repo.label_file(root.parent / f"{name}.csv", rows)
    return ingest(load_config(root / "alops.yaml"), source, env=dict(os.environ), push=True, strict=False)


def _branch(base: Path) -> tuple[list[str], list[str], list[str]]:
    """What a fresh clone of the branch holds: labelled ids, pool ids, the label log's files."""
    fresh = repo.clone(base, f"fresh-{os.urandom(3).hex()}")
    logs = sorted(p.name for p in (fresh / "data/labels").iterdir())
    return repo.ids(fresh / "data/full/labelled.csv"), repo.ids(fresh / "data/full/unlabelled.csv"), logs


def test_a_push_behind_the_branch_takes_the_other_ingest_and_applies_again(project: Path) -> None:
    base = project.parent
    other = repo.clone(base, "other")  # made before the first ingest pushes: it will be behind
    first = _run(project, [("p001", "a", "ann"), ("p002", "a", "ann")], "first")
    second = _run(other, [("p002", "b", "bob"), ("p005", "b", "bob")], "second")
    assert (first.pushes, first.round) == (1, 1)
    assert (second.pushes, second.round) == (2, 2)  # rejected once, then round 2 on top of round 1
    assert [x.sample_id for x in second.accepted] == ["p005"]
    assert [(r.sample_id, r.reason) for r in second.rejected] == [
        ("p002", "already labelled 'a': labels are never rewritten")
    ]
    labelled, pool, logs = _branch(base)
    assert labelled[-3:] == ["p001", "p002", "p005"] and not {"p001", "p002", "p005"} & set(pool)
    assert logs == ["round-0001.csv", "round-0001.json", "round-0002.csv", "round-0002.json"]
    messages = repo.git(base / "origin.git", "log", "--format=%s", repo.BRANCH).splitlines()
    assert messages[:2] == [
        "alops al ingest: round 2, +1 labels (0 pseudo)",
        "alops al ingest: round 1, +2 labels (0 pseudo)",
    ]


def test_two_ingests_at_once_both_land(project: Path) -> None:
    base = project.parent
    other = repo.clone(base, "other")
    reports: dict[str, IngestReport] = {}
    errors: list[BaseException] = []

    def go(name: str, root: Path, rows: list[tuple[str, str, str]]) -> None:
        try:
            reports[name] = _run(root, rows, name)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=go, args=("a", project, [("p001", "a", "x"), ("p004", "b", "x")])),
        threading.Thread(target=go, args=("b", other, [("p007", "b", "y"), ("p008", "=c", "y")])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.round for r in reports.values() if r.round) == [1, 2]
    labelled, pool, logs = _branch(base)
    assert sorted(labelled[-4:]) == ["p001", "p004", "p007", "p008"] and len(pool) == 36
    assert len(logs) == 4


def test_a_kill_while_moving_onto_the_remote_branch_leaves_its_data_checked_out(project: Path) -> None:
    base = project.parent
    other = repo.clone(base, "other")
    _run(project, [("p001", "a", "ann")], "first")
    source = repo.label_file(base / "second.csv", [("p005", "b", "bob")])
    killable = Path(__file__).with_name("killable.py")
    args = [sys.executable, str(killable), str(other), str(source), "reset onto the remote", "push"]
    assert subprocess.run(args, check=False, capture_output=True).returncode == -signal.SIGKILL
    assert recover(other, dict(os.environ)).action == "checked-out"
    # The working tree's data is the remote branch's (round 1 of the first ingest), as its .dvc files say.
    assert repo.ids(other / "data/full/labelled.csv")[-1] == "p001"
    assert sorted(p.name for p in (other / "data/labels").iterdir()) == ["round-0001.csv", "round-0001.json"]
    again = _run(other, [("p005", "b", "bob")], "second")
    assert (again.round, again.pushes) == (2, 1)
    labelled, _, _ = _branch(base)
    assert labelled[-2:] == ["p001", "p005"]
