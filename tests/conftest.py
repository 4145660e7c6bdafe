"""Shared fixtures: a clean environment for every test, git identity for real repos."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SKELETON = REPO / "examples" / "project-skeleton"

_STRIPPED = ("CI", "CI_", "GITLAB_", "ALOPS_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the real CI context, the user's git config or DVC's global config."""
    for key in list(os.environ):
        if key == "CI" or key.startswith(_STRIPPED[1:]):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "alops tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@alops.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "alops tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@alops.invalid")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(home / ".dvc-site"))
    yield


@pytest.fixture
def skeleton_copy(tmp_path: Path) -> Path:
    """A plain copy of examples/project-skeleton (no git, no data)."""
    dest = tmp_path / "project"
    shutil.copytree(SKELETON, dest)
    return dest
