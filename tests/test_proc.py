"""alops.proc: programs run with argument lists, no terminal on stdin, and every line they print redacted."""

from __future__ import annotations

import sys

import pytest

from alops import proc
from alops.errors import ToolError
from alops.text import redact_output

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:pa/ss@host/path", "https://***@host/path"),
        ("https://user:p@ss/w@rd@host:8443/path x", "https://***@host:8443/path x"),
        ('failed: "s3://AKIAIOSFODNN7EXAMPLE:se/cr+et@bucket/key"', 'failed: "s3://***@bucket/key"'),
        ("git@gitlab.example.com:grp/proj.git", "git@gitlab.example.com:grp/proj.git"),  # no scheme: no user-info
        ("https://host/path and http://a:b@c/d", "https://host/path and http://***@c/d"),
        ("s3://bucket/path", "s3://bucket/path"),
        ("key AKIAIOSFODNN7EXAMPLE here", "key *** here"),
    ],
)
def test_url_user_info_is_masked_up_to_the_last_at_sign(text: str, shown: str) -> None:
    assert redact_output(text, {}) == shown


def test_secret_values_from_the_environment_are_masked_wherever_they_appear() -> None:
    env = {
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//////////wEaDOPQ",
        "CI_JOB_TOKEN": "glcbt-64_abcdef",
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    text = f"secret {SECRET} token FwoGZXIvYXdzEJr//////////wEaDOPQ job glcbt-64_abcdef path /usr/bin:/bin eu-west-1"
    assert redact_output(text, env) == "secret *** token *** job *** path /usr/bin:/bin eu-west-1"


def test_a_command_s_output_is_shown_redacted_and_returned_as_it_was(capfd: pytest.CaptureFixture[str]) -> None:
    script = (
        "import sys; print('to https://u:pa/ss@h/x', flush=True); "
        f"print('{SECRET}', file=sys.stderr); print('\\rprogress 50%\\rprogress 100%')"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY": SECRET}
    for capture in (True, False):
        result = proc.run([sys.executable, "-c", script], env=env, capture=capture)
        # what the caller gets is the output as it was (to parse), read as text=True reads it
        assert result.stdout == "to https://u:pa/ss@h/x\n\nprogress 50%\nprogress 100%\n"
        assert result.stderr == SECRET + "\n"
    shown = capfd.readouterr()
    assert shown.out == "to https://***@h/x\n\rprogress 50%\rprogress 100%\n"  # only the streamed run
    assert shown.err == "***\n"
    assert SECRET not in shown.out + shown.err


def test_a_failure_quotes_the_command_s_error_redacted() -> None:
    script = f"import sys; sys.exit('cannot reach https://bob:{SECRET}@host/repo')"
    with pytest.raises(ToolError) as caught:
        proc.run([sys.executable, "-c", script], env={"PATH": "/usr/bin"})
    assert SECRET not in str(caught.value)
    assert str(caught.value).endswith("failed with exit code 1:\ncannot reach https://***@host/repo")


def test_the_child_never_gets_a_terminal_to_read() -> None:
    # stdin is /dev/null: a prompt reads EOF at once instead of waiting for a person.
    script = "import sys; print(sys.stdin.isatty(), repr(sys.stdin.read()), sys.stdout.isatty())"
    assert proc.run([sys.executable, "-c", script], capture=False).stdout == "False '' False\n"


def test_a_missing_program_says_so() -> None:
    with pytest.raises(ToolError, match="^`no-such-tool-x` is not installed or not on PATH"):
        proc.run(["no-such-tool-x"], env={"PATH": "/nonexistent"})


def test_a_command_that_reports_a_hopeless_failure_is_stopped_after_the_grace_time() -> None:
    import time

    script = "import sys, time; print('ERROR: the network is gone', file=sys.stderr, flush=True); time.sleep(60)"
    started = time.monotonic()

    result = proc.run(
        [sys.executable, "-c", script], check=False, give_up=lambda line: line.startswith("ERROR"), grace=0.5
    )

    assert time.monotonic() - started < 15  # not the minute it would have slept
    assert result.returncode != 0
    assert result.stderr.startswith("ERROR: the network is gone\n")
    # and a command that says nothing hopeless runs to its end
    ok = proc.run([sys.executable, "-c", "print('fine')"], give_up=lambda line: True, grace=0.1)
    assert (ok.returncode, ok.stdout) == (0, "fine\n")
