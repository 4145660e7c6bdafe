"""alops.dvc.failure: the failure each real exception of DVC, botocore, aiohttp and the OS stands for.

The exceptions are the libraries' own classes, built as they build them; none
is raised by a mock of DVC. :func:`failure.classify` runs in the DVC child; the
errors these failures become are tested in ``test_errors.py``.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from botocore.exceptions import (  # type: ignore[import-untyped]
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from dvc.exceptions import (  # type: ignore[import-untyped]
    CheckoutError,
    DownloadError,
    DvcException,
    NotDvcRepoError,
    ReproductionError,
    UploadError,
)
from dvc_objects.fs.errors import RemoteMissingDepsError

from alops.dvc import failure
from alops.dvc.errors import CredentialsError, error
from alops.dvc.failure import Failure, Known, Recorder, chain, classify, message, network
from alops.errors import EXIT_DATA, AlopsError, DataError

URL = "http://127.0.0.1:9/bucket/files/md5/ab/cdef"


def client(code: str, operation: str = "PutObject") -> ClientError:
    """botocore's error for an S3 response with this error code, as botocore builds it from the response."""
    return ClientError(
        {"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
    )


def caused(outer: BaseException, cause: BaseException) -> BaseException:
    """``outer`` raised ``from cause``, as s3fs re-raises botocore's errors as OSErrors."""
    outer.__cause__ = cause
    return outer


def during(outer: BaseException, context: BaseException) -> BaseException:
    """``outer`` raised while ``context`` was being handled (its ``__context__``), as a bare ``raise X`` in ``except``."""
    try:
        try:
            raise context
        except BaseException:
            raise outer  # noqa: B904 - the implicit context is the point
    except BaseException as exc:
        return exc


def connector_error() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("127.0.0.1", 9, False, True, None, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))


def said(*errors: BaseException, grace: float = 3600) -> Recorder:
    """A recorder that saw DVC log ``errors``, as it logs each object's failed transfer."""
    recorder = Recorder(grace=grace)
    for exc in errors:
        recorder.emit(
            logging.LogRecord("dvc", logging.ERROR, "", 0, "failed to transfer 'ab'", (), (type(exc), exc, None))
        )
    return recorder


# --- credentials, bucket and region: S3's error codes ------------------------------------------


@pytest.mark.parametrize(
    "code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "403", "Forbidden"]
)
def test_a_refusing_code_is_the_credentials_with_that_code(code: str) -> None:
    found = classify(UploadError(1), said(client(code)), "push")
    assert (found.kind, found.code, found.op) == ("credentials", code, "push")


def test_no_credentials_at_all_and_partial_ones_are_the_credentials() -> None:
    partial = PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY")
    for exc in (NoCredentialsError(), partial):
        found = classify(DownloadError(1), said(exc), "pull")
        assert (found.kind, found.code) == ("credentials", "NoCredentials")


def test_no_such_bucket_and_the_wrong_region() -> None:
    assert classify(UploadError(1), said(client("NoSuchBucket", "ListObjectsV2")), "push").kind == "no_bucket"
    for code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
        assert classify(DownloadError(1), said(client(code, "HeadObject")), "pull").kind == "wrong_region", code


def test_a_refused_credential_wins_over_the_network_and_the_bucket() -> None:
    # One object refused, another cut: the credentials are what the user must fix first.
    logged = said(EndpointConnectionError(endpoint_url=URL), client("NoSuchBucket"), client("AccessDenied"))
    assert classify(UploadError(3), logged, "push").kind == "credentials"


def test_a_code_that_says_nothing_known_is_dvc_s_own_failure() -> None:
    found = classify(UploadError(1), said(client("InternalError")), "push")
    assert found.kind == "tool"
    assert found.said[-1] == "ERROR: 1 files failed to upload"


