"""Errors become messages and documented exit codes, never raw tracebacks (except for bugs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import alops.cli as alops_cli
from alops.errors import DataError, ToolError


def _command(exc: BaseException) -> click.Command:
    @click.command()
    def boom() -> None:
        raise exc

    return boom


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (DataError("DVC remote `storage` is not configured"), 4, "Error: DVC remote `storage` is not configured\n"),
        (ToolError("`dvc` is not installed"), 3, "Error: `dvc` is not installed\n"),
        (KeyboardInterrupt(), 130, "Interrupted.\n"),
    ],
)
def test_errors_map_to_exit_codes(monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int, message: str) -> None:
    module = types.ModuleType("alops_test_commands")
    module.boom = _command(exc)  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "alops_test_commands", module)
    monkeypatch.setitem(alops_cli._COMMANDS, "boom", ("alops_test_commands", "boom", "test"))
    result = CliRunner().invoke(alops_cli.cli, ["boom"], catch_exceptions=False)
    assert (result.exit_code, result.stderr) == (code, message)


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("alops_test_commands")
    module.boom = _command(ZeroDivisionError("oops"))  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "alops_test_commands", module)
    monkeypatch.setitem(alops_cli._COMMANDS, "boom", ("alops_test_commands", "boom", "test"))
    result = CliRunner().invoke(alops_cli.cli, ["boom"], catch_exceptions=False)
    assert result.exit_code == 70
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: oops" in result.stderr
    assert result.stderr.rstrip().endswith("please report it with the command you ran.")


def test_help_lists_commands_without_importing_them() -> None:
    import sys

    for name in ("alops.cli.run", "alops.cli.data", "alops.cli.demo"):
        sys.modules.pop(name, None)
    result = CliRunner().invoke(alops_cli.cli, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for name in ("config", "data", "demo", "flow", "run"):
        assert f"  {name} " in result.stdout
    assert "alops.cli.run" not in sys.modules
    assert "Exit codes: 0 ok, 1 a pipeline step failed, 2 bad input" in result.stdout


def test_version() -> None:
    result = CliRunner().invoke(alops_cli.cli, ["--version"], catch_exceptions=False)
    assert result.stdout == "alops, version 0.1.0\n"


# --- The real command in a subprocess: hostile input never hangs, crashes or leaks. ---

ALOPS = str(Path(sys.executable).with_name("alops"))
SKELETON = Path(__file__).resolve().parents[2] / "examples/project-skeleton/alops.yaml"
MINIMAL = "version: 1\ndatasets: {full: {targets: [data/full.dvc]}, dev: {targets: [data/dev.dvc]}}\n"


def alops(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ALOPS, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=20,  # a hang fails the test instead of the suite
    )


def no_crash(done: subprocess.CompletedProcess[str], code: int = 2) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "hit a bug" not in done.stderr


def test_catastrophic_branch_pattern_does_not_hang(tmp_path: Path) -> None:
    branch = "a" * 35 + "!"
    done = alops("-c", str(SKELETON), "flow", "--branch", branch, env={"ALOPS_FEATURE_BRANCHES": "/^(a+)+$/"})
    no_crash(done, 0)
    assert done.stdout.startswith("role      other  (branch 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' matches no pattern)")
    config = tmp_path / "alops.yaml"
    config.write_text(MINIMAL + "pipeline: {train: [t]}\nbranches: {feature: '/^(a+)+$/'}\n")
    no_crash(alops("-c", str(config), "flow", "--branch", branch), 0)


def test_pattern_gitlab_refuses_is_a_config_error() -> None:
    done = alops("-c", str(SKELETON), "flow", "--branch", "x", env={"ALOPS_FEATURE_BRANCHES": "/^(?!main)/"})
    no_crash(done)
    assert "'/^(?!main)/' is not a valid regular expression for GitLab (RE2 syntax" in done.stderr
    assert "re2.cc" not in done.stderr  # RE2's own logging stays quiet
    assert done.stderr.endswith(
        "\nthe pattern is the value of ALOPS_FEATURE_BRANCHES (the CI template's feature-branches input): "
        "correct it there\n"
    )


def test_fifo_as_config_or_parameters_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = alops("-c", str(fifo), "flow", "--branch", "x")
    no_crash(done)
    assert done.stderr == f"Error: {fifo}: is a named pipe (FIFO), not a regular file; give the path of a YAML file\n"
    config = tmp_path / "alops.yaml"
    config.write_text(MINIMAL + "pipeline: {train: [t]}\nparameters: {file: pipe.yaml, allowed: {a: [1]}}\n")
    done = alops("-c", str(config), "config", "validate")
    no_crash(done)
    assert "pipe.yaml: is a named pipe (FIFO)" in done.stderr


def test_a_token_file_is_never_printed(tmp_path: Path) -> None:
    token = tmp_path / "token.txt"
    token.write_text("glpat-Ab3dEfGh1jKlMn0pQrSt\n")
    done = alops("-c", str(token), "config", "validate")
    no_crash(done)
    assert "Ab3dEfGh1jKlMn0pQrSt" not in done.stderr + done.stdout
    assert "not a single value (a string of 26 characters); is this the right file?" in done.stderr


def test_huge_scalar_gives_a_short_message(tmp_path: Path) -> None:
    config = tmp_path / "alops.yaml"
    config.write_text(MINIMAL.replace("version: 1", "version: " + "v" * 900_000) + "pipeline: {train: [t]}\n")
    done = alops("-c", str(config), "config", "validate")
    no_crash(done)
    assert len(done.stderr) < 600 and "(900,000 characters)" in done.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("pipeline: {train: [t]}\nx-a: {fraction: .nan}\n", "x-a.fraction: .nan is not a finite number"),
        (
            "pipeline: {train: [t]}\nquality: {thresholds: {accuracy: {min: .inf}}}\n",
            "quality.thresholds.accuracy.min: .inf is not a finite number",
        ),
        ("pipeline: {train: ['train{']}\n", "pipeline.train[0]: unbalanced '{' or '}' in 'train{'"),
        ("pipeline: {train: ['{dataset']}\n", "unbalanced '{' or '}' in '{dataset'"),
        ("pipeline: {train: [t], evaluate: ['}']}\n", "pipeline.evaluate[0]: unbalanced '{' or '}' in '}'"),
        ("pipeline: {train: [t], metrics: [/etc/passwd]}\n", "pipeline.metrics[0]: '/etc/passwd' is an absolute path"),
        (
            "pipeline: {train: [t]}\nparameters: {file: ../../etc/passwd, allowed: {a: [1]}}\n",
            "parameters.file: '../../etc/passwd' leads outside the repository",
        ),
    ],
)
def test_values_that_used_to_crash_flow(tmp_path: Path, extra: str, message: str) -> None:
    config = tmp_path / "alops.yaml"
    config.write_text(MINIMAL + extra)
    for fmt in ("text", "dotenv", "json"):
        done = alops("-c", str(config), "flow", "--branch", "feature/x", "--format", fmt)
        no_crash(done)
        assert message in done.stderr


def test_parameter_file_linked_out_of_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: 1\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").symlink_to(outside)
    (project / "alops.yaml").write_text(MINIMAL + "pipeline: {train: [t]}\nparameters: {allowed: {a: [1]}}\n")
    done = alops("config", "validate", cwd=project)
    no_crash(done)
    assert "parameters.file: 'params.yaml' leads outside the repository" in done.stderr


def test_terminal_controls_are_escaped(tmp_path: Path) -> None:
    config = tmp_path / "alops.yaml"
    config.write_text(
        MINIMAL.replace("data/full.dvc", '"data/\\x9b31m\\u202efull.dvc"') + 'pipeline: {train: [t]}\n"x-\\u2066": 1\n',
        encoding="utf-8",
    )
    done = alops("-c", str(config), "flow", "--branch", "feature/\x1b]8;;x\x07\u202e")
    no_crash(done)
    assert "'data/\\x9b31m\\u202efull.dvc' holds control or invisible characters" in done.stderr
    assert all(c.isprintable() or c == "\n" for c in done.stderr)


def test_homoglyph_key_is_shown_escaped(tmp_path: Path) -> None:
    config = tmp_path / "alops.yaml"
    config.write_text(MINIMAL.replace("dev:", "dеv:") + "pipeline: {train: [t]}\n", encoding="utf-8")
    done = alops("-c", str(config), "config", "validate")
    no_crash(done)
    assert "unknown key 'd\\u0435v': it contains non-ASCII characters (\\u0435); did you mean 'dev'?" in done.stderr


def test_branch_with_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(SKELETON, repo / "alops.yaml")
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    subprocess.run([b"git", b"-C", os.fsencode(repo), b"checkout", b"-q", b"-b", b"feature/\xff\xfe"], check=True)
    done = alops("flow", cwd=repo)
    no_crash(done, 0)
    assert done.stdout.startswith("role      feature  (branch 'feature/\\udcff\\udcfe' matches /^feature\\//)\n")
    assert all(c.isprintable() or c == "\n" for c in done.stdout)
    done = alops("flow", "--format", "json", cwd=repo)
    no_crash(done, 0)
    assert json.loads(done.stdout)["role"] == "feature"
    done = alops("flow", "--format", "dotenv", cwd=repo)
    no_crash(done, 0)
    assert "ALOPS_ROLE=feature\n" in done.stdout


_SLOW_COMMAND = """
import sys, time, types
import click
import alops.cli as main

