"""A real Label Studio on 127.0.0.1 for the tests, one per session (tests/al/labelstudio/conftest.py uses it).

scripts/ensure-label-studio installs it into .cache/label-studio/venv (its own
virtualenv); it starts headless from environment variables (an admin user whose
legacy API token we choose) on a free port, in a fresh data directory, and is
stopped by its process group at the end. A fresh database takes one to three
minutes to migrate here, so the first session keeps a migrated data directory in
.cache/label-studio (per pinned version) and every session starts from a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
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
ENSURE = ROOT / "scripts" / "ensure-label-studio"
#: A fresh data directory migrates in 55–75 s here; leave room for a busy machine.
START_TIMEOUT_S = 300
ADMIN = "admin@alops.invalid"
TOKEN_FILE = "alops-token"


@dataclass(frozen=True)
class LabelStudioServer:
    """A running server: where it is and the admin's token (what ALOPS_LABEL_STUDIO_URL/TOKEN hold)."""

    url: str
    token: str
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment alops reads, pointing at this server."""
        return {"ALOPS_LABEL_STUDIO_URL": self.url, "ALOPS_LABEL_STUDIO_TOKEN": self.token, **extra}

    @contextmanager
    def client(self):  # type: ignore[no-untyped-def]
        """An SDK client (the tests' hands: creating users, annotating), closed at the end of the block."""
        import httpx
        from label_studio_sdk import LabelStudio

        with httpx.Client(timeout=60) as http:
            yield LabelStudio(base_url=self.url, api_key=self.token, httpx_client=http)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - our loopback server
            return bool(json.load(response).get("status") == "UP")
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """One real Label Studio for the session (or the one LABEL_STUDIO_TEST_URL/_TOKEN name: quicker while writing tests)."""
    if os.environ.get("LABEL_STUDIO_TEST_URL"):
        yield LabelStudioServer(os.environ["LABEL_STUDIO_TEST_URL"], os.environ["LABEL_STUDIO_TEST_TOKEN"], Path())
        return
    installed = subprocess.run([str(ENSURE)], check=True, capture_output=True, text=True)
    executable = installed.stdout.strip().splitlines()[-1]
    base = tmp_path_factory.mktemp("label-studio")
    template, token = _template(executable, base)
    shutil.copytree(template, base / "data")
    with _running(executable, base / "data", token, base / "server.log") as url:
        yield LabelStudioServer(url, token, base / "server.log")


def _template(executable: str, scratch: Path) -> tuple[Path, str]:
    """A migrated data directory with the admin and its token, made once per Label Studio version.

    A fresh database migrates for one to three minutes on these machines; a copy of a
    migrated one starts in about 15 s. It lives in .cache/label-studio beside the venv.
    """
    pins = hashlib.sha256((ROOT / "tests" / "labelstudio-requirements.txt").read_bytes()).hexdigest()[:12]
    template = ROOT / ".cache" / "label-studio" / f"data-{pins}"
    if (template / TOKEN_FILE).is_file():
        return template, (template / TOKEN_FILE).read_text().strip()
    token, building = secrets.token_hex(20), scratch / "template"
    with _running(executable, building, token, scratch / "template.log"):
        pass
    (building / TOKEN_FILE).write_text(token + "\n")
    # Renamed into place whole: a session running beside this one sees no template or a complete one.
    shutil.rmtree(template, ignore_errors=True)  # an unfinished one (no token file)
    staged = template.with_name(f"{template.name}.{os.getpid()}")
    shutil.copytree(building, staged)
    try:
        staged.rename(template)
    except OSError:  # another session put its own there first: use that one
        shutil.rmtree(staged)
        return template, (template / TOKEN_FILE).read_text().strip()
    return template, token


@contextmanager
def _running(executable: str, data: Path, token: str, log: Path) -> Iterator[str]:
    """Label Studio serving ``data`` on a free port of 127.0.0.1 until the block ends; its URL."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LABEL_STUDIO_", "DJANGO_", "ALOPS_", "CI_", "GITLAB_"))
    }
    env.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(data),
        LABEL_STUDIO_USERNAME=ADMIN,
        LABEL_STUDIO_PASSWORD=secrets.token_hex(8),
        LABEL_STUDIO_USER_TOKEN=token,
        # Without it a fresh organization refuses that token: 401 "legacy token authentication has been disabled".
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        HOME=str(log.parent),
    )
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, by its id
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Label Studio did not start on {url} (exit {process.poll()}):\n{tail}")
            time.sleep(1)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# --- annotating through the SDK, as annotators would in the browser ------------------------------


def choice(label: str) -> list[dict[str, object]]:
    """An annotation's result: ``label`` chosen in the interface alops generates."""
    return [{"from_name": "label", "to_name": "sample", "type": "choices", "value": {"choices": [label]}}]


def task_ids(client, project_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """sample_id -> the server's task id, for every task of the project."""
    return {str(t.data["sample_id"]): int(t.id) for t in client.tasks.list(project=project_id, fields="task_only")}


def user(client, email: str) -> int:  # type: ignore[no-untyped-def]
    """The id of the user ``email``, created (in the admin's organization) when missing."""
    for found in client.users.list():
        if found.email == email:
            return int(found.id)
    organization = client.users.whoami().active_organization
    created = client.users.create(
        username=email.split("@")[0], email=email, password=secrets.token_hex(8), active_organization=organization
    )
    return int(created.id)


#: What the example exports hold, per sample: (annotator, label or None for a skip, ground truth).
#: s5 has no annotation: an unlabelled task.
SCENARIO: dict[str, list[tuple[str, str | None, bool]]] = {
    "s1": [("alice@example.com", "cat", False), ("bob@example.com", "cat", False)],  # agree
    "s2": [("alice@example.com", "cat", False), ("bob@example.com", "dog", False)],  # disagree
    "s3": [("alice@example.com", "dog", True), ("bob@example.com", "cat", False)],  # a ground truth
    "s4": [("alice@example.com", None, False)],  # skipped: one cancelled annotation
    "s5": [],
    "s6": [(ADMIN, "=bird", False), ("bob@example.com", None, False)],  # a formula-like class, one skip
}
SCENARIO_CLASSES = ("cat", "dog", "=bird")


def annotate(client, project_id: int, plan: dict[str, list[tuple[str, str | None, bool]]]) -> None:  # type: ignore[no-untyped-def]
    """Create the annotations of ``plan`` (sample id -> annotations), each by its annotator."""
    ids = task_ids(client, project_id)
    for sample, planned in plan.items():
        for email, label, truth in planned:
            client.annotations.create(
                id=ids[sample],
                result=choice(label) if label is not None else [],
                was_cancelled=label is None,
                ground_truth=truth,
                completed_by=user(client, email),
            )


# --- broken servers: down, slow, failing (not a fake of Label Studio: a server that misbehaves) ---


class Misbehaving:
    """An HTTP server on 127.0.0.1 in a thread, in front of ``upstream`` (a real Label Studio) or of nothing.

    ``fail(status, times, match, forward)``: the next ``times`` requests whose path holds
    ``match`` get ``status``; with ``forward`` they reach the upstream first (the server did
    the work, its answer was lost). ``delay``: seconds to wait before answering anything.
    Without an upstream every other request gets 503. ``requests`` counts what arrived.
    """

    def __init__(self, upstream: str | None = None) -> None:
        import http.server
        import threading

        self.upstream = upstream
        self.delay = 0.0
        self.requests: list[str] = []
        self._failures: list[tuple[int, str, bool, str]] = []
        self._passes: dict[str, int] = {}
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                outer._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any  # noqa: N815 - http.server's names

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def fail(
        self, status: int, times: int = 1, *, match: str = "", forward: bool = False, detail: str = "", after: int = 0
    ) -> None:
        """Fail ``times`` requests whose path holds ``match``, once ``after`` of them went through."""
        with self._lock:
            self._passes[match] = after
            self._failures.extend([(status, match, forward, detail)] * times)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _failure(self, path: str) -> tuple[int, bool, str] | None:
        with self._lock:
            for i, (status, match, forward, detail) in enumerate(self._failures):
                if match in path and self._passes.get(match):
                    self._passes[match] -= 1
                    return None
                if match in path:
                    del self._failures[i]
                    return status, forward, detail
        return None

    def _serve(self, handler) -> None:  # type: ignore[no-untyped-def]
        self.requests.append(f"{handler.command} {handler.path}")
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        time.sleep(self.delay)
        failure = self._failure(handler.path)
        if failure and failure[1] or not failure and self.upstream:
            answer = self._forward(handler, body)
        if failure or not self.upstream:
            status, detail = (failure[0], failure[2]) if failure else (503, "")
            content = json.dumps({"detail": detail or f"broken {status}"}).encode()
            answer = (status, {"Content-Type": "application/json"}, content)
        status, headers, content = answer
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            handler.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout): nothing to answer
            pass

    def _forward(self, handler, body: bytes) -> tuple[int, dict[str, str], bytes]:  # type: ignore[no-untyped-def]
        import http.client
        from urllib.parse import urlsplit

        assert self.upstream is not None
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        try:
            skip = {"host", "content-length", "connection", "accept-encoding"}
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
            connection.request(handler.command, handler.path, body=body or None, headers=headers)
            response = connection.getresponse()
            content = response.read()
            keep = {"content-type", "content-disposition"}
            return response.status, {k: v for k, v in response.getheaders() if k.lower() in keep}, content
        finally:
            connection.close()


def closed_port() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens: connection refused."""
    return f"http://127.0.0.1:{free_port()}"
