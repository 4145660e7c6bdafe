"""The session's template project for the ingest tests (tests/al/ingest/repo.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from al.ingest import repo


@pytest.fixture
def ingest_template(clean_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made once per session in the session's base temp directory; tests copy it (``project``)."""
    base = tmp_path_factory.getbasetemp() / "ingest-template"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        repo.make_template(base)
        (base / "ready").touch()
    return base


@pytest.fixture
def project(ingest_template: Path, tmp_path: Path) -> Path:
    """A copy of the template: its repository (returned), bare git remote and DVC remote."""
    return repo.copy(ingest_template, tmp_path)
