"""SIGKILL an ingest at every checkpoint of its transaction and at random moments: after recover(),
the pool, the labelled set and the label log are all old or all new, the commit exists exactly when
the new version is applied, and no accepted label is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from al.ingest import repo

from alops.al.ingest import ingest, recover
from alops.config import load_config

pytestmark = pytest.mark.slow
KILLABLE = Path(__file__).with_name("killable.py")
LABELS = [("p001", "a", "ann"), ("p003", "=c", "bob"), ("p010", "b", "ann")]
DATA = ("data/full/unlabelled.csv", "data/full/labelled.csv")
STAGING = ("data/.full.alops-ingest", "data/.labels.alops-ingest", ".alops/al/ingest/journal.json")


@dataclass(frozen=True)
class Version:
    head: str
    files: dict[str, bytes]  # the data files and the label log's
    dvc: dict[str, str]  # the .dvc files as HEAD has them


def version(root: Path) -> Version:
    files = {p: (root / p).read_bytes() for p in DATA}
    logs = sorted((root / "data/labels").iterdir()) if (root / "data/labels").is_dir() else []
    files |= {str(p.relative_to(root)): p.read_bytes() for p in logs}
    tracked = repo.git(root, "ls-tree", "--name-only", "HEAD", "data/").split()
    dvc = {p: repo.git(root, "show", f"HEAD:{p}") for p in tracked if p.endswith(".dvc")}
    return Version(repo.git(root, "rev-parse", "HEAD").strip(), files, dvc)


def run(root: Path, source: str, step: int = -1, *, group: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(KILLABLE), str(root), source, str(step)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=group,
    )  # fmt: skip


def judged(root: Path, old: Version, new: Version) -> str:
    """``old`` or ``new``: what the working tree and the branch hold, asserting they agree."""
    assert [p for p in STAGING if (root / p).exists()] == []
    now = version(root)
    assert repo.git(root, "status", "--porcelain") == ""
    if now.files == old.files:
        assert now.head == old.head
        return "old"
    assert now.files == new.files, "a partial data version"
    assert (now.dvc, repo.git(root, "rev-parse", "HEAD~1").strip()) == (new.dvc, old.head)
    assert "ALOps-Ingest: " in repo.git(root, "log", "-1", "--format=%B")
    return "new"


@pytest.fixture
def reference(project: Path, tmp_path: Path) -> tuple[Version, Version, Path, list[str], float]:
    """The old and new version of one uninterrupted run, its label file, its checkpoints and duration."""
    source = repo.label_file(tmp_path / "labels.csv", LABELS)
    old = version(project)
    started = time.monotonic()
    done = run(project, str(source))
    out, err = done.communicate()
    assert done.returncode == 0, err
    steps = [line.split(" ", 1)[1] for line in out.splitlines()]
    return old, version(project), source, steps, time.monotonic() - started


def test_a_kill_at_each_checkpoint_leaves_old_or_new(
    reference: tuple[Version, Version, Path, list[str], float], ingest_template: Path, tmp_path: Path
) -> None:
    old, new, source, steps, _ = reference
    assert len(steps) >= 14 and steps.index("journal") < steps.index("committed")

    def one(k: int) -> tuple[str, str]:
        root = repo.copy(ingest_template, tmp_path / f"k{k}")
        killed = run(root, str(source), k)
        killed.communicate()
        assert killed.returncode == -signal.SIGKILL
        recover(root, dict(os.environ))
        seen = judged(root, old, new)
        # No label is lost: the same ingest again applies them (old) or finds them all in (new).
        again = ingest(load_config(root / "alops.yaml"), source, env=dict(os.environ), push=False, strict=False)
        assert (again.commit is None) == (seen == "new") and again.rejected == ()
        assert [(root / p).read_bytes() for p in DATA] == [new.files[p] for p in DATA]
        assert [r["id"] for r in repo.rows(root / "data/labels/round-0001.csv")] == [x[0] for x in LABELS]
        assert not (root / "data/labels/round-0002.json").exists() and repo.git(root, "status", "--porcelain") == ""
        return steps[k], seen

    with ThreadPoolExecutor(4) as pool:
        seen = dict(pool.map(one, range(len(steps))))
    assert {step for step, state in seen.items() if state == "old"} == set(steps[: steps.index("journal") + 1])


def killed(child: subprocess.Popen[str]) -> None:
    """SIGKILL ``child``'s process group and wait until every process of it is gone.

    The next job starts after the killed one's processes are reaped. A DVC child killed
    with its parent is reparented and reaped a moment later; until then its PID exists,
    and DVC's lock (``.dvc/tmp/rwlock``) rightly counts it as holding the data.
    """
    os.killpg(child.pid, signal.SIGKILL)
    child.communicate()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes of the killed group {child.pid} still run after 30 s")


def test_fifty_kills_at_random_moments(
    reference: tuple[Version, Version, Path, list[str], float], ingest_template: Path, tmp_path: Path
) -> None:
    old, new, source, _, duration = reference
    rng = random.Random(8)
    delays = [rng.uniform(0.0, duration) for _ in range(50)]

    def one(k: int) -> str:
        root = repo.copy(ingest_template, tmp_path / f"r{k}")
        child = run(root, str(source), group=True)
        time.sleep(delays[k])
        killed(child)  # the whole job, DVC's and git's children too, as a CI runner does
        if k % 5 == 0:  # a kill during the recovery too
            again = run(root, "-", group=True)
            time.sleep(rng.uniform(0.0, 1.5))
            killed(again)
        recover(root, dict(os.environ))
        return judged(root, old, new)

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        states = list(pool.map(one, range(50)))
    print(f"50 kills in {time.monotonic() - started:.1f} s: {states.count('old')} old, {states.count('new')} new")
    assert states.count("old") + states.count("new") == 50
