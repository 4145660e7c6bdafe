"""``alops demo``: what the command checks before the (slow) demo itself, tested in tests/test_demo.py."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG


def test_a_workdir_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == EXIT_CONFIG
    assert result.stderr == f"Error: --workdir {tmp_path} is not empty: give a new or empty directory\n"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_help_says_what_the_demo_does() -> None:
    result = CliRunner().invoke(cli, ["demo", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "feature and experiment flows" in result.stdout
    assert "--keep" in result.stdout


def test_a_report_folder_that_is_not_a_reports_is_refused_before_the_demo(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("mine")
    result = CliRunner().invoke(cli, ["demo", "--report", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == EXIT_CONFIG
    assert "holds files that are not a report's (thesis.tex)" in result.stderr
    assert (tmp_path / "thesis.tex").read_text() == "mine"
