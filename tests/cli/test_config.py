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


pytest_plugins = ["dvc_projects"]  # split_project: a small real git + DVC project

CONFIG = """\
version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: ["prepare@{dataset}", "train@{dataset}"]
  evaluate: ["evaluate@{dataset}"]
  metrics: ["metrics/{dataset}.json"]
runners: {gpu: [gpu]}
parameters:
  allowed:
    train.model: [logreg, forest]
"""


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_validate_skeleton() -> None:
    code, out, err = invoke("config", "validate", str(SKELETON / "alops.yaml"))
    assert code == 0
    assert out == f"{SKELETON / 'alops.yaml'} is valid; 5 parameters within their allowed values\n"
    # The skeleton is a template, not a DVC project: its data is added by whoever copies it.
    assert (
        err
        == f"Note: {SKELETON} is not a DVC project (no .dvc/): the datasets' targets were not checked; run `dvc init`\n"
    )


def test_validate_a_project_that_fits(split_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(split_project)
    Path("alops.yaml").write_text(CONFIG)
    code, out, err = invoke("config", "validate", env={"ALOPS_GPU_TAGS": ' ["gpu"]', "ALOPS_CPU_TAGS": " []"})
    assert (code, out, err) == (0, "alops.yaml is valid; 1 parameter within their allowed values\n", "")


def test_every_problem_of_the_project_at_once(split_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(split_project)
    text = CONFIG.replace("trai" + "n@{dataset}", "trian@{dataset}").replace("[data/full.dvc]", "[data/ful.dvc]")
    Path("alops.yaml").write_text(text.replace("metrics/{dataset}.json", "metrics/{dataset}.jsn"))
    Path("params.yaml").write_text(Path("params.yaml").read_text().replace("model: logreg", "model: xgboost"))
    code, out, err = invoke("config", "validate", env={"ALOPS_GPU_TAGS": ' ["gpu-a100"]'})
    assert (code, out) == (2, "")
    assert err == (
        "Error: alops.yaml does not fit the project (5 problems):\n"
        "  params.yaml:4: train.model: 'xgboost' is not an allowed value; allowed (alops.yaml:12): 'logreg', 'forest'\n"
        "  alops.yaml:6: pipeline.train[1]: 'trian@{dataset}' is not a stage of dvc.yaml (as trian@dev, trian@full); "
        "did you mean 'train@{dataset}'? stages there: prepare@dev, prepare@full, train@dev, train@full, "
        "evaluate@dev, evaluate@full\n"
        "  alops.yaml:8: pipeline.metrics[0]: 'metrics/{dataset}.jsn' is not written by the evaluate stages "
        "(as metrics/dev.jsn, metrics/full.jsn); did you mean 'metrics/{dataset}.json'? evaluate@dev, evaluate@full "
        "write: metrics/dev.json, metrics/full.json\n"
        "  alops.yaml:3: datasets.full.targets[0]: data/ful.dvc does not exist: no such .dvc file, and no stage of "
        "dvc.yaml writes it; did you mean 'data/full.dvc'? .dvc files here: data/dev.dvc, data/full.dvc "
        "(track data with `dvc add PATH`)\n"
        '  alops.yaml:9: runners.gpu: ["gpu"] here, but the CI template\'s gpu-tags input is ["gpu-a100"] '
        "(ALOPS_GPU_TAGS); make them equal\n"
    )
    code, out, err = invoke("config", "validate", "--no-project", env={"ALOPS_GPU_TAGS": ' ["gpu-a100"]'})
    assert (code, out) == (2, "")
    assert err.startswith("Error: alops.yaml does not fit the project (1 problem):\n  params.yaml:4: train.model:")


def test_no_project_checks_only_the_file(split_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(split_project)
    Path("alops.yaml").write_text(CONFIG.replace("trai" + "n@{dataset}", "trian@{dataset}"))
    assert invoke("config", "validate")[0] == 2
    code, out, err = invoke("config", "validate", "--no-project")
    assert (code, out, err) == (0, "alops.yaml is valid; 1 parameter within their allowed values\n", "")


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
    code, _, err = invoke("config", "validate", "--no-project", str(tmp_path / "alops.yaml"))
    assert code == 2
    assert err.startswith(f"Error: {tmp_path / 'alops.yaml'} does not fit the project (1 problem):\n")
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
