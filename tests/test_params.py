from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alops import params
from alops.config import load_config
from alops.errors import ConfigError

SKELETON = Path(__file__).resolve().parents[1] / "examples/project-skeleton"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("alops.yaml", "params.yaml"):
        shutil.copy(SKELETON / name, tmp_path / name)
    return tmp_path


def test_skeleton_parameters_are_allowed(project: Path) -> None:
    assert params.check(load_config(project / "alops.yaml")) == []


def test_value_not_allowed_names_both_files(project: Path) -> None:
    text = (project / "params.yaml").read_text().replace("C: 1.0", "C: 3.0")
    (project / "params.yaml").write_text(text)
    config = load_config(project / "alops.yaml")
    [problem] = params.check(config)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "C: 3.0" in row)
    assert problem.startswith(f"{project / 'params.yaml'}:{line}: train.C: 3.0 is not an allowed value; allowed (")
    assert problem.endswith("): 0.1, 1.0, 10.0")
    with pytest.raises(ConfigError):
        params.require_valid(config)


def test_integer_equals_float_but_bool_is_not_a_number(project: Path) -> None:
    text = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(
        text.replace("C: 1.0", "C: 1").replace("n_estimators: 100", "n_estimators: true")
    )
    [problem] = params.check(load_config(project / "alops.yaml"))
    assert "train.n_estimators: true is not an allowed value" in problem


def test_missing_key_and_missing_file(project: Path) -> None:
    text = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(text.replace("  model: logreg\n", ""))
    [problem] = params.check(load_config(project / "alops.yaml"))
    assert "parameters.allowed.train.model: params.yaml has no key train.model" in problem
    (project / "params.yaml").unlink()
    [problem] = params.check(load_config(project / "alops.yaml"))
    assert "parameters.file: params.yaml does not exist" in problem


def test_lookup() -> None:
    data = {"a": {"b": {"c": 1}}, "x": 2}
    assert params.lookup(data, "a.b.c") == 1
    assert params.lookup(data, "x") == 2
    assert params.lookup(data, "x.y") != 2 and params.lookup(data, "a.z") is params.lookup(data, "q")
