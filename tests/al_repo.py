"""A real git + DVC active-learning project whose history the tests build: ingest-like rounds, recorded trainings.

The layout is the skeleton's (contracts of issue 8): ``data/full/{unlabelled,labelled}.csv`` tracked by
``data/full.dvc``, the label log ``data/labels`` by ``data/labels.dvc``, stages ``prepare@{dev,full}`` and
``train@{dev,full}`` (the latter writes ``metrics/{dataset}.json``). Ingest commits are made the way
``alops al ingest`` makes them (rows moved, round files written, ``dvc add``, trailers), by hand here.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ALOPS_YAML = """\
version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: ["prepare@{dataset}", "train@{dataset}"]
  evaluate: []
  metrics: ["metrics/{dataset}.json"]
active_learning:
  pool: data/full/unlabelled.csv
  labelled: data/full/labelled.csv
  labels: data/labels
  classes: ["a", "b"]
"""

DVC_YAML = """\
stages:
  prepare:
    foreach: [dev, full]
    do:
      cmd: python src/prepare.py ${item}
      deps:
        - src/prepare.py
        - data/${item}
      params: [prepare.seed]
      outs:
        - data/prepared/${item}
  train:
    foreach: [dev, full]
    do:
      cmd: python src/train.py ${item}
      deps:
        - src/train.py
        - data/prepared/${item}
      params: [train.lr]
      outs:
        - models/${item}
      metrics:
        - metrics/${item}.json:
            cache: false
"""

PREPARE = """\
import shutil, sys
from pathlib import Path
out = Path("data/prepared") / sys.argv[1]
out.mkdir(parents=True, exist_ok=True)
shutil.copy(Path("data") / sys.argv[1] / "labelled.csv", out / "train.csv")
"""

#: "accuracy" grows with the labelled rows, so each trained round has its own numbers.
TRAIN = """\
import json, sys
from pathlib import Path
rows = len(Path("data/prepared", sys.argv[1], "train.csv").read_text().splitlines()) - 1
Path("models", sys.argv[1]).mkdir(parents=True, exist_ok=True)
Path("models", sys.argv[1], "model.txt").write_text(str(rows))
Path("metrics").mkdir(exist_ok=True)
Path("metrics", sys.argv[1] + ".json").write_text(json.dumps({"accuracy": rows / 100, "loss": {"val": 1 - rows / 100}}))
"""

HEADER = ["id", "x", "label", "split"]
LABELLED = [[f"s{i:03d}", str(i), "ab"[i % 2], ""] for i in range(6)]
POOL = [[f"s{i:03d}", str(i), "", ""] for i in range(6, 30)]


def run(root: Path, *args: str) -> str:
    done = subprocess.run(list(args), cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{args} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def git(root: Path, *args: str) -> str:
    return run(root, "git", *args)


def dvc(root: Path, *args: str) -> str:
    return run(root, sys.executable, "-m", "dvc", *args)


def write_rows(path: Path, rows: Sequence[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def make(root: Path, remote: Path) -> Path:
    """The project on ``main``: data added, both pipelines run, everything pushed to the local DVC remote."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    point_at(root, remote)
    write_rows(root / "data/full/labelled.csv", LABELLED)
    write_rows(root / "data/full/unlabelled.csv", POOL)
    write_rows(root / "data/dev/labelled.csv", LABELLED[:4])
    (root / "src").mkdir()
    (root / "src/prepare.py").write_text(PREPARE)
    (root / "src/train.py").write_text(TRAIN)
    (root / "params.yaml").write_text("prepare:\n  seed: 1\ntrain:\n  lr: 0.1\n")
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "alops.yaml").write_text(ALOPS_YAML)
    dvc(root, "add", "-q", "data/full", "data/dev")
    dvc(root, "repro", "-q")
    dvc(root, "push", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    return root


def point_at(root: Path, remote: Path) -> None:
    (root / ".dvc/config.local").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {remote}\n"
    )


def copy(template: Path, template_remote: Path, root: Path, remote: Path) -> Path:
    shutil.copytree(template, root, symlinks=True)
    shutil.copytree(template_remote, remote)
    point_at(root, remote)
    return root


