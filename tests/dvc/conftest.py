"""A tiny real DVC project for the tests of ``alops.dvc``'s modules, made once per test module.

``git init``, then DVC's own command line (in one process, so the set-up costs
one DVC start): ``dvc init``, ``dvc add`` of a file and of a directory, a
local-directory remote in ``.dvc/config.local`` and ``dvc push``. Each fixture
gives the project's root; its remote is the directory ``remote`` beside it
(``root.parent / "remote"``). A test that changes the project or its remote
takes ``tiny_copy``; one that only reads takes ``tiny``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import isolate

#: The project's data: a file output and a directory output of two files.
FILES = {
    "data/raw.csv": "id,label\n1,a\n2,b\n",
    "data/dir/a.csv": "id,label\n1,a\n",
    "data/dir/b.csv": "id,label\n2,b\n3,c\n",
}

#: DVC's own command line, every step in one interpreter.
SET_UP = """\
import sys
from dvc.cli import main
for argv in (["init", "-q"], ["add", "-q", "data/raw.csv", "data/dir"],
             ["remote", "add", "--local", "-d", "storage", sys.argv[1]], ["push", "-q"]):
    if main(argv):
        sys.exit(f"dvc {argv} failed")
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def make_tiny(base: Path) -> Path:
    root, remote = base / "repo", base / "remote"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run([sys.executable, "-c", SET_UP, str(remote)], cwd=root, check=True, capture_output=True)
    git(root, "add", "-A")
    git(root, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "tiny DVC project")
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, made once for the module: tests must not change it (take ``tiny_copy``)."""
    base = tmp_path_factory.mktemp("tiny-dvc")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "home")
        return make_tiny(base)


@pytest.fixture
def tiny_files() -> dict[str, str]:
    """The project's data files (path: text), as ``dvc add`` tracked them."""
    return dict(FILES)


@pytest.fixture
def tiny_copy(tiny: Path, tmp_path: Path) -> Path:
    """A copy of the project with a copy of its remote, the one its ``.dvc/config.local`` names."""
    root = Path(shutil.copytree(tiny, tmp_path / "repo", symlinks=True))
    remote = Path(shutil.copytree(tiny.parent / "remote", tmp_path / "remote"))
    (root / ".dvc/config.local").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {remote}\n"
    )
    return root
