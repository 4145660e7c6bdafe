from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli
from alops.config import Constraint, load_config
from alops.errors import EXIT_CONFIG, ConfigError
from alops.matrix import space
from alops.matrix.space import Combination

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
parameters:
  file: params.yaml
  allowed:
    train.model: [logreg, forest]
    train.C: [0.1, 1.0, 10.0]
    train.n_estimators: [50, 100, 200]
    prepare.test_size: [0.2, 0.3]
"""
CONSTRAINTS = """  constraints:
    - if: {train.model: logreg}
      irrelevant: [train.n_estimators]
    - if: {train.model: forest}
      irrelevant: [train.C]
    - if: {train.model: [forest]}
      exclude: {prepare.test_size: [0.3]}
"""
PARAMS = """prepare:
  test_size: 0.2
train:
  model: logreg
  C: 1.0
  n_estimators: 100
"""


def project(root: Path, extra: str = "") -> Path:
    (root / "alops.yaml").write_text(CONFIG + extra, encoding="utf-8")
    (root / "params.yaml").write_text(PARAMS, encoding="utf-8")
    return root / "alops.yaml"


def test_constraints_are_typed(tmp_path: Path) -> None:
    spec = load_config(project(tmp_path, CONSTRAINTS)).parameters
    assert spec is not None
    assert spec.max_combinations == 64
    assert spec.constraints == (
        Constraint({"train.model": ("logreg",)}, ("train.n_estimators",)),
        Constraint({"train.model": ("forest",)}, ("train.C",)),
        Constraint({"train.model": ("forest",)}, (), {"prepare.test_size": (0.3,)}),
    )


def test_every_combination_under_the_cap(tmp_path: Path) -> None:
    found = space.combinations(load_config(project(tmp_path, CONSTRAINTS)))
    assert not found.pairwise and found.total == 9
    assert found.summary == "all 9 combinations"
    assert found.rows[0] == Combination(
        {"train.model": "logreg", "train.C": 0.1, "prepare.test_size": 0.2}, ("train.n_estimators",)
    )
    assert found.rows[-1] == Combination(
        {"train.model": "forest", "train.n_estimators": 200, "prepare.test_size": 0.2}, ("train.C",)
    )
    assert found.defaults == {
        "train.model": "logreg",
        "train.C": 1.0,
        "train.n_estimators": 100,
        "prepare.test_size": 0.2,
    }


def test_pairwise_beyond_the_cap(tmp_path: Path) -> None:
    found = space.combinations(load_config(project(tmp_path, "  max_combinations: 10\n")))
    assert found.pairwise and found.total == 36
    assert found.summary == f"{len(found.rows)} of 36 combinations, pairwise"
    assert 9 <= len(found.rows) < 36  # C x n_estimators alone needs 9
    for x in (0.1, 1.0, 10.0):
        for y in (50, 100, 200):
            assert any(r.values["train.C"] == x and r.values["train.n_estimators"] == y for r in found.rows)
    assert space.combinations(load_config(tmp_path / "alops.yaml"), every=True).total == 36


def test_same_seed_same_rows_another_seed_others(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, "  max_combinations: 10\n"))
    assert space.combinations(config, seed=3) == space.combinations(config, seed=3)
    assert space.combinations(config, seed=0).rows != space.combinations(config, seed=1).rows


def test_a_boolean_is_not_a_number(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(
        CONFIG.replace("    prepare.test_size: [0.2, 0.3]\n", "    train.balanced: [true, 1]\n")
        + "  constraints:\n    - if: {train.balanced: true}\n      irrelevant: [train.C]\n",
        encoding="utf-8",
    )
    (tmp_path / "params.yaml").write_text(PARAMS + "  balanced: 1\n", encoding="utf-8")
    found = space.combinations(load_config(tmp_path / "alops.yaml"), every=True)
    some = [r for r in found.rows if r.values["train.model"] == "logreg" and r.values["train.n_estimators"] == 50]
    kept = [(type(r.values["train.balanced"]), r.kept) for r in some]
    assert kept == [(bool, ("train.C",)), (int, ()), (int, ()), (int, ())]  # true: C kept; 1: each C


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "    - if: {train.modle: logreg}\n      irrelevant: [train.C]\n",
            "alops.yaml:16: parameters.constraints[0].if.train.modle: 'train.modle' is not a key of parameters.allowed "
            "('train.model', 'train.C', 'train.n_estimators', 'prepare.test_size')",
        ),
        (
            "    - if: {train.model: svm}\n      irrelevant: [train.C]\n",
            "alops.yaml:16: parameters.constraints[0].if.train.model: 'svm' is not an allowed value of 'train.model'; "
            "allowed: 'logreg', 'forest'",
        ),
        (
            "    - if: {train.model: forest}\n      exclude: {prepare.test_size: [0.5]}\n",
            "alops.yaml:17: parameters.constraints[0].exclude.prepare.test_size: 0.5 is not an allowed value of "
            "'prepare.test_size'; allowed: 0.2, 0.3",
        ),
        (
            "    - if: {train.model: forest}\n      irrelevant:\n        - train.C\n        - train.model\n",
            "alops.yaml:19: parameters.constraints[0].irrelevant[1]: 'train.model' is also in this constraint's `if`: "
            "a parameter the rule depends on cannot be irrelevant there",
        ),
        (
            "    - if: {train.model: forest}\n      irrelevant: [train.trees]\n",
            "alops.yaml:17: parameters.constraints[0].irrelevant[0]: 'train.trees' is not a key of parameters.allowed",
        ),
    ],
    ids=["if-key", "if-value", "exclude-value", "irrelevant-in-if", "irrelevant-key"],
)
def test_constraint_problems_name_the_line(tmp_path: Path, rule: str, message: str) -> None:
    config = load_config(project(tmp_path, "  constraints:\n" + rule))
    problems = space.problems(config)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path}/{message}")
    with pytest.raises(ConfigError, match="parameters are invalid") as info:
        space.combinations(config)
    assert message in str(info.value)


def test_config_validate_reports_constraint_problems(tmp_path: Path) -> None:
    path = project(tmp_path, "  constraints:\n    - if: {train.model: svm}\n      irrelevant: [train.C]\n")
    result = CliRunner().invoke(cli, ["config", "validate", "--no-project", str(path)], catch_exceptions=False)
    assert result.exit_code == EXIT_CONFIG
    assert "alops.yaml:16: parameters.constraints[0].if.train.model: 'svm' is not an allowed value" in result.stderr


def test_config_validate_accepts_good_constraints(tmp_path: Path) -> None:
    path = project(tmp_path, CONSTRAINTS)
    result = CliRunner().invoke(cli, ["config", "validate", "--no-project", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_no_parameters_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(CONFIG.split("parameters:")[0], encoding="utf-8")
    with pytest.raises(ConfigError, match="no parameters: list them"):
        space.combinations(load_config(tmp_path / "alops.yaml"))


def test_a_file_value_not_allowed_is_a_config_error(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "params.yaml").write_text(PARAMS.replace("C: 1.0", "C: 3.0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="train.C: 3.0 is not an allowed value"):
        space.combinations(load_config(tmp_path / "alops.yaml"))


def test_too_many_for_all(tmp_path: Path) -> None:
    big = "".join(f"    p{i}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" for i in range(7))
    (tmp_path / "alops.yaml").write_text(CONFIG.split("  allowed:\n")[0] + "  allowed:\n" + big, encoding="utf-8")
    (tmp_path / "params.yaml").write_text("".join(f"p{i}: 1\n" for i in range(7)), encoding="utf-8")
    with pytest.raises(ConfigError, match="--all: 10,000,000 combinations are too many to run; leave out --all"):
        space.combinations(load_config(tmp_path / "alops.yaml"), every=True)


def test_more_jobs_than_gitlab_takes(tmp_path: Path) -> None:
    values = ", ".join(str(i) for i in range(40))
    (tmp_path / "alops.yaml").write_text(
        CONFIG.split("  allowed:\n")[0] + f"  allowed:\n    a: [{values}]\n    b: [{values}]\n", encoding="utf-8"
    )
    (tmp_path / "params.yaml").write_text("a: 0\nb: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"1,600 combinations would be more than 1000 jobs: allow fewer values \("):
        space.combinations(load_config(tmp_path / "alops.yaml"))
