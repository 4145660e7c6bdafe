"""``alops.errors``: one error class per documented exit code, and the README's table lists exactly those codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alops import errors

README = Path(__file__).resolve().parents[1] / "README.md"


def _documented() -> dict[int, str]:
    section = README.read_text("utf-8").split("\n### Exit codes\n", 1)[1].split("\n#", 1)[0]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)}


def test_the_readme_lists_every_exit_code_and_no_other() -> None:
    codes = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert set(_documented()) == codes


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.StepError, errors.EXIT_FAILURE),
        (errors.ConfigError, errors.EXIT_CONFIG),
        (errors.MissingFileError, errors.EXIT_CONFIG),
        (errors.ToolError, errors.EXIT_TOOL),
        (errors.DataError, errors.EXIT_DATA),
        (errors.NotRepresentativeError, errors.EXIT_NOT_REPRESENTATIVE),
        (errors.GateFailedError, errors.EXIT_GATE),
        (errors.UnhealthyError, errors.EXIT_UNHEALTHY),
    ],
)
def test_each_error_class_has_its_code(cls: type[errors.AlopsError], code: int) -> None:
    assert cls.exit_code == code and issubclass(cls, errors.AlopsError)


def test_an_error_cannot_choose_another_code() -> None:
    """One path to an exit code: the class says it; a call site cannot override it."""
    with pytest.raises(TypeError):
        errors.ConfigError("x", exit_code=5)  # type: ignore[call-arg]
