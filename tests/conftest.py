"""Shared fixtures: a clean environment for every test, the example project, a real S3 endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from alops.demo import prepare_project

from helpers import isolate
from mlflow_server import mlflow_server  # noqa: F401 - a session fixture: one real MLflow server
from release_project import trained  # noqa: F401 - a fixture: the example project trained on release/1.0
from s3 import BUCKET, S3, CountingProxy, MotoServer, s3_env


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the real CI context, the user's git config or DVC's global config."""
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))
    yield


@pytest.fixture
def template(clean_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project as a git repo (``repo/``) with its data on a local DVC remote (``remote/``).

    Prepared once per session (about 5 s) in the session's base temp directory;
    tests must not change it: use ``project`` for a copy of their own.
    """
    base = tmp_path_factory.getbasetemp() / "example-project"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        prepare_project(base / "repo", base / "remote", env=dict(os.environ))
        (base / "ready").touch()
    return base


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    """A fresh clone of the example project with its own copy of the DVC remote."""
    dest, remote = tmp_path / "project", tmp_path / "remote"
    subprocess.run(["git", "clone", "--quiet", str(template / "repo"), str(dest)], check=True)
    shutil.copytree(template / "remote", remote)
    (dest / ".dvc" / "config.local").write_text(f"['remote \"storage\"']\n    url = {remote}\n")
    return dest


# --- a real S3 endpoint: moto's server behind a byte-counting proxy (tests/s3.py) -------------


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server for the session, stopped by its PID at the end; tests reset it, never restart it."""
    server = MotoServer(tmp_path_factory.getbasetemp() / "moto_server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_proxy(moto_server: MotoServer) -> Iterator[CountingProxy]:
    proxy = CountingProxy(moto_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def s3(moto_server: MotoServer, s3_proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch) -> S3:
    """An empty bucket (moto reset), a healthy proxy with its counters at 0, fake credentials in the environment."""
    moto_server.reset()
    moto_server.client().create_bucket(Bucket=BUCKET)
    s3_proxy.heal()
    s3_proxy.reset_counts()
    for key, value in s3_env().items():
        monkeypatch.setenv(key, value)
    return S3(moto_server, s3_proxy)
