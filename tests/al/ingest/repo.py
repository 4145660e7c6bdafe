"""A small active-learning project for the ingest tests: git, DVC with a local remote, a bare git remote.

``data/full`` (one DVC output) holds the pool ``unlabelled.csv`` (40 rows) and
the labelled set ``labelled.csv`` (10 rows); the label log ``data/labels`` does
not exist yet. The template is made once per session (DVC starts are slow) and
copied for each test in milliseconds.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

CONFIG = """\
version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: ["train@{dataset}"]
active_learning:
  pool: data/full/unlabelled.csv
  labelled: data/full/labelled.csv
  labels: data/labels
  classes: ["a", "b", "=c"]
  batch_dir: .alops/al/batch
"""
HEADER = "id,label,split,x0,note\n"
#: Rows in the shapes a CSV writer may leave: quoted fields, a comma and a line break inside one.
POOL = "".join(
    f'p{i:03d},,,{i * 0.5},"note {i}, with a comma"\n' if i % 3 else f'p{i:03d},,,{i * 0.5},"two\nlines"\n'
    for i in range(40)
)
LABELLED = "".join(f"s{i:03d},{'ab'[i % 2]},train,{i},seed\n" for i in range(10))
BRANCH = "al/test"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def make_template(base: Path) -> Path:
    """``base/repo`` (branch al/test, pushed to ``base/origin.git``) and its DVC remote ``base/dvc-remote``."""
    from alops import dvc

    root, env = base / "repo", dict(os.environ)
    root.mkdir(parents=True)
    git(root, "init", "--quiet", f"--initial-branch={BRANCH}")
    dvc.init(cwd=root, env=env)
    point_at(root, base / "dvc-remote")
    (root / "data/full").mkdir(parents=True)
    (root / "data/full/unlabelled.csv").write_text(HEADER + POOL, newline="")
    (root / "data/full/labelled.csv").write_text(HEADER + LABELLED, newline="")
    (root / "alops.yaml").write_text(CONFIG)
    dvc.add(["data/full"], cwd=root, env=env)
    dvc.push(cwd=root, run_cache=False, env=env)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "an active-learning project")
    git(base, "clone", "--quiet", "--bare", str(root), str(base / "origin.git"))
    git(root, "remote", "add", "origin", str(base / "origin.git"))
    git(root, "fetch", "--quiet", "origin")
    git(root, "branch", "--quiet", f"--set-upstream-to=origin/{BRANCH}")
    return base


def copy(template: Path, dest: Path) -> Path:
    """A copy of the template's repository, bare remote and DVC remote under ``dest``: ``dest/repo``."""
    shutil.copytree(template / "repo", dest / "repo", symlinks=True)
    shutil.copytree(template / "dvc-remote", dest / "dvc-remote")
    shutil.copytree(template / "origin.git", dest / "origin.git")
    point_at(dest / "repo", dest / "dvc-remote")
    git(dest / "repo", "remote", "set-url", "origin", str(dest / "origin.git"))
    return dest / "repo"


def clone(base: Path, name: str) -> Path:
    """Another working tree of the copy at ``base`` (a clone of its bare remote), its data pulled."""
    from alops import dvc

    root = base / name
    git(base, "clone", "--quiet", "--branch", BRANCH, str(base / "origin.git"), str(root))
    point_at(root, base / "dvc-remote")
    dvc.pull([str(p.relative_to(root)) for p in sorted((root / "data").glob("*.dvc"))], cwd=root, env=dict(os.environ))
    return root


def point_at(root: Path, remote: Path) -> None:
    # What `dvc remote add --local -d storage REMOTE` writes, without a DVC start.
    (root / ".dvc/config.local").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {remote}\n"
    )


def label_file(path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = ("id", "label", "annotator")) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), newline="")
    return path


def ids(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