def ingest(
    root: Path,
    round_: int,
    labels: dict[str, str],
    *,
    strategy: str = "margin",
    batch_size: int | None = 10,
    rejected: int = 0,
    pseudo: int = 0,
    date: str = "2026-01-01T00:00:00Z",
) -> str:
    """One round as ``alops al ingest`` commits it: rows moved from the pool to the labelled set, the round's
    files in the label log, ``dvc add``, ``dvc push``, one commit with the trailers; its commit."""
    full = root / "data/full"
    pool, labelled = read_rows(full / "unlabelled.csv"), read_rows(full / "labelled.csv")
    moved = [[r[0], r[1], labels[r[0]], r[3]] for r in pool if r[0] in labels]
    write_rows(full / "unlabelled.csv", [r for r in pool if r[0] not in labels])
    write_rows(full / "labelled.csv", labelled + moved)
    log = root / "data/labels"
    log.mkdir(parents=True, exist_ok=True)
    name = f"round-{round_:04d}"
    with (log / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "label", "annotator", "labelled_at", "round", "source", "votes", "confidence"])
        writer.writerows([[i, lab, "oracle", date, round_, "human", 1, ""] for i, lab in labels.items()])
    record = {
        "round": round_,
        "ingested_at": date,
        "strategy": strategy,
        "batch_size": batch_size,
        "model_version": None,
        "source": "file",
        "source_file": "labels.csv",
        "accepted": len(labels),
        "rejected": rejected,
        "skipped": 0,
        "pseudo": pseudo,
        "labelled_after": len(labelled) + len(moved),
        "pool_after": len(pool) - len(moved),
        "ingest_id": f"{round_:032x}",
    }
    (log / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    dvc(root, "add", "-q", "data/full", "data/labels")
    dvc(root, "push", "-q")
    git(root, "add", "data/full.dvc", "data/labels.dvc", "data/.gitignore")
    message = f"alops al ingest: round {round_}, +{len(labels)} labels ({pseudo} pseudo)"
    trailers = f"ALOps-Round: {round_}\nALOps-Labels: {len(labels)}\nALOps-Ingest: {round_:032x}"
    git(root, "commit", "-q", "-m", message, "-m", trailers)
    return git(root, "rev-parse", "HEAD").strip()


def train(root: Path, round_: int) -> str:
    """What ``alops al record`` commits after a retrain: dvc.lock and the metrics, ``ALOps-Trained-Round``."""
    dvc(root, "repro", "-q", "train@full")
    dvc(root, "push", "-q")
    git(root, "add", "dvc.lock", "metrics/full.json")
    git(root, "commit", "-q", "-m", f"alops al record: round {round_}", "-m", f"ALOps-Trained-Round: {round_}")
    return git(root, "rev-parse", "HEAD").strip()


def al_history(root: Path) -> None:
    """``al/digits`` from main: round 1 (4 labels), trained, round 2 (6 labels), trained, round 3 (2 labels)."""
    git(root, "checkout", "-q", "-b", "al/digits")
    ingest(root, 1, {f"s{i:03d}": "ab"[i % 2] for i in range(6, 10)}, date="2026-01-01T10:00:00Z")
    train(root, 1)
    ingest(root, 2, {f"s{i:03d}": "ab"[i % 2] for i in range(10, 16)}, rejected=1, date="2026-01-02T10:00:00Z")
    train(root, 2)
    ingest(root, 3, {"s016": "a", "s017": "a"}, strategy="entropy", pseudo=3, date="2026-01-03T10:00:00Z")
    git(root, "checkout", "-q", "main")
    dvc(root, "checkout", "-q")


def experiment(root: Path) -> None:
    """``experiment/lr`` from main: its own train.py and learning rate, retrained, committed; left checked out."""
    git(root, "checkout", "-q", "-b", "experiment/lr", "main")
    (root / "src/train.py").write_text(TRAIN.replace("rows / 100", "rows / 99"))
    (root / "params.yaml").write_text("prepare:\n  seed: 1\ntrain:\n  lr: 0.5\n")
    dvc(root, "repro", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "experiment: lr 0.5")


def template(base: Path) -> tuple[Path, Path]:
    """main, al/digits (:func:`al_history`) and experiment/lr (:func:`experiment`, checked out), built once in
    ``base`` (the session's temporary folder: every test module of a session shares it) and never changed."""
    import pytest

    from helpers import isolate

    root, remote = base / "al-repo" / "repo", base / "al-repo" / "remote"
    if not (base / "al-repo" / "ready").exists():
        shutil.rmtree(base / "al-repo", ignore_errors=True)
        with pytest.MonkeyPatch.context() as mp:
            isolate(mp, base / "al-repo" / "home")
            make(root, remote)
            al_history(root)
            experiment(root)
        (base / "al-repo" / "ready").touch()
    return root, remote
