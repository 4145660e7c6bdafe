"""``alops matrix``: the child pipeline file, the table, the formats, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
parameters:
  allowed:
    train.model: [logreg, forest]
    train.C: [0.1, 1.0]
    train.n_estimators: [50, 100]
  constraints:
    - if: {train.model: logreg}
      irrelevant: [train.n_estimators]
    - if: {train.model: forest}
      irrelevant: [train.C]
"""
PARAMS = "train:\n  model: logreg\n  C: 1.0\n  n_estimators: 100\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "params.yaml").write_text(PARAMS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["matrix", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_table_and_the_file(project: Path) -> None:
    code, out, _ = invoke("--image", "python:3.11", "--tags", "docker, linux")
    assert code == 0
    assert out == (
        "#  train.model  train.C  train.n_estimators\n"
        "1  logreg       0.1      (100)\n"
        "2  logreg       1.0      (100)\n"
        "3  forest       (1.0)    50\n"
        "4  forest       (1.0)    100\n"
        "all 4 combinations: 4 jobs in alops-matrix.yml\n"
    )
    jobs = yaml.safe_load((project / "alops-matrix.yml").read_text())
    assert list(jobs) == [
        "matrix 01: train.model=logreg train.C=0.1",
        "matrix 02: train.model=logreg train.C=1.0",
        "matrix 03: train.model=forest train.n_estimators=50",
        "matrix 04: train.model=forest train.n_estimators=100",
    ]
    assert all(j["image"] == "python:3.11" and j["tags"] == ["docker", "linux"] for j in jobs.values())
    assert jobs["matrix 03: train.model=forest train.n_estimators=50"]["script"][1] == (
        "alops run --no-pull --flow feature --set train.model=forest --set train.n_estimators=50"
    )


def test_pairwise_beyond_max_combinations(project: Path) -> None:
    (project / "alops.yaml").write_text(
        CONFIG.split("  constraints:")[0].replace("[50, 100]", "[50, 100, 200]") + "  max_combinations: 5\n",
        encoding="utf-8",
    )
    code, out, _ = invoke("--output", "child.yml", "--format", "json", "--seed", "2")
    assert code == 0
    doc = json.loads(out)
    assert doc["pairwise"] and doc["exact"] and doc["total"] == 12
    assert 6 <= len(doc["rows"]) < 12
    assert doc["rows"][0]["kept"] == []
    assert list(yaml.safe_load((project / "child.yml").read_text())) == doc["jobs"]
    code, out, _ = invoke("--output", "child.yml", "--all")
    assert out.endswith("all 12 combinations: 12 jobs in child.yml\n")


def test_yaml_format_prints_the_file(project: Path) -> None:
    code, out, _ = invoke("--format", "yaml")
    assert code == 0
    assert out == (project / "alops-matrix.yml").read_text()
    assert out.startswith("# Written by `alops matrix`: all 4 combinations")


def test_without_parameters(project: Path) -> None:
    (project / "alops.yaml").write_text(CONFIG.split("parameters:")[0], encoding="utf-8")
    code, _, err = invoke()
    assert code == EXIT_CONFIG
    assert err.startswith(
        "Error: alops.yaml: no parameters: list them with their allowed values under parameters.allowed"
    )
    assert not (project / "alops-matrix.yml").exists()


def test_a_bad_constraint_is_named(project: Path) -> None:
    (project / "alops.yaml").write_text(
        CONFIG.replace("if: {train.model: forest}", "if: {train.model: svm}"), encoding="utf-8"
    )
    code, _, err = invoke()
    assert code == EXIT_CONFIG
    assert (
        "alops.yaml:16: parameters.constraints[1].if.train.model: 'svm' is not an allowed value of 'train.model'" in err
    )
    assert "Traceback" not in err


def test_image_and_tags_default_to_this_job_s_and_the_cpu_runner_s(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "alops.yaml").write_text(CONFIG + "runners:\n  cpu: [docker, small]\n  gpu: [gpu]\n", encoding="utf-8")
    monkeypatch.setenv("CI_JOB_IMAGE", "registry.example.com/ml/train:1.2")
    assert invoke()[0] == 0
    job = next(iter(yaml.safe_load((project / "alops-matrix.yml").read_text()).values()))
    assert job["image"] == "registry.example.com/ml/train:1.2"
    assert job["tags"] == ["docker", "small"]
    monkeypatch.setenv("ALOPS_CPU_TAGS", '["k8s", "cpu"]')  # the template's cpu-tags input
    assert invoke()[0] == 0
    job = next(iter(yaml.safe_load((project / "alops-matrix.yml").read_text()).values()))
    assert job["tags"] == ["k8s", "cpu"]
    assert invoke("--image", "", "--tags", "")[0] == 0
    job = next(iter(yaml.safe_load((project / "alops-matrix.yml").read_text()).values()))
    assert "image" not in job and "tags" not in job
