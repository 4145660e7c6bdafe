"""`alops serve` over real HTTP against the same predictor called in process: requests/s, p50 and p99.

The skeleton's model (params.yaml's logreg, fitted on scikit-learn's digits) in a
package folder made here, served by `alops serve` on 127.0.0.1 (one worker unless
--workers, a free port). Clients are threads with one keep-alive http.client connection each; rows
are load_digits images. Baseline, measured in the same run: the predictor's
predict() called in this process on the same rows (what serving adds is the
difference). Bounded: each case stops after its requests or 10 s, whichever is
first, so the whole run takes under a minute.

    .venv/bin/python benchmarks/serve_speed.py [--requests 2000] [--clients 8] [--batch 100] [--workers 1]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import pickle
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SKELETON = ROOT / "examples" / "project-skeleton"
ALOPS = str(Path(sys.executable).parent / "alops")
CASE_S = 10.0
PATH = "/v1/models/digits:predict"


def package(dest: Path) -> Path:
    """The skeleton's model and predictor as `alops package` extracts a release (alops-package.json format 1)."""
    import yaml
    from sklearn.datasets import load_digits

    spec = importlib.util.spec_from_file_location("skeleton_train", SKELETON / "src" / "train.py")
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    model = train.build(yaml.safe_load((SKELETON / "params.yaml").read_text())["train"])
    digits = load_digits()
    model.fit(digits.data, digits.target)
    (dest / "model").mkdir(parents=True)
    (dest / "model" / "model.pkl").write_bytes(pickle.dumps(model))
    (dest / "predictor.py").write_text((SKELETON / "src" / "predict.py").read_text())
    meta = {"format": 1, "model": "digits", "version": "0.1.0", "commit": None, "model_dir": "model"}
    (dest / "alops-package.json").write_text(json.dumps({**meta, "predictor": "predictor.py", "requirements": []}))
    return dest


def serve(package_dir: Path, log: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with log.open("wb") as out:
        cmd = [ALOPS, "serve", "--package", str(package_dir), "--port", str(port), "--log-level", "warning"]
        cmd += ["--workers", str(workers)]
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"alops serve did not start:\n{log.read_text()}")


def run_case(call: Callable[[], None], total: int, clients: int) -> tuple[list[float], float]:
    """Latencies (s) of up to ``total`` calls spread over ``clients`` threads, and the wall time."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = [total]
    stop_at = time.monotonic() + CASE_S

    def client() -> None:
        while time.monotonic() < stop_at:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            start = time.perf_counter()
            call()
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def http_call(port: int, body: bytes, rows: int) -> Callable[[], None]:
    local = threading.local()

    def call() -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local.connection.request("POST", PATH, body=body, headers={"content-type": "application/json"})
        answer = local.connection.getresponse()
        predictions = json.loads(answer.read())["predictions"]
        assert answer.status == 200 and len(predictions) == rows

    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests of each single-row case")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the concurrent case")
    parser.add_argument("--batch", type=int, default=100, help="rows of the batch case")
    parser.add_argument("--workers", type=int, default=1, help="alops serve --workers")
    args = parser.parse_args()
    from sklearn.datasets import load_digits

    from alops.serve.predictor import load

    data: list[list[float]] = load_digits().data.tolist()
    one, batch = [data[7]], data[: args.batch]
    batches = max(args.requests // 10, 1)
    with tempfile.TemporaryDirectory(prefix="alops-bench-serve-") as tmp:
        package_dir = package(Path(tmp) / "package")
        predictor = load(package_dir).predictor
        server, port = serve(package_dir, Path(tmp) / "serve.log", args.workers)
        try:
            cases: list[tuple[str, Callable[[], Any], int, int, int]] = [
                ("in process, 1 row", lambda: predictor.predict(one), args.requests, 1, 1),
                (f"in process, {args.batch} rows", lambda: predictor.predict(batch), batches, 1, args.batch),
                (
                    "HTTP, 1 row, 1 client",
                    http_call(port, json.dumps({"instances": one}).encode(), 1),
                    args.requests,
                    1,
                    1,
                ),
                (
                    f"HTTP, 1 row, {args.clients} clients",
                    http_call(port, json.dumps({"instances": one}).encode(), 1),
                    args.requests,
                    args.clients,
                    1,
                ),
                (
                    f"HTTP, {args.batch} rows, 1 client",
                    http_call(port, json.dumps({"instances": batch}).encode(), args.batch),
                    batches,
                    1,
                    args.batch,
                ),
            ]
            print(f"{'case':<28} {'calls':>6} {'calls/s':>8} {'rows/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
            p50 = {}
            for name, call, total, clients, rows in cases:
                for _ in range(20):  # warm-up: connections, caches
                    call()
                latencies, wall = run_case(call, total, clients)
                latencies.sort()
                p50[name] = statistics.median(latencies) * 1000
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
                rate = len(latencies) / wall
                print(f"{name:<28} {len(latencies):>6} {rate:>8.0f} {rate * rows:>8.0f} {p50[name]:>7.2f} {p99:>7.2f}")
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=15)
    overhead = p50["HTTP, 1 row, 1 client"] - p50["in process, 1 row"]
    print(f"HTTP adds {overhead:.2f} ms per single-row request at p50 (JSON, uvicorn, Starlette, a thread hop)")
    print(f"alops serve stopped on SIGTERM with exit code {code}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
