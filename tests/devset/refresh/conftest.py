"""Fixtures of the refresh tests: a bare repository to push to, an HTTP git server that refuses, a spy on argv."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alops import proc

from devset_data import Refusing, refusing_server


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """The "GitLab" repository: a bare repository the refresh pushes its branch to."""
    path = tmp_path / "gitlab.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
    return path


@pytest.fixture
def argv(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command alops runs, as its argument list (to show the token is never one)."""
    seen: list[list[str]] = []
    real = proc.run

    def spy(args: Any, **kwargs: Any) -> Any:
        seen.append([str(a) for a in args])
        return real(args, **kwargs)

    monkeypatch.setattr(proc, "run", spy)
    return seen


@pytest.fixture
def refusing() -> Iterator[Refusing]:
    """A git HTTP server on loopback that answers 403 to everything (as GitLab does to a token it refuses)."""
    with refusing_server() as server:
        yield server
