"""alops.dvc.bounds: the ALOPS_S3_* values, the s3fs settings they become, and what a DVC remote says instead.

:func:`bounds.settings` is pure and tested here; :func:`bounds.install`
changes s3fs's class and botocore's handlers for the whole process, so it runs
in a child interpreter of its own (as it does in alops: the DVC child), never
in the test process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from alops.dvc import bounds, environment
from alops.dvc.process import TRANSFER_DEFAULTS
from alops.errors import ConfigError
from alops.text import quote

#: Runs in a fresh interpreter: install the bounds from the environment (as the DVC child does), then report
#: s3fs's class settings, whether uploads still get `Expect: 100-continue`, and what a DVC S3 remote would use.
PROBE = """\
import json, os, sys
from alops.dvc import bounds
if sys.argv[1] == "after":
    import s3fs  # imported before the bounds are installed: they apply at once
bounds.install(os.environ)
import s3fs
from botocore import handlers
from dvc_s3 import S3FileSystem
S = s3fs.S3FileSystem
print(json.dumps({
    "retries": S.retries, "connect_timeout": S.connect_timeout, "read_timeout": S.read_timeout,
    "expect_continue": any(h[1] is handlers.add_expect_header for h in handlers.BUILTIN_HANDLERS),
    "remote": {k: S3FileSystem().fs._prepare_config_kwargs()[k] for k in ("connect_timeout", "read_timeout")},
    "remote_own": {
        k: S3FileSystem(read_timeout=30, connect_timeout=7).fs._prepare_config_kwargs()[k]
        for k in ("connect_timeout", "read_timeout")
    },
}))
"""


def probe(env: dict[str, str], when: str = "before") -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, when], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def s3fs_own() -> dict[str, float]:
    """s3fs's own defaults, read without the bounds (in a child: the test process never imports s3fs bounded)."""
    code = "import json, s3fs; S = s3fs.S3FileSystem; print(json.dumps([S.retries, S.connect_timeout, S.read_timeout]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    retries, connect, read = json.loads(out)
    return {"retries": retries, "connect_timeout": connect, "read_timeout": read}


def test_the_defaults_become_s3fs_s_settings() -> None:
    assert bounds.settings(TRANSFER_DEFAULTS) == {"retries": 2, "connect_timeout": 5.0, "read_timeout": 10.0}
    assert bounds.settings({}) == {}


@pytest.mark.parametrize(("value", "retries", "timeout"), [("3", 3, 3.0), (" 7 ", 7, 7.0), ("", None, None)])
def test_each_value_is_taken_when_it_is_a_positive_number(
    value: str, retries: int | None, timeout: float | None
) -> None:
    found = bounds.settings(
        {"ALOPS_S3_RETRIES": value, "ALOPS_S3_READ_TIMEOUT": value, "ALOPS_S3_CONNECT_TIMEOUT": value}
    )
    assert found.get("retries") == retries
    assert found.get("read_timeout") == found.get("connect_timeout") == timeout
    assert type(found.get("retries", 0)) is int


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("ALOPS_S3_RETRIES", "4.5", "a whole number of attempts, 1 or more"),
        ("ALOPS_S3_RETRIES", "0", "a whole number of attempts, 1 or more"),
        ("ALOPS_S3_RETRIES", "abc", "a whole number of attempts, 1 or more"),
        ("ALOPS_S3_READ_TIMEOUT", "-1", "a number of seconds greater than 0"),
        ("ALOPS_S3_READ_TIMEOUT", "nan", "a number of seconds greater than 0"),
        ("ALOPS_S3_CONNECT_TIMEOUT", "inf", "a number of seconds greater than 0"),
        ("ALOPS_S3_CONNECT_TIMEOUT", "\x1b[2J", "a number of seconds greater than 0"),
    ],
)
def test_a_value_that_is_no_bound_is_a_config_error_before_dvc_starts(variable: str, value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        environment({"PATH": "/usr/bin:/bin", variable: value})
    shown = quote(value)
    assert str(caught.value) == f"{variable}={shown} is not allowed: give {allowed}, or unset it"


def test_only_alops_s_variables_are_read() -> None:
    assert bounds.settings({"AWS_MAX_ATTEMPTS": "9", "S3_RETRIES": "9", "alops_s3_retries": "9"}) == {}


def test_the_child_s_environment_bounds_s3fs_by_default(s3fs_own: dict[str, float]) -> None:
    found = probe(environment({"PATH": "/usr/bin:/bin"}))
    assert (found["retries"], found["connect_timeout"], found["read_timeout"]) == (2, 5.0, 10.0)
    assert (s3fs_own["retries"], s3fs_own["read_timeout"]) != (2, 10.0)  # so the bounds are alops's, not s3fs's
    assert found["expect_continue"] is False
    # A remote that sets no timeout of its own gets the bounds; one that does keeps its own.
    assert found["remote"] == {"connect_timeout": 5.0, "read_timeout": 10.0}
    assert found["remote_own"] == {"connect_timeout": 7, "read_timeout": 30}


def test_bounds_apply_at_once_when_s3fs_was_imported_first() -> None:
    found = probe({"PATH": "/usr/bin:/bin", "ALOPS_S3_RETRIES": "4", "ALOPS_S3_READ_TIMEOUT": "2.5"}, "after")
    assert (found["retries"], found["read_timeout"], found["expect_continue"]) == (4, 2.5, False)


def test_uploads_go_without_expect_continue_whatever_the_bounds() -> None:
    assert probe({"PATH": "/usr/bin:/bin"})["expect_continue"] is False  # no ALOPS_S3_* set at all


# --- moved from tests/test_dvc.py -------------------------------------------------------------


def test_dvc_runs_with_s3fs_bounded_and_uploads_without_expect_continue() -> None:
    script = (
        "import sys, runpy; from alops.dvc import bounds; "
        "bounds.install({'ALOPS_S3_RETRIES': '3', "
        "'ALOPS_S3_READ_TIMEOUT': '4.5', 'ALOPS_S3_CONNECT_TIMEOUT': ''}); "
        "import s3fs; from botocore import handlers; S = s3fs.S3FileSystem; "
        "print(S.retries, S.read_timeout, S.connect_timeout, "
        "any(h[1] is handlers.add_expect_header for h in handlers.BUILTIN_HANDLERS)); "
        "from dvc_s3 import S3FileSystem as D; "  # a remote's own `dvc remote modify … read_timeout 30` wins
        "print(D(read_timeout=30).fs._prepare_config_kwargs()['read_timeout'], "
        "D().fs._prepare_config_kwargs()['read_timeout'])"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == "3 4.5 5 False\n30 4.5\n"  # an empty value leaves s3fs's own default
