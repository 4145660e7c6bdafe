"""A real MLflow tracking server on 127.0.0.1 for the tests, one per session (tests/release/test_mlflow.py uses it).

scripts/ensure-mlflow installs PyPI ``mlflow`` (pinned in tests/mlflow-requirements.txt)
into .cache/mlflow/venv, apart from the project venv (which has only the client,
mlflow-skinny). The server keeps its runs in a fresh SQLite file and its artifacts
in a temporary folder (proxied: clients upload through the server, as to GitLab),
serves on a free port with one worker, and is stopped by its process group at the end.
When it cannot be installed the tests fail in CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENSURE = ROOT / "scripts" / "ensure-mlflow"
#: One worker starts in 5–20 s here (four took a minute on a busy machine); leave room.
START_TIMEOUT_S = 180


@dataclass(frozen=True)
class MlflowServer:
    """A running server: its URL (what MLFLOW_TRACKING_URI holds), where it keeps artifacts, its log."""

    url: str
    artifacts: Path
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens: connection refused."""
    return f"http://127.0.0.1:{free_port()}"


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - our loopback server
            return bool(response.status == 200)
    except OSError:
        return False


def _executable() -> str:
    try:
        installed = subprocess.run([str(ENSURE)], check=True, capture_output=True, text=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        why = f"{ENSURE} failed: {exc}\n{getattr(exc, 'stderr', '') or ''}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(why)
        pytest.skip(why)
    return installed.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One real ``mlflow server`` for the session (or the one MLFLOW_TEST_URL names: quicker while writing tests)."""
    if os.environ.get("MLFLOW_TEST_URL"):
        yield MlflowServer(os.environ["MLFLOW_TEST_URL"], Path(), Path())
        return
    executable = _executable()
    base = tmp_path_factory.mktemp("mlflow")
    with _running(executable, base) as server:
        yield server


@contextmanager
def _running(executable: str, base: Path) -> Iterator[MlflowServer]:
    """``mlflow server`` on a free port of 127.0.0.1 until the block ends."""
    port = free_port()
    artifacts, log = base / "artifacts", base / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ALOPS_", "CI_", "GITLAB_"))}
    env["HOME"] = str(base)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"  # the server would fetch a telemetry config from the internet
    url = f"http://127.0.0.1:{port}"
    command = [
        executable,
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{base / 'mlflow.db'}",
        "--artifacts-destination",
        str(artifacts),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=base, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )  # its own process group: stopped whole (uvicorn's worker too), by its id
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"mlflow server did not start on {url} (exit {process.poll()}):\n{tail}")
            time.sleep(0.5)
        yield MlflowServer(url, artifacts, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
