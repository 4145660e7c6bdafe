"""alops init: alops.yaml and .gitlab-ci.yml from what a DVC project already says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from alops import params, project
from alops.config import load_config
from alops.errors import ConfigError
from alops.init import init, per_dataset

pytest_plugins = ["dvc_projects"]  # split_project, plain_project: small real git + DVC projects

VERSION = "0.1.0"
INCLUDE = [
    {
        "project": "mlops/alops",
        "ref": "0.1.0",
        "file": "/ci-templates/alops.yml",
        "inputs": {"gate": False, "releases": False},
    },
    {"project": "mlops/alops", "ref": "0.1.0", "file": "/ci-templates/workflow.yml"},
]


def dvc(root: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def gitlab_ci_schema() -> dict[str, Any]:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "gitlab-ci.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def fits(root: Path) -> project.ProjectCheck:
    """What `alops config validate` checks, without the CLI: the schema, the parameters, the project."""
    config = load_config(root / "alops.yaml")
    assert params.check(config) == []
    return project.check(config, {})


def test_a_split_project_gets_its_stages_datasets_metrics_and_parameters(split_project: Path) -> None:
    result = init(split_project, VERSION)
    assert [(f.path.name, f.action) for f in result.files] == [("alops.yaml", "written"), (".gitlab-ci.yml", "written")]
    assert result.proposal.advice is None
    written = yaml.safe_load((split_project / "alops.yaml").read_text())
    assert written == {
        "version": 1,
        "datasets": {"full": {"targets": ["data/full.dvc"]}, "dev": {"targets": ["data/dev.dvc"]}},
        "pipeline": {
            "train": ["prepare@{dataset}", "train@{dataset}"],
            "evaluate": ["evaluate@{dataset}"],
            "metrics": ["metrics/{dataset}.json"],
        },
        "parameters": {
            "file": "params.yaml",
            "allowed": {"prepare.seed": [42], "train.model": ["logreg"], "train.lr": [0.001]},
        },
    }
    assert fits(split_project) == project.ProjectCheck((), ())
    ci = (split_project / ".gitlab-ci.yml").read_text()
    assert yaml.safe_load(ci) == {"include": INCLUDE}  # the template's defaults are this project's .dvc files
    assert "#   - component: $CI_SERVER_FQDN/mlops/alops/alops@0.1.0\n" in ci
    jsonschema.validate(yaml.safe_load(ci), gitlab_ci_schema())


def test_every_part_of_alops_yaml_is_explained(split_project: Path) -> None:
    init(split_project, VERSION)
    text = (split_project / "alops.yaml").read_text()
    for comment in (
        "# Which branch gets which role",
        "# The data, as DVC targets",
        "# The DVC stages each CI job reproduces",
        "# Runner tags of the CPU and GPU jobs",
        "allowed only each one's current value: widen every list",
    ):
        assert comment in text


def test_running_it_again_changes_nothing(split_project: Path) -> None:
    init(split_project, VERSION)
    before = {
        p: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in (split_project / "alops.yaml", split_project / ".gitlab-ci.yml")
    }
    again = init(split_project, VERSION)
    assert [f.action for f in again.files] == ["unchanged", "unchanged"] and not again.changed
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before
    assert sorted(p.name for p in split_project.iterdir() if "alops-tmp" in p.name) == []


def test_a_file_the_user_changed_is_kept_unless_forced(split_project: Path) -> None:
    init(split_project, VERSION)
    mine = (split_project / "alops.yaml").read_text().replace("[logreg]", "[logreg, forest]")
    (split_project / "alops.yaml").write_text(mine)
    kept = init(split_project, VERSION)
    assert [(f.action, f.reason) for f in kept.files][0] == ("kept", "exists and differs; --force replaces it")
    assert (split_project / "alops.yaml").read_text() == mine
    forced = init(split_project, VERSION, force=True)
    assert forced.files[0].action == "written"
    assert (split_project / "alops.yaml").read_text() == kept.proposal.alops_yaml


def test_an_existing_gitlab_ci_without_alops_gets_the_block_to_add(split_project: Path) -> None:
    own = "test:\n  script: [pytest]\n"
    (split_project / ".gitlab-ci.yml").write_text(own)
    result = init(split_project, VERSION)
    ci = result.files[1]
    assert (ci.action, ci.reason) == ("add-include", "exists without the alops include: add this block to it")
    assert yaml.safe_load(ci.text) == {"include": INCLUDE}
    assert (split_project / ".gitlab-ci.yml").read_text() == own
    assert yaml.safe_load(own + ci.text) == {"test": {"script": ["pytest"]}, "include": INCLUDE}
    init(split_project, VERSION, force=True)
    assert yaml.safe_load((split_project / ".gitlab-ci.yml").read_text()) == {"include": INCLUDE}


def test_an_existing_gitlab_ci_with_alops_is_kept(split_project: Path) -> None:
    own = "include:\n  - project: mlops/alops\n    ref: v0.0.9\n    file: /ci-templates/alops.yml\n"
    (split_project / ".gitlab-ci.yml").write_text(own)
    assert init(split_project, VERSION).files[1].action == "kept"
    assert (split_project / ".gitlab-ci.yml").read_text() == own


def test_dry_run_writes_nothing(split_project: Path) -> None:
    result = init(split_project, VERSION, dry_run=True)
    assert [(f.action, f.reason) for f in result.files] == [("would-write", "create"), ("would-write", "create")]
    assert not (split_project / "alops.yaml").exists() and not (split_project / ".gitlab-ci.yml").exists()
    assert result.files[0].text == result.proposal.alops_yaml


def test_a_kept_alops_yaml_decides_the_ci_inputs(split_project: Path) -> None:
    init(split_project, VERSION)
    config = (
        (split_project / "alops.yaml")
        .read_text()
        .replace(
            "version: 1\n", "version: 1\nbranches: {feature: /^feat\\//}\nrunners: {cpu: [docker], gpu: [gpu-a100]}\n"
        )
    )
    (split_project / "alops.yaml").write_text(config)
    (split_project / ".gitlab-ci.yml").unlink()
    init(split_project, VERSION)
    include = yaml.safe_load((split_project / ".gitlab-ci.yml").read_text())["include"]
    assert include[0]["inputs"] == {
        "feature-branches": "/^feat\\//",
        "cpu-tags": ["docker"],
        "gpu-tags": ["gpu-a100"],
        "gate": False,
        "releases": False,
    }
    env = {"ALOPS_FEATURE_BRANCHES": "/^feat\\//", "ALOPS_CPU_TAGS": ' ["docker"]', "ALOPS_GPU_TAGS": ' ["gpu-a100"]'}
    assert project.check(load_config(split_project / "alops.yaml"), env).problems == ()


# --- a project whose stages are not split by dataset ----------------------------------------

ADVICE = """\
dvc.yaml's stages are not split by dataset, so every branch would run them on the same
data and feature branches could not use the small dev set. Give each stage one copy per
dataset: `foreach: [dev, full]`, the stage's body under `do:`, and ${item} where the
dataset goes in its cmd, deps and outs (DVC names the copies NAME@dev and NAME@full).
For your stage 'prepare':