@click.command()
def slow():
    print("ready", flush=True)
    time.sleep(60)

module = types.ModuleType("slow_command")
module.slow = slow
sys.modules["slow_command"] = module
main._COMMANDS["slow"] = ("slow_command", "slow", "test")
sys.argv = ["alops", "slow"]
main.run()
"""


def test_sigterm_stops_with_a_message_and_exit_143() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_COMMAND], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 143
    assert err == "Terminated (SIGTERM).\n"


def test_outside_a_project_says_how_to_point_at_one(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "alops.yaml").write_text(MINIMAL + "pipeline: {train: [t]}\n")
    done = alops("flow", "--branch", "x", cwd=tmp_path)
    no_crash(done)
    assert done.stderr == (
        "Error: alops.yaml: file not found\n"
        f"no alops.yaml in {tmp_path}: run alops in the project's folder (cd into it), point at the file with "
        "-c PATH or ALOPS_CONFIG=PATH (found here: sub/alops.yaml), or create one with `alops init`\n"
    )
    done = alops("flow", "--branch", "x", cwd=tmp_path, env={"ALOPS_CONFIG": "nope.yaml"})
    no_crash(done)
    assert "ALOPS_CONFIG=nope.yaml names a file that does not exist: correct or unset ALOPS_CONFIG" in done.stderr
    done = alops("-c", "nope.yaml", "flow", "--branch", "x", cwd=tmp_path)
    no_crash(done)
    assert "-c/--config names a file that does not exist" in done.stderr
    no_crash(alops("-c", "sub/alops.yaml", "flow", "--branch", "x", cwd=tmp_path), 0)
    (tmp_path / "sub" / "src").mkdir()
    done = alops("flow", "--branch", "x", cwd=tmp_path / "sub" / "src")
    no_crash(done)
    assert "(found here: ../alops.yaml)" in done.stderr


def test_a_reader_that_leaves_early_is_exit_141_without_a_traceback() -> None:
    """`alops config schema | head -c 1`: the output was cut, so not 0; not a bug either (no traceback)."""
    read, write = os.pipe()
    os.close(read)  # the reader has left before alops writes a byte
    try:
        done = subprocess.run([ALOPS, "config", "schema"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=30)
    finally:
        os.close(write)
    assert done.returncode == 141
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
