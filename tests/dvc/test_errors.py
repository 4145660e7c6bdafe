"""alops.dvc.errors: the AlopsError (its exit code) and the message each kind of failure stands for.

The failures are JSON, as the DVC child writes them (``Failure.to_json``); the
messages say what is wrong and what to do, and never show a secret: the remote
URL's password, an AWS key id, or a secret variable's value from the environment.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from alops.dvc.errors import CredentialsError, error, no_default_remote, unknown_remote
from alops.dvc.failure import Failure
from alops.dvc.remote import Remote
from alops.errors import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_FAILURE,
    EXIT_TOOL,
    AlopsError,
    ConfigError,
    DataError,
    StepError,
    ToolError,
)

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
PASSWORD = "s3cret-pass"
#: A remote whose URL holds credentials, as a careless `dvc remote add` would write it.
REMOTE = {"name": "storage", "url": f"https://alice:{PASSWORD}@s3.example.com/bucket", "options": {"region": "eu"}}
ENV = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "PATH": "/usr/bin"}
#: What DVC said and printed, secrets and all.
SAID = [f"ERROR: failed to transfer 'ab' - {KEY_ID} {SECRET} https://alice:{PASSWORD}@s3.example.com/bucket/ab"]
OUTPUT = "\n".join([f"line {i}" for i in range(30)] + [f"ERROR: {KEY_ID} {SECRET} http://bob:{PASSWORD}@h/x"])


def made(kind: str, *, captured: bool = True, requested: str | None = "storage", **fields: Any) -> AlopsError:
    """The error for a failure of ``kind`` in ``dvc pull data/dev.dvc``, with secrets everywhere it could read them."""
    failure = Failure(kind, "pull", said=SAID).to_json() | fields
    return error(
        failure,
        shown="dvc pull data/dev.dvc",
        cwd="/work/project",
        remote=REMOTE,
        requested=requested,
        captured=captured,
        output=OUTPUT,
        returncode=1,
        env=ENV,
    )


#: kind (and fields) -> the class, the exit code and the start of the message (what is wrong, what to do).
CASES: list[tuple[str, dict[str, Any], type[AlopsError], int, str]] = [
    ("no_remote", {}, DataError, EXIT_DATA, "no DVC remote is configured: run `dvc remote add -d storage s3://…`"),
    ("unknown_remote", {"name": "nope"}, DataError, EXIT_DATA, "DVC remote `nope` is not configured: run `dvc remote add nope s3://…`"),
    ("not_repo", {}, ConfigError, EXIT_CONFIG, "/work/project is not in a DVC repository: run `dvc init`"),
    ("no_dvc", {}, ToolError, EXIT_TOOL, f"DVC is not installed for {sys.executable}: run `{sys.executable} -m pip install dvc`"),
    ("missing", {"count": 3}, DataError, EXIT_DATA, "3 files needed by `dvc pull data/dev.dvc` are on neither the local cache nor DVC remote `storage`: run `dvc push` where the data was added"),
    ("credentials", {"code": "InvalidAccessKeyId"}, CredentialsError, EXIT_DATA, "DVC remote `storage` (https://***@s3.example.com/bucket) refused the credentials (InvalidAccessKeyId) (or found none): check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
    ("no_bucket", {}, DataError, EXIT_DATA, "the bucket of DVC remote `storage` (https://***@s3.example.com/bucket) does not exist (NoSuchBucket): check the remote's url and endpointurl"),
    ("wrong_region", {}, DataError, EXIT_DATA, "DVC remote `storage` (https://***@s3.example.com/bucket) is in another region than the one configured: set it with `dvc remote modify <remote> region <its region>`"),
    ("network", {}, DataError, EXIT_DATA, "the transfer from DVC remote `storage` was cut off (network): run the command again; what arrived is kept"),
    ("network", {"op": "push"}, DataError, EXIT_DATA, "the transfer to DVC remote `storage` was cut off (network)"),
    ("network", {"op": "push", "phase": "status"}, DataError, EXIT_DATA, "DVC remote `storage` (https://***@s3.example.com/bucket) cannot be reached (network): check the network and the remote's endpointurl, then run again"),
    ("repro", {}, StepError, EXIT_FAILURE, "`dvc pull data/dev.dvc` failed with exit code 1:\nline 11\n"),
    ("tool", {}, ToolError, EXIT_TOOL, "`dvc pull data/dev.dvc` failed with exit code 1:\nline 11\n"),
    ("something new", {}, ToolError, EXIT_TOOL, "`dvc pull data/dev.dvc` failed with exit code 1:"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "fields", "cls", "code", "start"), CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_each_failure_is_its_error_class_with_a_message_that_says_what_to_do(
    kind: str, fields: dict[str, Any], cls: type[AlopsError], code: int, start: str
) -> None:
    made_error = made(kind, **fields)
    assert type(made_error) is cls
    assert made_error.exit_code == code
    assert str(made_error).startswith(start), str(made_error)


@pytest.mark.parametrize(("kind", "fields"), [(c[0], c[1]) for c in CASES] + [("repro", {"captured": False})])
def test_no_message_shows_a_secret(kind: str, fields: dict[str, Any]) -> None:
    text = str(made(kind, **fields))
    for secret in (KEY_ID, SECRET, PASSWORD, "alice", "bob:"):
        assert secret not in text, (secret, text)


def test_what_dvc_said_is_quoted_redacted_after_a_network_failure() -> None:
    text = str(made("network"))
    assert text.endswith("DVC said:\nERROR: failed to transfer 'ab' - *** *** https://***@s3.example.com/bucket/ab")


def test_a_tool_failure_quotes_the_last_twenty_lines_of_output_redacted() -> None:
    text = str(made("tool"))
    quoted = text.split(":\n", 1)[1].splitlines()
    assert len(quoted) == 20
    assert quoted[0] == "line 11" and quoted[-1] == "ERROR: *** *** http://***@h/x"


def test_a_streamed_repro_points_at_the_output_above_instead_of_quoting_it() -> None:
    found = made("repro", captured=False)
    assert type(found) is StepError
    assert str(found) == "`dvc pull data/dev.dvc` failed with exit code 1: DVC's output above says which stage and why"
    assert type(made("tool", captured=False)) is ToolError  # only a stage's failure is in the output above


def test_the_remote_is_named_as_the_command_named_it() -> None:
    assert "on neither the local cache nor the default DVC remote:" in str(made("missing", requested=None))
    assert str(made("missing", requested=None)).startswith("1 file needed by `dvc pull data/dev.dvc` is on")  # count 0
    assert str(made("missing", requested=None, count=1)).startswith("1 file needed by")
    assert str(made("network", requested=None)).startswith("the transfer from the default DVC remote was cut off")


def test_a_credentials_error_keeps_s3_s_code_and_the_remote() -> None:
    found = made("credentials", code="SignatureDoesNotMatch")
    assert isinstance(found, CredentialsError)
    assert found.code == "SignatureDoesNotMatch"
    assert found.remote == Remote("storage", str(REMOTE["url"]), {"region": "eu"})
    # None found, by alops before asking the remote or by botocore: no code to show.
    for code in ("", "NoCredentials"):
        text = str(made("credentials", code=code))
        assert text.startswith(
            "DVC remote `storage` (https://***@s3.example.com/bucket) refused the credentials (or found none)"
        )
    assert made("credentials", code="").code == ""  # type: ignore[attr-defined]


def test_a_missing_plugin_names_the_remote_and_the_package() -> None:
    found = made("plugin", package="dvc-s3")
    assert type(found) is ToolError and found.exit_code == EXIT_TOOL
    assert str(found) == "DVC remote `storage` needs the dvc-s3 package: run `pip install dvc-s3`"


def test_a_missing_plugin_says_which_package_to_install() -> None:
    found = made("plugin", package="dvc-s3")
    assert type(found) is ToolError and found.exit_code == EXIT_TOOL
    assert str(found).endswith("needs the dvc-s3 package: run `pip install dvc-s3`")


def test_the_remote_errors_alops_raises_itself() -> None:
    assert str(no_default_remote()) == (
        "no DVC remote is configured: run `dvc remote add -d storage s3://…` and commit .dvc/config "
        "(or name a remote in alops.yaml, datasets.<name>.remote)"
    )
    assert str(unknown_remote("full")) == (
        "DVC remote `full` is not configured: run `dvc remote add full s3://…` "
        "(or name a configured remote in alops.yaml, datasets.<name>.remote)"
    )
    assert no_default_remote().exit_code == unknown_remote("x").exit_code == EXIT_DATA


# --- moved from tests/test_dvc.py -------------------------------------------------------------
