"""The example project on a release branch, trained on its full data: what `alops release` ships in tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def train(repo: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("alops")), "-c", str(repo / "alops.yaml"), "run"],
        cwd=repo,
        check=True,
        capture_output=True,
        env=dict(os.environ),
    )


@pytest.fixture
def trained(template: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """The example project on release/1.0, trained by `alops run` on the full data (once per session, then copied)."""
    base = tmp_path_factory.getbasetemp() / "release-trained"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        repo = base / "repo"
        subprocess.run(["git", "clone", "--quiet", str(template / "repo"), str(repo)], check=True)
        shutil.copytree(template / "remote", base / "remote")
        (repo / ".dvc" / "config.local").write_text(f"['remote \"storage\"']\n    url = {base / 'remote'}\n")
        git(repo, "checkout", "--quiet", "-b", "release/1.0")
        train(repo)
        (base / "ready").touch()
    dest = tmp_path / "base"
    shutil.copytree(base, dest, symlinks=True)
    (dest / "repo" / ".dvc" / "config.local").write_text(f"['remote \"storage\"']\n    url = {dest / 'remote'}\n")
    return dest / "repo"
