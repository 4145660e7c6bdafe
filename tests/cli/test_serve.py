"""``alops serve``: a broken package refused before the port opens (CliRunner), and a real uvicorn on 127.0.0.1
answering real HTTP requests (urllib, http.client): predictions, errors, a 20 MB body, SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_TOOL

import serve_packages

ALOPS = str(Path(sys.executable).parent / "alops")
PREDICT = "/v1/models/digits:predict"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_kib(self) -> int:
        """The most resident memory the server process (not its workers) has had: VmHWM, its high-water mark."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)


def start(package: Path, *args: str) -> Server:
    port = free_port()
    log = package.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [ALOPS, "serve", "--package", str(package), "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"alops serve exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"alops serve did not answer /healthz in 30 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return serve_packages.write_digits_package(tmp_path_factory.mktemp("serve") / "digits")


@pytest.fixture
def server(digits: Path) -> Iterator[Server]:
    running = start(digits)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


# --- CliRunner: what happens before a port is opened -------------------------------------------


def test_a_missing_package_is_refused_before_serving(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--package", str(tmp_path / "none")], catch_exceptions=False)
    assert result.exit_code == EXIT_DATA
    assert result.output == (
        f"Error: {tmp_path / 'none'}: no such folder: give the folder `alops package` extracted a release into\n"
    )


def test_a_broken_package_is_refused_before_serving(tmp_path: Path) -> None:
    package = serve_packages.write_package(tmp_path / "p", source="def load(model_dir):\n    return None\n")
    result = CliRunner().invoke(cli, ["serve", "--package", str(package)], catch_exceptions=False)
    assert result.exit_code == EXIT_CONFIG
    assert (
        result.output
        == f"Error: {package / 'predictor.py'}: load() returned NoneType, which has no predict(instances) method\n"
    )


def test_help_names_the_protocol() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"], catch_exceptions=False)
    assert "POST /v1/models/NAME:predict, GET /v1/models/NAME, GET /healthz" in " ".join(result.output.split())
    assert "--max-body-bytes" in result.output


# --- a real server ------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_requests_then_sigterm(server: Server) -> None:
    rows, labels = serve_packages.digit_rows(20)
    assert post(server.url + PREDICT, json.dumps({"instances": rows}).encode()) == (
        200,
        {"predictions": labels, "model": "digits", "version": "1.2.0"},
    )
    with urllib.request.urlopen(f"{server.url}/v1/models/digits", timeout=5) as answer:
        assert json.load(answer) == {"name": "digits", "version": "1.2.0", "ready": True, "commit": "c" * 40}
    assert post(server.url + PREDICT, b'{"instances": [[NaN]]}') == (
        400,
        {"error": "NaN is not a JSON number: send finite numbers"},
    )
    secret_row = [0] * 63 + [16.5]
    assert post(server.url + PREDICT, json.dumps({"instances": [secret_row]}).encode()) == (
        400,
        {"error": "instance 0: pixel values are numbers from 0 to 16, got 16.5"},
    )
    assert post(server.url + "/v1/models/iris:predict", b"{}")[0] == 404
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 10
    log = server.log.read_text()
    assert f"serving digits 1.2.0 from {server.log.parent / 'digits'} on http://127.0.0.1:{server.port}" in log
    assert '"POST /v1/models/digits%3Apredict HTTP/1.1" 200 OK' in log  # the access log (uvicorn quotes the path)
    assert '"POST /v1/models/digits%3Apredict HTTP/1.1" 400 Bad Request' in log
    assert "16.5" not in log and "NaN" not in log  # bodies are never logged
    assert "Shutting down" in log and "Traceback" not in log


@pytest.mark.slow
def test_a_20_mb_body_gets_413_and_the_server_does_not_keep_it(server: Server) -> None:
    before = server.peak_rss_kib()
    body = b'{"instances": [' + b"[0]," * (5 * 1024 * 1024) + b"[0]]}"  # 20 MiB
    assert len(body) > 20 * 1024 * 1024
    # urllib sends the whole body before it reads the answer: the server reads and drops it
    assert post(server.url + PREDICT, body) == (
        413,
        {"error": "the body is over 10485760 bytes: send fewer instances per request"},
    )
    # a client that asks first (Expect: 100-continue, as curl does) gets the 413 before it sends a byte
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("POST", PREDICT)
    connection.putheader("Content-Length", str(1024**3))
    connection.putheader("Expect", "100-continue")
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 413
    assert json.load(answer)["error"].startswith("the body is over 10485760 bytes")
    connection.close()
    # a chunked body (no Content-Length) is stopped once it is over the limit
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    connection.request("POST", PREDICT, body=chunks, encode_chunked=True)
    assert connection.getresponse().status == 413
    connection.close()
    grown_mib = (server.peak_rss_kib() - before) / 1024
    # up to the 10 MiB limit is held (the chunked body, until it is over it: 12 MiB measured);
    # a server that read a 20 MiB body whole would hold 40 MiB (the chunks and their join)
    assert grown_mib < 30, f"the server's peak memory grew by {grown_mib:.0f} MiB"
    # and it still answers
    assert post(server.url + PREDICT, json.dumps({"instances": [[0] * 64]}).encode())[0] == 200
    assert server.stop() == 0


@pytest.mark.slow
def test_a_predictor_crash_is_logged_on_the_server_and_hidden_from_the_client(tmp_path: Path) -> None:
    running = start(serve_packages.write_package(tmp_path / "toy"))
    try:
        assert post(running.url + PREDICT, b'{"instances": ["crash"]}') == (500, {"error": "internal error"})
        assert running.stop() == 0
        log = running.log.read_text()
        assert "ERROR:    predict of digits 1.2.0 failed on 1 instances\nTraceback (most recent call last):" in log
        assert "KeyError: 'secret internals'" in log
    finally:
        running.process.kill()


@pytest.mark.slow
def test_health_answers_while_a_prediction_runs(tmp_path: Path) -> None:
    slow = (
        "import time\n"
        "class Slow:\n"
        "    def predict(self, instances):\n"
        "        time.sleep(3)\n"
        "        return instances\n"
        "def load(model_dir):\n"
        "    return Slow()\n"
    )
    running = start(serve_packages.write_package(tmp_path / "slow", source=slow))
    try:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        connection.request("POST", PREDICT, body=b'{"instances": [1]}')
        time.sleep(0.3)
        started = time.monotonic()
        with urllib.request.urlopen(f"{running.url}/healthz", timeout=5) as answer:
            assert answer.status == 200
        assert time.monotonic() - started < 1  # the event loop was free: predict runs in a thread
        assert json.load(connection.getresponse())["predictions"] == [1]
        connection.close()
        assert running.stop() == 0
    finally:
        running.process.kill()


@pytest.mark.slow
def test_two_workers_answer_without_nagles_delay(digits: Path) -> None:
    running = start(digits, "--workers", "2")
    try:
        rows, labels = serve_packages.digit_rows(5)
        body = json.dumps({"instances": rows}).encode()
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
        took = []
        for _ in range(30):  # one keep-alive connection: uvicorn #3149's 40 ms delayed ACK shows on it
            started = time.perf_counter()
            connection.request("POST", PREDICT, body=body)
            assert json.load(connection.getresponse())["predictions"] == labels
            took.append(time.perf_counter() - started)
        connection.close()
        assert sorted(took)[15] < 0.02, f"median {sorted(took)[15] * 1000:.0f} ms a request"
        assert running.stop() == 0
        assert "Started parent process" in running.log.read_text()
    finally:
        running.process.kill()


@pytest.mark.slow
def test_a_port_in_use_is_a_tool_error(digits: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [ALOPS, "serve", "--package", str(digits), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ},
        )
    assert result.returncode == EXIT_TOOL
    assert result.stderr.endswith(
        f"Error: uvicorn could not serve on 127.0.0.1:{port} (its log above says why): free the port or pick another\n"
    )
    assert "address already in use" in result.stderr
