"""The AlopsError each kind of :class:`~alops.dvc.failure.Failure` stands for: what is wrong and what to do."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from alops.dvc.remote import Remote
from alops.errors import AlopsError, ConfigError, DataError, StepError, ToolError
from alops.text import redact_output


class CredentialsError(DataError):
    """The remote refused the credentials, or found none (exit code 4); ``code``: S3's error code."""

    def __init__(self, message: str, *, code: str = "", remote: Remote | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.remote = remote


def no_default_remote() -> DataError:
    return DataError(
        "no DVC remote is configured: run `dvc remote add -d storage s3://…` and commit .dvc/config "
        "(or name a remote in alops.yaml, datasets.<name>.remote)"
    )


def unknown_remote(name: str) -> DataError:
    return DataError(
        f"DVC remote `{name}` is not configured: run `dvc remote add {name} s3://…` "
        "(or name a configured remote in alops.yaml, datasets.<name>.remote)"
    )


def error(
    failure: dict[str, Any],
    *,
    shown: str,
    cwd: str,
    remote: dict[str, Any] | None,
    requested: str | None = None,
    captured: bool,
    output: str,
    returncode: int,
    env: Mapping[str, str],
) -> AlopsError:
    """The error for ``failure`` of the command ``shown`` (``dvc pull data/dev.dvc``), its text redacted.

    ``output``: what the child printed; only an unexplained failure of a
    streamed ``dvc repro`` points at the output above instead of quoting it.
    """
    kind, said = failure["kind"], redact_output("\n".join(failure.get("said") or []), env).strip()
    tail = "\n".join(redact_output(output, env).strip().splitlines()[-20:])
    name = failure.get("name") or requested or ""  # as the command named it: none is the default remote
    where = f"DVC remote `{name}`" if name else "the default DVC remote"
    url = f" ({redact_output(remote['url'])})" if remote else ""
    if kind == "no_remote":
        return no_default_remote()
    if kind == "unknown_remote":
        return unknown_remote(failure["name"])
    if kind == "not_repo":
        return ConfigError(
            f"{cwd} is not in a DVC repository: run `dvc init` in the project's git repository "
            "(examples/project-skeleton/README.md lists the one-time steps)"
        )
    if kind == "no_dvc":
        return ToolError(f"DVC is not installed for {sys.executable}: run `{sys.executable} -m pip install dvc`")
    if kind == "plugin":
        return ToolError(f"{where} needs the {failure['package']} package: run `pip install {failure['package']}`")
    if kind == "missing":
        n = max(int(failure.get("count") or 0), 1)
        return DataError(
            f"{n} file{'s' if n != 1 else ''} needed by `{shown}` {'are' if n != 1 else 'is'} on neither the local "
            f"cache nor {where}: run `dvc push` where the data was added, or check that the remote's URL "
            "is right and reachable (`dvc remote list`)"
        )
    if kind == "credentials":
        code = failure.get("code") or ""
        said_code = f" ({code})" if code and code != "NoCredentials" else ""
        return CredentialsError(
            f"{where}{url} refused the credentials{said_code} (or found none): check that AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys) are set, current, and allowed on "
            "the bucket (in CI: masked, protected CI/CD variables), then run again",
            code=code,  # "": alops found none in the environment, before asking the remote
            remote=Remote.from_json(remote) if remote else None,
        )
    if kind == "no_bucket":
        return DataError(
            f"the bucket of {where}{url} does not exist (NoSuchBucket): check the remote's url and endpointurl "
            "(`dvc remote list`, `dvc config --list`), or create the bucket"
        )
    if kind == "wrong_region":
        return DataError(
            f"{where}{url} is in another region than the one configured: set it with "
            "`dvc remote modify <remote> region <its region>` (or AWS_DEFAULT_REGION)"
        )
    if kind == "network":
        if failure.get("phase") == "status":
            return DataError(
                f"{where}{url} cannot be reached (network): check the network and the remote's endpointurl, "
                f"then run again. DVC said:\n{said}"
            )
        direction = "to" if failure.get("op") == "push" else "from"
        return DataError(
            f"the transfer {direction} {where} was cut off (network): run the command again; "
            f"what arrived is kept and is not transferred again. DVC said:\n{said}"
        )
    if kind == "repro" and not captured:
        return StepError(f"`{shown}` failed with exit code {returncode}: DVC's output above says which stage and why")
    message = f"`{shown}` failed with exit code {returncode}" + (f":\n{tail}" if tail else "")
    return StepError(message) if kind == "repro" else ToolError(message)
