"""The REST endpoint in process (Starlette's TestClient): the protocol and its error matrix."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Starlette 1.x asks for httpx2 and warns when it finds httpx (the test group has httpx): that
# warning only, at import (filterwarnings = error). With httpx2 installed there is none.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

from alops.serve.app import create_app
from alops.serve.predictor import load

PREDICT = "/v1/models/digits:predict"


@pytest.fixture
def client(toy_package: Path) -> Iterator[TestClient]:
    with TestClient(create_app(load(toy_package), max_body_bytes=1000, max_instances=5)) as c:
        yield c


def test_predict_healthz_and_metadata(client: TestClient) -> None:
    answer = client.post(PREDICT, json={"instances": [[1, 2], [3, 4]]})
    assert (answer.status_code, answer.json()) == (200, {"predictions": [7, 7], "model": "digits", "version": "1.2.0"})
    assert answer.headers["content-type"] == "application/json"
    assert client.get("/healthz").json() == {"status": "ok"}
    meta = client.get("/v1/models/digits")
    assert meta.json() == {"name": "digits", "version": "1.2.0", "ready": True, "commit": "c" * 40}


def test_the_skeletons_model_over_the_protocol(
    digits_package: Path, digit_rows: tuple[list[list[float]], list[int]]
) -> None:
    rows, labels = digit_rows
    with TestClient(create_app(load(digits_package))) as client:
        answer = client.post(PREDICT, json={"instances": rows[:10]})
        assert answer.json()["predictions"] == labels[:10]
        bad = client.post(PREDICT, json={"instances": [rows[0], rows[1][:10]]})
        assert bad.json() == {"error": "instance 1: expected a list of 64 pixel values"}
        assert bad.status_code == 400


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "the body is not JSON: Expecting property name enclosed in double quotes"),
        (b"\xff\xfe\x00", 400, "the body is not JSON"),
        (b"[1, 2]", 400, 'the body must be a JSON object: {"instances": [...]}'),
        (b'"instances"', 400, "the body must be a JSON object"),
        (b"{}", 400, 'the body has no "instances": send {"instances": [...]}, one item a row'),
        (b'{"instances": {"a": 1}}', 400, '"instances" must be a list, one item a row'),
        (b'{"instances": []}', 400, '"instances" is empty: send at least one row'),
        (b'{"instances": [1,2,3,4,5,6]}', 400, '"instances" has 6 rows, over the limit of 5: split the batch'),
        (
            b'{"instances": [1], "signature_name": "x"}',
            400,
            "unknown key 'signature_name': the body holds only \"instances\"",
        ),
        (b'{"instances": [[NaN]]}', 400, "NaN is not a JSON number: send finite numbers"),
        (b'{"instances": [[-Infinity]]}', 400, "-Infinity is not a JSON number"),
        (b'{"instances": [[1e999]]}', 400, "1e999 is out of range for a number: send finite numbers"),
        (b'{"instances": [[1E+0400]]}', 400, "1E+0400 is out of range for a number"),
        (b'{"instances": [[' + b"9" * 400 + b".5]]}", 400, "99999"),
        (b'{"instances": [[' + b"1" * 250 + b"e99]]}", 400, "11111"),  # under 309 digits, over 1.8e308
        ('{"instances": [[1e999]]}'.encode("utf-16"), 400, "the body is not JSON: not UTF-8"),
        (b'{"instances": ["value-error"]}', 400, "instance 0: not a row this model takes"),
        (b'{"instances": ["crash"]}', 500, "internal error"),
        (b'{"instances": ["wrong-length"]}', 500, "internal error"),
        (b'{"instances": ["nan"]}', 500, "internal error"),
        (b"x" * 1001, 413, "the body is over 1000 bytes: send fewer instances per request"),
    ],
)
def test_hostile_bodies(client: TestClient, body: bytes, status: int, error: str) -> None:
    answer = client.post(PREDICT, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert answer.json()["error"].startswith(error)
    assert set(answer.json()) == {"error"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"instances": [' + b"1" * 5000 + b"]}", "the body is not JSON: Exceeds the limit (4300 digits)"),
        (b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "the body is not JSON: maximum recursion depth"),
    ],
)
def test_huge_numbers_and_deep_nesting_are_refused_not_a_crash(toy_package: Path, body: bytes, error: str) -> None:
    with TestClient(create_app(load(toy_package))) as client:
        answer = client.post(PREDICT, content=body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)


def test_a_crash_is_logged_with_its_traceback_and_not_sent(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="alops.serve"):
        answer = client.post(PREDICT, json={"instances": ["crash"]})
    assert answer.json() == {"error": "internal error"}
    assert "secret" not in answer.text
    [record] = caplog.records
    assert record.getMessage() == "predict of digits 1.2.0 failed on 1 instances"
    assert record.exc_info is not None and "secret internals" in str(record.exc_info[1])
    assert '"crash"' not in caplog.text  # the body is never logged


def test_a_chunked_body_over_the_limit_is_stopped_while_read(client: TestClient) -> None:
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 100

    answer = client.post(PREDICT, content=chunks())
    assert (answer.status_code, answer.headers["connection"]) == (413, "close")
    assert answer.json()["error"] == "the body is over 1000 bytes: send fewer instances per request"


def test_a_declared_length_over_the_limit_is_refused_unread(client: TestClient) -> None:
    answer = client.post(PREDICT, content=b"{}", headers={"content-length": "2000000000", "expect": "100-continue"})
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("POST", "/v1/models/iris:predict", 404, "no model 'iris' here: this server serves 'digits'"),
        ("GET", "/v1/models/iris", 404, "no model 'iris' here"),
        ("GET", "/v1/models/%1b%5b31mx", 404, "no model '\\x1b[31mx' here"),
        ("GET", "/v2/models/digits/infer", 404, "not found: the paths are /healthz, /v1/models/<name>"),
        ("GET", "/", 404, "not found"),
        ("GET", PREDICT, 405, "GET is not allowed here: use POST"),
        ("POST", "/v1/models/digits", 405, "POST is not allowed here: use GET"),
        ("DELETE", PREDICT, 405, "DELETE is not allowed here: use POST"),
        ("PUT", "/v1/models/digits", 405, "PUT is not allowed here: use GET"),
        ("POST", "/healthz", 405, "Method Not Allowed"),
    ],
)
def test_paths_and_methods(client: TestClient, method: str, path: str, status: int, error: str) -> None:
    answer = client.request(method, path)
    assert answer.status_code == status
    assert answer.json()["error"].startswith(error)
    assert answer.headers["content-type"] == "application/json"
    if status == 405:
        assert sorted(answer.headers["allow"].split(", ")) == (
            ["POST"] if path.endswith(":predict") else ["GET", "HEAD"]
        )


def test_numpy_predictions_are_json(make_package: Callable[..., Path]) -> None:
    source = (
        "import numpy as np\n"
        "class P:\n"
        "    def predict(self, instances):\n"
        "        return np.arange(len(instances))\n"
        "def load(model_dir):\n"
        "    return P()\n"
    )
    with TestClient(create_app(load(make_package(source=source)))) as client:
        answer = client.post(PREDICT, json={"instances": [1, 2, 3]})
    assert json.loads(answer.text)["predictions"] == [0, 1, 2]
