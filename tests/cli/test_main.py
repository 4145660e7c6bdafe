"""Errors become messages and documented exit codes, never raw tracebacks (except for bugs)."""

from __future__ import annotations

import types

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
