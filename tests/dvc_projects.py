"""Small real git + DVC projects for the tests of `alops init` and the project checks.

Each is made once per session (``dvc init`` and ``dvc add`` take a few
seconds) and copied for every test, so a test may change its copy freely.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import isolate

#: Like the example project: each stage once per dataset, data/full and data/dev tracked.
SPLIT_DVC_YAML = """\
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
      params: [train.model, train.lr]
      outs:
        - models/${item}
  evaluate:
    foreach: [dev, full]
    do:
      cmd: python src/evaluate.py ${item}
      deps:
        - src/evaluate.py
        - models/${item}
      metrics:
        - metrics/${item}.json:
            cache: false
"""

#: A project as most start: one data file, stages not split by dataset.
PLAIN_DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py data/raw.csv
    deps: [prepare.py, data/raw.csv]
    params: [prepare.seed]
    outs: [data/prepared]
  train:
    cmd: python train.py
    deps: [train.py, data/prepared]
    outs: [models/model.pkl]
  evaluate:
    cmd: python evaluate.py
    deps: [evaluate.py, models/model.pkl]
    metrics:
      - metrics.json:
          cache: false
"""

PARAMS = "prepare:\n  seed: 42\ntrain:\n  model: logreg\n  lr: 0.001\n"


def dvc(root: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def cached_objects(root: Path, targets: list[str]) -> list[Path]:
    """The cache files of ``targets``' objects that the project's DVC cache holds, as DVC's API finds them."""
    import os

    from alops import dvc as alops_dvc

    found = alops_dvc.run([{"op": "objects", "targets": targets}], cwd=root, env=os.environ)[0]["present"]
    return [Path(p) for p in found.values()]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def make(root: Path, kind: str) -> Path:
    """A git repository with DVC: ``split`` (data/full, data/dev) or ``plain`` (data/raw.csv)."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    dvc(root, "init", "-q")
    data = root / "data"
    data.mkdir()
    if kind == "split":
        for name in ("full", "dev"):
            (data / name).mkdir()
            (data / name / "labelled.csv").write_text("id,label\n1,a\n2,b\n")
        dvc(root, "add", "-q", "data/full", "data/dev")
        (root / "dvc.yaml").write_text(SPLIT_DVC_YAML)
    else:
        (data / "raw.csv").write_text("id,label\n1,a\n2,b\n")
        dvc(root, "add", "-q", "data/raw.csv")
        (root / "dvc.yaml").write_text(PLAIN_DVC_YAML)
    (root / "params.yaml").write_text(PARAMS)
    git(root, "add", "-A")
    git(root, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "DVC project")
    return root


@pytest.fixture(scope="session")
def _bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("dvc-projects")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "home")
        return {kind: make(base / kind, kind) for kind in ("split", "plain")}


@pytest.fixture
def split_project(_bases: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the project whose stages have a dev and a full copy (foreach: [dev, full])."""
    return Path(shutil.copytree(_bases["split"], tmp_path / "split", symlinks=True))


@pytest.fixture
def plain_project(_bases: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the project with one data file and plain stages."""
    return Path(shutil.copytree(_bases["plain"], tmp_path / "plain", symlinks=True))