# --- the network: botocore's, aiohttp's and the OS's classes ------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url=URL),
        ReadTimeoutError(endpoint_url=URL),
        ConnectionClosedError(endpoint_url=URL),
        connector_error(),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ServerTimeoutError("Timeout on reading data from socket"),
        ConnectionResetError(104, "Connection reset by peer"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_each_network_class_is_the_network(exc: BaseException) -> None:
    assert network(exc)
    assert network(caused(OSError("transfer failed"), exc))  # s3fs's wrapping
    assert classify(DownloadError(2), said(exc), "pull").kind == "network"
    assert classify(caused(FileNotFoundError("x"), exc), said(), "push").kind == "network"


def test_a_connect_timeout_as_aiobotocore_raises_it_is_the_network() -> None:
    # aiobotocore raises it while handling aiohttp's timeout: the context is what is recognised.
    exc = during(ConnectTimeoutError(endpoint_url=URL), aiohttp.ServerTimeoutError("Connection timeout to host"))
    assert network(exc)
    assert classify(UploadError(1), said(exc), "push").kind == "network"


def test_a_connect_timeout_on_its_own_is_the_network() -> None:
    assert network(ConnectTimeoutError(endpoint_url=URL))


@pytest.mark.parametrize(
    "exc", [OSError("disk full"), FileNotFoundError("x"), PermissionError("Forbidden"), client("AccessDenied")]
)
def test_what_is_not_the_network(exc: BaseException) -> None:
    assert not network(exc)


def test_the_network_is_found_behind_a_context_as_well_as_a_cause() -> None:
    inner = during(OSError("upload failed"), ConnectionResetError(104, "reset"))
    assert isinstance(inner.__context__, ConnectionResetError) and inner.__cause__ is None
    assert network(inner)
    assert classify(UploadError(1), said(inner), "push").kind == "network"


def test_a_network_failure_keeps_dvc_s_last_error_lines() -> None:
    recorder = said(*[EndpointConnectionError(endpoint_url=f"{URL}{i}") for i in range(8)])
    recorder.emit(logging.LogRecord("dvc", logging.WARNING, "", 0, "retrying", (), None))
    found = classify(UploadError(8), recorder, "push", "status")
    assert (found.kind, found.phase) == ("network", "status")
    assert len(found.said) == 5 and all(
        s.startswith("ERROR: failed to transfer 'ab' - Could not connect") for s in found.said
    )
    assert found.said[-1].endswith(f'"{URL}7"')


def test_a_transfer_failure_outside_a_transfer_op_is_still_the_remote_s() -> None:
    # DownloadError tells a transfer even when the op is not one (`repro --pull` fetching inputs).
    found = classify(DownloadError(1), said(client("InvalidAccessKeyId")), "repro")
    assert (found.kind, found.code) == ("credentials", "InvalidAccessKeyId")


# --- DVC's own exceptions ---------------------------------------------------------------------


def test_not_a_dvc_repository() -> None:
    assert classify(NotDvcRepoError("you are not inside of a DVC repository"), said(), "pull") == Failure(
        "not_repo", "pull"
    )


def test_a_missing_plugin_is_named_by_its_package_even_behind_dvc_s_wrapping() -> None:
    missing = RemoteMissingDepsError(None, "s3", "s3://b/p", ["s3fs"])  # type: ignore[arg-type]
    for exc in (missing, caused(DvcException("failed to pull"), missing)):
        found = classify(exc, said(), "pull")
        assert (found.kind, found.package, found.name) == ("plugin", "dvc-s3", "")
    assert classify(DownloadError(1), said(missing), "pull").package == "dvc-s3"  # only logged


def test_a_failed_stage_is_the_pipeline_s_failure_with_dvc_s_message() -> None:
    found = classify(ReproductionError("failed to reproduce 'train@dev'"), said(), "repro")
    assert found.kind == "repro"
    assert found.said == ["ERROR: failed to reproduce 'train@dev'"]
    # Whatever stops a repro is the pipeline's; named by its type when it is not DVC's own.
    assert classify(ValueError("bad"), said(), "repro").said == ["ERROR: ValueError: bad"]


def test_anything_else_is_a_tool_failure_named_by_its_type() -> None:
    found = classify(KeyError("bogus"), said(), "config")
    assert (found.kind, found.said) == ("tool", ["ERROR: KeyError: 'bogus'"])
    assert classify(DvcException("output 'x' does not exist"), said(), "add").said == [
        "ERROR: output 'x' does not exist"
    ]


def test_a_checkout_error_with_no_remote_cause_is_a_tool_failure() -> None:
    found = classify(CheckoutError(["data/dev"], {}), said(), "checkout")
    assert found.kind == "tool" and "data/dev" in found.said[-1]


def test_a_failure_alops_detected_keeps_its_kind_and_gets_the_op() -> None:
    assert classify(Known(Failure("no_remote")), said(), "pull") == Failure("no_remote", "pull")
    assert classify(Known(Failure("missing", "push", count=3)), said(), "pull").op == "push"  # its own op wins


# --- the recorder, the chain and DVC's message -----------------------------------------------


def test_the_recorder_keeps_each_logged_exception_and_line() -> None:
    recorder = said(client("AccessDenied"))
    recorder.emit(logging.LogRecord("dvc", logging.WARNING, "", 0, "a %s", ("warning",), None))
    assert recorder.errors and isinstance(recorder.errors[0], ClientError)
    assert recorder.said[1] == "WARNING: a warning"
    assert recorder.said[0].startswith("ERROR: failed to transfer 'ab' - An error occurred (AccessDenied)")
    assert not recorder.gave_up.is_set()


@pytest.fixture
def sigint() -> Iterator[threading.Event]:
    """SIGINT, which the recorder sends this process, caught (sets the event) instead of stopping pytest."""
    got = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        got.set()

    previous = signal.signal(signal.SIGINT, handler)
    yield got
    signal.signal(signal.SIGINT, previous)


def test_the_recorder_stops_the_process_once_an_object_failed_for_the_network(sigint: threading.Event) -> None:
    recorder = said(client("AccessDenied"), grace=0.05)
    assert not sigint.wait(0.3)  # not the network: DVC goes on with the other objects
    recorder.emit(
        logging.LogRecord("dvc", logging.ERROR, "", 0, "x", (), (OSError, caused(OSError("x"), TimeoutError()), None))
    )
    assert recorder.gave_up.is_set()
    assert sigint.wait(5)


def test_chain_follows_causes_and_contexts_once_each() -> None:
    a, b, c = ValueError("a"), OSError("b"), KeyError("c")
    a.__cause__, b.__context__ = b, c
    assert list(chain(a)) == [a, b, c]
    c.__context__ = a  # a cycle, as an exception re-raised while handling itself makes
    assert list(chain(a)) == [a, b, c]


def test_message_says_each_cause_once() -> None:
    exc = caused(DvcException("failed to push"), caused(OSError("Forbidden"), PermissionError("Forbidden")))
    assert message(exc) == "failed to push - Forbidden"
    assert message(DownloadError(0)) == "0 files failed to download"
    assert message(TimeoutError()) == "TimeoutError"


def test_a_failure_travels_as_json() -> None:
    found = Failure("credentials", "push", "status", "AccessDenied", said=["ERROR: x"])
    assert found.to_json() == {
        "kind": "credentials",
        "op": "push",
        "phase": "status",
        "code": "AccessDenied",
        "name": "",
        "package": "",
        "count": 0,
        "said": ["ERROR: x"],
    }


# --- moved from tests/test_dvc.py: classification and the error it becomes, for each remote failure ---


def _failures() -> dict[str, tuple[str, BaseException, list[BaseException], type[AlopsError]]]:
    head = client("403", "HeadObject")
    return {
        # What s3fs raises (a PermissionError from botocore's ClientError) and DVC logs, as seen against moto.
        "status refused": ("push", caused(PermissionError("Forbidden"), head), [], CredentialsError),
        "pull refused": ("pull", DownloadError(3), [caused(PermissionError("Forbidden"), head)], CredentialsError),
        "bad key id": ("push", UploadError(1), [client("InvalidAccessKeyId", "PutObject")], CredentialsError),
        "bad signature": ("push", UploadError(1), [client("SignatureDoesNotMatch", "PutObject")], CredentialsError),
        "no credentials": ("pull", DownloadError(1), [NoCredentialsError()], CredentialsError),
        "no bucket": (
            "push",
            caused(FileNotFoundError("bucket"), client("NoSuchBucket", "ListObjectsV2")),
            [],
            DataError,
        ),
        "cut": ("push", UploadError(2), [EndpointConnectionError(endpoint_url="http://127.0.0.1:9/b/x")], DataError),
        "reset": ("pull", DownloadError(2), [caused(OSError("x"), ConnectionResetError(104, "reset"))], DataError),
    }


@pytest.mark.parametrize(
    "case",
    ["status refused", "pull refused", "bad key id", "bad signature", "no credentials", "no bucket", "cut", "reset"],
)
def test_every_remote_failure_is_data_unreachable_by_its_exception_s_type(case: str) -> None:
    op, exc, logged, kind = _failures()[case]
    found = failure.classify(exc, said(*logged), op)
    made = error(
        found.to_json(),
        shown=f"dvc {op}",
        cwd=".",
        remote={"name": "storage", "url": "s3://b/p", "options": {}},
        requested="storage",
        captured=True,
        output="",
        returncode=1,
        env={},
    )
    assert type(made) is kind and made.exit_code == EXIT_DATA, str(made)
    if kind is CredentialsError:
        assert "check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in str(made)
    if case == "cut":
        assert str(made).startswith(
            "the transfer to DVC remote `storage` was cut off (network): run the command again; what arrived is kept "
            "and is not transferred again. DVC said:\nERROR: failed to transfer 'ab' - Could not connect"
        )
