"""The one exception type of alops and the exit codes it maps to.

The exit codes are part of the interface: CI jobs can key ``allow_failure:
exit_codes`` on them. They are listed in the README.
"""

from __future__ import annotations

EXIT_OK = 0
#: A step of the pipeline failed (a DVC stage, a gate).
EXIT_FAILURE = 1
#: Bad input: command-line usage, ``alops.yaml``, a parameter value.
EXIT_CONFIG = 2
#: An external tool (git, dvc) failed or is missing.
EXIT_TOOL = 3
#: Data cannot be reached: remote not configured, credentials missing.
EXIT_DATA = 4
#: The dev dataset no longer represents the full data (`alops devset check`).
EXIT_NOT_REPRESENTATIVE = 5
#: A quality gate of alops.yaml failed (``alops gate``).
EXIT_GATE = 6
#: ``alops reproduce``: the rerun's metrics differ from the manifest's.
EXIT_NOT_REPRODUCED = 7
#: ``alops doctor``: a check the job's role needs failed (the host or job environment is broken).
EXIT_UNHEALTHY = 8
#: A bug in alops: the traceback is printed.
EXIT_INTERNAL = 70
#: Interrupted (Ctrl-C).
EXIT_INTERRUPTED = 130
#: The reader of alops's output went away (128 + SIGPIPE, as a shell reports ``yes | head``).
EXIT_BROKEN_PIPE = 141
#: Stopped by SIGTERM (128 + 15), as a cancelled CI job or ``docker stop`` sends it.
EXIT_TERMINATED = 143


class AlopsError(Exception):
    """An error the user can act on; its message says what is wrong and what to do."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class StepError(AlopsError):
    """A step of the pipeline failed: a DVC stage, a push of outputs that exist nowhere (exit code 1)."""

    exit_code = EXIT_FAILURE


class ConfigError(AlopsError):
    """Invalid configuration or usage (exit code 2)."""

    exit_code = EXIT_CONFIG


class MissingFileError(ConfigError):
    """A file alops was told to read does not exist (exit code 2)."""

    def __init__(self, message: str, *, path: object) -> None:
        super().__init__(message)
        self.path = path


class ToolError(AlopsError):
    """An external command failed (exit code 3)."""

    exit_code = EXIT_TOOL


class DataError(AlopsError):
    """Data cannot be reached (exit code 4)."""

    exit_code = EXIT_DATA


class NotRepresentativeError(AlopsError):
    """The dev dataset no longer represents the full data (exit code 5)."""

    exit_code = EXIT_NOT_REPRESENTATIVE


class GateFailedError(AlopsError):
    """A metric missed a quality gate of alops.yaml (exit code 6)."""

    exit_code = EXIT_GATE


class NotReproducedError(AlopsError):
    """``alops reproduce`` ran the manifest's commit, data and params and got other metrics (exit code 7)."""

    exit_code = EXIT_NOT_REPRODUCED


class UnhealthyError(AlopsError):
    """``alops doctor``: the job environment fails a check its role needs."""

    exit_code = EXIT_UNHEALTHY


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt: not an Exception, so nothing swallows it
    """Raised in the main thread when alops receives SIGTERM."""
