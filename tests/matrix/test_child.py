from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import check_jsonschema
import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from alops import manifest
from alops.config import load_config
from alops.matrix import child, space
from alops.matrix.space import Combination, Matrix

from ci.gitlab_ci_local import SHELL_RUN, GitlabCiLocal, commit, example_project, git

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json", "metrics/{dataset}-extra.json"]
parameters:
  allowed:
    train.model: [logreg, forest]
    train.C: [0.1, 1.0, 10.0]
    train.note: ["a b", "it's", "$HOME; rm -rf /", "1", "true", '`id` \\']
  constraints:
    - if: {train.model: forest}
      irrelevant: [train.C]
"""
# GitLab's CI schema, as check-jsonschema vendors it (tests/test_templates.py reads the same file).
GITLAB_SCHEMA = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "gitlab-ci.json"
PARAMS = "train:\n  model: logreg\n  C: 1.0\n  note: a b\n"


@pytest.fixture
def config(tmp_path: Path) -> Any:
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "params.yaml").write_text(PARAMS, encoding="utf-8")
    return load_config(tmp_path / "alops.yaml")


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.booleans()))
def test_a_value_reads_back_as_itself(value: Any) -> None:
    """`alops run --set K=V` reads V with yaml.safe_load: the same value and type come back."""
    back = yaml.safe_load(child.scalar(value))
    assert back == value and type(back) is type(value)
    assert "\n" not in child.scalar(value)


def test_the_pipeline_runs_each_combination_in_its_own_job(config: Any) -> None:
    found = space.combinations(config)
    jobs = child.pipeline(config, found, image="python:3.11-slim", tags=("docker", "linux"))
    assert len(jobs) == len(found.rows) == 3 * 6 + 6
    first, job = next(iter(jobs.items()))
    assert first == "matrix 01: train.model=logreg train.C=0.1 train.note=a b"
    assert job == {
        "image": "python:3.11-slim",
        "tags": ["docker", "linux"],
        "script": [
            "alops data pull --dataset dev",
            "alops run --no-pull --flow feature --set train.model=logreg --set train.C=0.1 --set 'train.note=a b'",
        ],
        "artifacts": {"when": "always", "paths": ["metrics/dev.json", "metrics/dev-extra.json", manifest.FILE]},
    }
    forest = [name for name in jobs if "forest" in name]
    assert forest and all("train.C" not in name for name in forest), "an irrelevant parameter is not set"


def test_hostile_values_stay_one_shell_word_each(config: Any) -> None:
    found = space.combinations(config)
    for row, job in zip(found.rows, child.pipeline(config, found).values(), strict=True):
        words = shlex.split(job["script"][1])
        assert words[:5] == ["alops", "run", "--no-pull", "--flow", "feature"]
        sets = dict(w.split("=", 1) for w in words[6::2])
        assert words[5::2] == ["--set"] * len(row.values)
        assert {k: yaml.safe_load(v) for k, v in sets.items()} == row.values
    notes = {r.values["train.note"] for r in found.rows}
    assert {"1", "true", "$HOME; rm -rf /", "it's"} <= notes
    assert all(isinstance(n, str) for n in notes)


def test_job_names_are_safe_and_short() -> None:
    row = Combination({"k": "x\u202ey\n" + "z" * 400}, ())
    name = child.job_name(7, 2, row)
    assert name.startswith("matrix 07: k=") and len(name) <= 255
    assert name.isprintable()


def test_the_child_pipeline_matches_gitlab_s_schema(config: Any) -> None:
    found = space.combinations(config)
    text = child.render(found, child.pipeline(config, found, image="python:3.11", tags=("docker",)))
    assert text.startswith("# Written by `alops matrix`: all 24 combinations")
    doc = yaml.safe_load(text)
    validator = jsonschema.Draft7Validator(json.loads(GITLAB_SCHEMA.read_text()))
    assert [e.message for e in validator.iter_errors(doc)] == []
    assert "&" not in text.split("\n", 2)[2].replace("&&", ""), "no YAML anchors"


def test_no_jobs_is_refused() -> None:
    with pytest.raises(ValueError, match="no combination"):
        child.render(Matrix((), (), {}, 0, True, False), {})


@pytest.mark.slow
def test_a_generated_job_runs_under_gitlab_ci_local(tmp_path: Path) -> None:
    """The example project's child pipeline: its first job pulls the dev data and trains with the job's values."""
    project = example_project(tmp_path)
    cfg = load_config(project / "alops.yaml")
    found = space.combinations(cfg)
    jobs = child.pipeline(cfg, found)
    name = next(n for n, j in jobs.items() if "train.model=forest" in n)
    # alops-matrix.yml is git-ignored (CI keeps it as an artifact); gitlab-ci-local reads tracked files.
    (project / "child.yml").write_text(child.render(found, {name: jobs[name]}), encoding="utf-8")
    git(project, "add", "child.yml")
    commit(project, "the child pipeline")
    gcl = GitlabCiLocal(project, file="child.yml")
    result = gcl(*SHELL_RUN, name, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    build = project / ".gitlab-ci-local" / "artifacts"
    (folder,) = [p for p in build.iterdir() if p.is_dir()]
    ran = json.loads((folder / manifest.FILE).read_text())
    row = found.rows[list(jobs).index(name)]
    assert ran["set"] == row.values
    assert ran["params"]["params.yaml"]["train.model"] == "forest"
    assert (folder / "metrics" / "dev.json").is_file()
