from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SKELETON = ROOT / "examples/project-skeleton"
INVALID = sorted((ROOT / "tests/config/invalid").glob("*.yml"))


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_validate_skeleton() -> None:
    code, out, err = invoke("config", "validate", str(SKELETON / "alops.yaml"))
    assert (code, err) == (0, "")
    assert out == f"{SKELETON / 'alops.yaml'} is valid; 4 parameters within their allowed values\n"


def test_validate_uses_global_config_option() -> None:
    code, out, _ = invoke("-c", str(SKELETON / "alops.yaml"), "config", "validate")
    assert code == 0 and out.startswith(str(SKELETON / "alops.yaml"))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_corpus_exits_2(path: Path) -> None:
    code, out, err = invoke("config", "validate", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"Error: {path}")
    assert "Traceback" not in err


def test_bad_parameter_value_exits_2(tmp_path: Path) -> None:
    shutil.copy(SKELETON / "alops.yaml", tmp_path)
    text = (SKELETON / "params.yaml").read_text().replace("model: logreg", "model: xgboost")
    (tmp_path / "params.yaml").write_text(text)
    code, _, err = invoke("config", "validate", str(tmp_path / "alops.yaml"))
    assert code == 2
    assert err.startswith("Error: parameters are invalid:\n")
    assert "train.model: 'xgboost' is not an allowed value" in err


def test_schema_prints_the_shipped_schema() -> None:
    code, out, _ = invoke("config", "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("http://json-schema.org/draft-07")
    assert schema == json.loads((ROOT / "src/alops/schema/alops.schema.json").read_text())


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = invoke("config", "validate", str(tmp_path / "alops.yaml"))
    assert code == 2 and err == f"Error: {tmp_path / 'alops.yaml'}: file not found\n"


def test_usage_error_exits_2() -> None:
    code, _, err = invoke("flow", "--format", "xml")
    assert code == 2 and "Invalid value for '--format'" in err
