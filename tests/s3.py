"""A real S3 endpoint for tests: moto's server, and a byte-counting TCP proxy in front of it.

DVC talks to the proxy (the remote's ``endpointurl``); the proxy counts what
each side sends, so a test can assert how many bytes a pull really fetched,
and it can cut the network in the middle of a transfer: after a given number
of bytes it drops every connection and refuses new ones until healed
(:meth:`CountingProxy.cut_after`), or it stalls: keeps every connection open
and swallows what is sent, answering nothing, as a link that silently drops
packets does (:meth:`CountingProxy.stall_after`). moto
keeps its buckets in memory, so the server itself is never restarted; tests
reset it through its API instead (``POST /moto-api/reset``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any

BUCKET = "alops-data"
PREFIX = "store"
REGION = "us-east-1"
#: Fake credentials: moto accepts any; they are set only for the test's environment.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAALOPSTESTKEY0000", "AWS_SECRET_ACCESS_KEY": "alops-test-secret-not-real"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    """``moto_server`` on 127.0.0.1, started and stopped by its PID."""

    def __init__(self, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = Path(sys.executable).parent / "moto_server"
        self._log = log.open("wb")
        self._proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
                return
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start: see {log}") from None
                time.sleep(0.05)

    def reset(self) -> None:
        """Forget every bucket and object."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=10).close()

    def client(self) -> Any:
        """A boto3 S3 client talking to the server directly (not through the proxy: it counts DVC only)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def objects(self, bucket: str = BUCKET) -> dict[str, int]:
        """Every object in ``bucket``: key -> size."""
        found: dict[str, int] = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        return found

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()


def authenticating_server(log: Path) -> tuple[MotoServer, dict[str, str]]:
    """A moto server that checks every request's signature, with the bucket and one IAM user's key pair.

    moto authenticates only after ``INITIAL_NO_AUTH_ACTION_COUNT`` requests:
    the 4 that create the bucket, the user, its policy (everything allowed)
    and its key. Returns the server and that key pair as AWS_* variables.
    """
    server = MotoServer(log, env={"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    import boto3

    setup = {
        "endpoint_url": server.url,
        "region_name": REGION,
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    boto3.client("s3", **setup).create_bucket(Bucket=BUCKET)
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="ci")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="ci", PolicyName="all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    return server, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


class CountingProxy:
    """A TCP proxy on 127.0.0.1 that counts bytes each way and can cut the network.

    ``received`` is what the server sent to clients (downloads), ``sent``
    what clients sent to the server (uploads).
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.received = 0
        self.sent = 0
        self.connections = 0
        self._cut_after: int | None = None
        self._stall_after: int | None = None
        self._down = False
        self._stalled = False
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    # --- what tests call ---------------------------------------------------------------

    def reset_counts(self) -> None:
        with self._lock:
            self.received = self.sent = self.connections = 0

    def cut_after(self, uploaded: int) -> None:
        """Once clients have sent ``uploaded`` more bytes, drop every connection and refuse new ones."""
        with self._lock:
            self._cut_after = self.sent + uploaded

    def stall_after(self, uploaded: int) -> None:
        """Once clients have sent ``uploaded`` more bytes, forward nothing more either way, closing nothing."""
        with self._lock:
            self._stall_after = self.sent + uploaded

    def heal(self) -> None:
        with self._lock:
            self._cut_after, self._down = None, False
            self._stall_after, self._stalled = None, False

    @property
    def stalled(self) -> bool:
        return self._stalled

    @property
    def down(self) -> bool:
        return self._down

    def close(self) -> None:
        self._stopped = True
        with suppress(OSError):
            self._listener.close()
        self._drop_all()

    # --- the proxy ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down:
                client.close()  # the network is cut: the client sees a reset, as on a real outage
                continue
            if self._stalled:  # connected, and then nothing: swallow what the client sends
                with self._lock:
                    self._open.add(client)
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                self._open.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                with self._lock:
                    if self._down:
                        break
                    if upstream:
                        self.sent += len(chunk)
                        if self._cut_after is not None and self.sent >= self._cut_after:
                            self._down = True
                        if self._stall_after is not None and self.sent >= self._stall_after:
                            self._stalled = True
                    else:
                        self.received += len(chunk)
                    stalled = self._stalled
                if self._down:
                    self._drop_all()
                    break
                if not stalled:
                    dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    s.close()
            with self._lock:
                self._open.difference_update((src, dst))

    def _swallow(self, client: socket.socket) -> None:
        with suppress(OSError):
            while client.recv(65536) and self._stalled and not self._stopped:
                pass
        with suppress(OSError):
            client.close()

    def _drop_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
            self._open.clear()
        for s in sockets:
            with suppress(OSError):
                # SO_LINGER 0: the close resets the connection, as a dropped link looks to the client
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            with suppress(OSError):
                # shutdown, not just close: it wakes the pump thread blocked in recv() on this socket
                # (a close from another thread would leave the connection open until then)
                s.shutdown(socket.SHUT_RDWR)


def s3_env() -> dict[str, str]:
    """The environment DVC needs for the moto endpoint: fake keys, no instance metadata lookups."""
    return {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"}


def tree_bytes(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` by relative path, with its content."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def write_random(path: Path, sizes: dict[str, int], seed: int) -> int:
    """Incompressible files of the given sizes (deterministic per seed); returns the bytes written."""
    import random

    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (path / name).write_bytes(rng.randbytes(size))
    return sum(sizes.values())


class S3:
    """What a test gets: the server (for looking at the bucket directly) and the proxy DVC goes through."""

    def __init__(self, server: MotoServer, proxy: CountingProxy) -> None:
        self.server = server
        self.proxy = proxy
        self.url = f"s3://{BUCKET}/{PREFIX}"

    def remote_config(self, name: str = "storage") -> str:
        """``.dvc/config`` text making the bucket the default remote, reached through the proxy."""
        return (
            f"[core]\n    remote = {name}\n"
            f"['remote \"{name}\"']\n    url = {self.url}\n    endpointurl = {self.proxy.url}\n    region = {REGION}\n"
        )

    def objects(self) -> dict[str, int]:
        """The DVC remote's objects (``files/md5/ab/cdef…``, ``runs/…``) -> size."""
        return {k.removeprefix(f"{PREFIX}/"): n for k, n in self.server.objects().items()}

    def seed(self, cache: Path) -> int:
        """Upload a DVC cache's objects to the remote directly (not through the proxy); returns their bytes."""
        client, total = self.server.client(), 0
        for path in sorted(p for p in (cache / "files").rglob("*") if p.is_file()):
            client.put_object(
                Bucket=BUCKET, Key=f"{PREFIX}/{path.relative_to(cache).as_posix()}", Body=path.read_bytes()
            )
            total += path.stat().st_size
        return total

    def corrupt_objects(self) -> list[str]:
        """Objects whose content does not hash to their name (a truncated or mixed-up upload)."""
        client, bad = self.server.client(), []
        for key in self.objects():
            if key.startswith("files/md5/"):
                body = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}")["Body"].read()
                name = key.removeprefix("files/md5/").replace("/", "").removesuffix(".dir")
                if hashlib.md5(body).hexdigest() != name:
                    bad.append(key)
        return bad