stages:
  prepare:
    foreach: [dev, full]
    do:
      cmd: python prepare.py data/raw-${item}.csv
      deps:
      - prepare.py
      - data/raw-${item}.csv
      params:
      - prepare.seed
      outs:
      - data/prepared-${item}

Do the same for train, evaluate: every output gets ${item}, and so does every dependency on another stage's output.
Then move the full data where data/raw-${item}.csv finds it: `dvc move data/raw.csv data/raw-full.csv` (the dev set goes to data/raw-dev.csv).
Then run `alops init --force`: alops.yaml will name them prepare@{dataset}, train@{dataset}, evaluate@{dataset} (it names them without @ now).
"""


def test_a_single_data_file_is_the_full_set_and_the_dev_set_is_proposed(plain_project: Path) -> None:
    result = init(plain_project, VERSION)
    written = yaml.safe_load((plain_project / "alops.yaml").read_text())
    assert written["datasets"] == {
        "full": {"targets": ["data/raw.csv.dvc"]},
        "dev": {
            "targets": ["data/raw-dev.csv.dvc"],
            "build": {"source": "data/raw.csv", "output": "data/raw-dev.csv", "fraction": 0.1, "seed": 0},
        },
    }
    assert written["pipeline"] == {"train": ["prepare", "train"], "evaluate": ["evaluate"], "metrics": ["metrics.json"]}
    assert fits(plain_project) == project.ProjectCheck(
        (), ("datasets.dev.targets[0]: data/raw-dev.csv.dvc is not built yet: run `alops devset build`",)
    )
    ci = yaml.safe_load((plain_project / ".gitlab-ci.yml").read_text())
    assert ci["include"][0]["inputs"] == {
        "dev-dvc-files": ["data/raw-dev.csv.dvc"],
        "full-dvc-files": ["data/raw.csv.dvc"],
        "gate": False,  # the new alops.yaml has no quality.thresholds yet
        "releases": False,  # nor a release section
    }
    jsonschema.validate(ci, gitlab_ci_schema())
    assert result.proposal.advice == ADVICE


def test_following_the_advice_splits_the_pipeline(plain_project: Path) -> None:
    init(plain_project, VERSION)
    shown = ADVICE.split("\n\n")[1]
    prepare = yaml.safe_load(shown)["stages"]["prepare"]
    stages = {
        "prepare": prepare,
        "train": {
            "foreach": ["dev", "full"],
            "do": {
                "cmd": "python train.py ${item}",
                "deps": ["train.py", "data/prepared-${item}"],
                "outs": ["models/model-${item}.pkl"],
            },
        },
        "evaluate": {
            "foreach": ["dev", "full"],
            "do": {
                "cmd": "python evaluate.py ${item}",
                "deps": ["evaluate.py", "models/model-${item}.pkl"],
                "metrics": [{"metrics-${item}.json": {"cache": False}}],
            },
        },
    }
    (plain_project / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    dvc(plain_project, "move", "data/raw.csv", "data/raw-full.csv")
    listed = dvc(plain_project, "stage", "list", "--name-only").split()
    assert listed == ["prepare@dev", "prepare@full", "train@dev", "train@full", "evaluate@dev", "evaluate@full"]
    result = init(plain_project, VERSION, force=True)
    assert result.proposal.advice is None
    written = yaml.safe_load((plain_project / "alops.yaml").read_text())
    assert written["pipeline"] == {
        "train": ["prepare@{dataset}", "train@{dataset}"],
        "evaluate": ["evaluate@{dataset}"],
        "metrics": ["metrics-{dataset}.json"],
    }
    assert written["datasets"]["full"] == {"targets": ["data/raw-full.csv.dvc"]}
    assert written["datasets"]["dev"]["build"]["output"] == "data/raw-dev.csv"
    assert fits(plain_project).problems == ()


def test_hostile_file_names_are_quoted(split_project: Path) -> None:
    shutil.move(split_project / "data/full.dvc", split_project / "data/full: *x #1.dvc")
    init(split_project, VERSION)
    written = yaml.safe_load((split_project / "alops.yaml").read_text())
    assert written["datasets"]["full"]["targets"] == ["data/full: *x #1.dvc"]
    include = yaml.safe_load((split_project / ".gitlab-ci.yml").read_text())["include"]
    assert include[0]["inputs"] == {"full-dvc-files": ["data/full: *x #1.dvc"], "gate": False, "releases": False}
    assert fits(split_project).problems == ()


@pytest.mark.parametrize(
    ("path", "word", "expected"),
    [
        ("data/full", "dev", "data/dev"),
        ("data/full/x.csv", "dev", "data/dev/x.csv"),
        ("data/raw.csv", "dev", "data/raw-dev.csv"),
        ("images", "${item}", "images-${item}"),
        ("data/fullness", "dev", "data/fullness-dev"),
    ],
)
def test_per_dataset_names(path: str, word: str, expected: str) -> None:
    assert per_dataset(path, word) == expected


# --- what is missing ----------------------------------------------------------------------


def test_outside_git(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not in a git repository: run `git init` and `dvc init` there first"):
        init(tmp_path, VERSION)


def test_below_the_top_of_the_repository(split_project: Path) -> None:
    with pytest.raises(ConfigError, match=r"is inside the git repository .*: run `alops init` at its top"):
        init(split_project / "data", VERSION)


def test_git_without_dvc(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(ConfigError, match=r"is not a DVC project \(no .dvc/\): run `dvc init` first"):
        init(tmp_path, VERSION)


def test_no_dvc_yaml(split_project: Path) -> None:
    (split_project / "dvc.yaml").unlink()
    with pytest.raises(ConfigError, match=r"has no dvc.yaml: alops runs your DVC pipeline's stages; add them first"):
        init(split_project, VERSION)


def test_no_dvc_files(split_project: Path) -> None:
    for name in ("full", "dev"):
        (split_project / f"data/{name}.dvc").unlink()
    with pytest.raises(ConfigError, match=r"has no .dvc files: track your data with DVC first \(`dvc add data/full`\)"):
        init(split_project, VERSION)
    assert not (split_project / "alops.yaml").exists()


def test_a_stage_group_alops_cannot_expand_runs_as_a_whole(split_project: Path) -> None:
    text = (
        (split_project / "dvc.yaml")
        .read_text()
        .replace("  train:\n    foreach: [dev, full]", "  train:\n    foreach: ${sets}")
    )
    (split_project / "dvc.yaml").write_text(text)
    (split_project / "params.yaml").write_text("sets: [dev, full]\n" + (split_project / "params.yaml").read_text())
    init(split_project, VERSION)
    written = yaml.safe_load((split_project / "alops.yaml").read_text())
    assert written["pipeline"]["train"] == ["prepare@{dataset}", "train@{dataset}"]  # resolved from params.yaml
    (split_project / "params.yaml").write_text("prepare: {seed: 1}\n")
    init(split_project, VERSION, force=True)
    written = yaml.safe_load((split_project / "alops.yaml").read_text())
    assert written["pipeline"]["train"] == ["prepare@{dataset}", "train"]
    assert fits(split_project).problems == ()


def test_a_project_alops_yaml_cannot_describe_writes_nothing(split_project: Path) -> None:
    text = (split_project / "dvc.yaml").read_text().replace("  train:\n", "  'tr ain':\n")
    (split_project / "dvc.yaml").write_text(text)
    with pytest.raises(
        ConfigError,
        match=r"alops init cannot describe this project in a valid alops.yaml \(nothing was written\): alops.yaml is invalid",
    ):
        init(split_project, VERSION)
    assert not (split_project / "alops.yaml").exists()


def test_dvc_files_that_are_not_named_full_or_dev(split_project: Path) -> None:
    shutil.copy(split_project / "data/full.dvc", split_project / "data/pretrained.dvc")
    init(split_project, VERSION)
    text = (split_project / "alops.yaml").read_text()
    assert "# Not used as a dataset: data/pretrained.dvc\n" in text
    assert yaml.safe_load(text)["datasets"]["full"] == {"targets": ["data/full.dvc"]}


def test_three_unnamed_data_files_are_the_full_set_and_two_key_the_cache(split_project: Path) -> None:
    for name in ("a", "b", "c"):
        shutil.copy(split_project / "data/full.dvc", split_project / f"data/{name}.dvc")
    for name in ("full", "dev"):
        (split_project / f"data/{name}.dvc").unlink()
    init(split_project, VERSION)
    datasets = yaml.safe_load((split_project / "alops.yaml").read_text())["datasets"]
    assert datasets["full"] == {"targets": ["data/a.dvc", "data/b.dvc", "data/c.dvc"]}
    assert datasets["dev"]["targets"] == ["data/dev.dvc"]  # a.dvc tracks data/full: its dev set is data/dev
    ci = (split_project / ".gitlab-ci.yml").read_text()
    assert "      full-dvc-files: [data/a.dvc, data/b.dvc]  # GitLab's cache key takes two files at most\n" in ci


def test_forced_files_agree_with_each_other(split_project: Path) -> None:
    text = init(split_project, VERSION, dry_run=True).proposal.alops_yaml
    (split_project / "alops.yaml").write_text(
        text.replace("version: 1\n", "version: 1\nbranches: {feature: /^feat\\//}\n")
    )
    init(split_project, VERSION)  # keeps alops.yaml: the CI file follows it
    include = yaml.safe_load((split_project / ".gitlab-ci.yml").read_text())["include"]
    assert include[0]["inputs"] == {"feature-branches": "/^feat\\//", "gate": False, "releases": False}
    init(split_project, VERSION, force=True)  # replaces both: the CI file follows the new alops.yaml
    include = yaml.safe_load((split_project / ".gitlab-ci.yml").read_text())["include"]
    assert include[0]["inputs"] == {"gate": False, "releases": False}


def test_a_kept_alops_yaml_with_quality_gates_keeps_the_gate_job(split_project: Path) -> None:
    text = init(split_project, VERSION, dry_run=True).proposal.alops_yaml
    (split_project / "alops.yaml").write_text(text + "quality:\n  thresholds:\n    accuracy: {min: 0.8}\n")
    init(split_project, VERSION)
    include = yaml.safe_load((split_project / ".gitlab-ci.yml").read_text())["include"]
    assert include[0]["inputs"] == {"releases": False}  # no release section yet


def test_a_kept_alops_yaml_with_a_release_section_keeps_the_release_jobs(split_project: Path) -> None:
    text = init(split_project, VERSION, dry_run=True).proposal.alops_yaml
    gates = "quality:\n  thresholds:\n    accuracy: {min: 0.8}\n"
    (split_project / "alops.yaml").write_text(text + gates + "release:\n  model: digits\n")
    init(split_project, VERSION)
    include = yaml.safe_load((split_project / ".gitlab-ci.yml").read_text())["include"]
    assert "inputs" not in include[0]
