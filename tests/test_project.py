"""alops.yaml against its project: stages and metrics in dvc.yaml, dataset targets, the CI inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alops import dvcyaml, project
from alops.config import load_config
from alops.errors import ConfigError

pytest_plugins = ["dvc_projects"]  # the split_project and plain_project fixtures

CONFIG = """\
version: 1
datasets:
  full:
    targets: [data/full.dvc]
  dev:
    targets: [data/dev.dvc]
pipeline:
  train: ["prepare@{dataset}", "train@{dataset}"]
  evaluate: ["evaluate@{dataset}"]
  metrics: ["metrics/{dataset}.json"]
runners:
  cpu: [docker]
  gpu: [gpu]
"""
STAGES = "prepare@dev, prepare@full, train@dev, train@full, evaluate@dev, evaluate@full"


@pytest.fixture(autouse=True)
def _in_project(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages name alops.yaml as it was given: the tests load it from the project's folder."""
    for name in ("split_project", "plain_project"):
        if name in request.fixturenames:
            monkeypatch.chdir(request.getfixturevalue(name))


def check(root: Path, text: str = CONFIG, env: dict[str, str] | None = None) -> project.ProjectCheck:
    (root / "alops.yaml").write_text(text)
    assert Path.cwd() == root
    return project.check(load_config("alops.yaml"), env or {})


def test_a_config_that_fits_its_project_has_no_problems(split_project: Path) -> None:
    assert check(split_project) == project.ProjectCheck((), ())


def test_a_misspelt_stage_names_the_stages_dvc_would_run_and_the_likely_one(split_project: Path) -> None:
    found = check(split_project, CONFIG.replace('"train@{dataset}"', '"trian@{dataset}"'))
    assert found.problems == (
        "alops.yaml:8: pipeline.train[1]: 'trian@{dataset}' is not a stage of dvc.yaml (as trian@dev, trian@full); "
        f"did you mean 'train@{{dataset}}'? stages there: {STAGES}",
    )


def test_a_stage_only_one_dataset_has_is_reported_for_that_dataset(split_project: Path) -> None:
    text = (
        (split_project / "dvc.yaml")
        .read_text()
        .replace("  evaluate:\n    foreach: [dev, full]", "  evaluate:\n    foreach: [full]")
    )
    (split_project / "dvc.yaml").write_text(text)
    found = check(split_project)
    assert found.problems == (
        "alops.yaml:9: pipeline.evaluate[0]: 'evaluate@{dataset}' is not a stage of dvc.yaml (as evaluate@dev); "
        "did you mean 'evaluate@full'? stages there: prepare@dev, prepare@full, train@dev, train@full, evaluate@full",
    )


def test_the_scoring_stages_are_checked_as_the_al_query_step_runs_them(split_project: Path) -> None:
    """pipeline.score runs on the al role's dataset (full): a stage dvc.yaml lacks is named before any job runs."""
    assert (
        check(split_project, CONFIG.replace("  metrics: [", '  score: ["train@{dataset}"]\n  metrics: [')).problems
        == ()
    )
    found = check(split_project, CONFIG.replace("  metrics: [", '  score: ["zzz@{dataset}"]\n  metrics: ['))
    assert found.problems == (
        "alops.yaml:10: pipeline.score[0]: 'zzz@{dataset}' is not a stage of dvc.yaml (as zzz@full); "
        f"stages there: {STAGES}",
    )


def test_role_placeholders_expand_to_the_roles_that_run_the_job(split_project: Path) -> None:
    found = check(split_project, CONFIG.replace('"evaluate@{dataset}"', '"evaluate@{role}"'))
    assert found.problems[0].startswith(
        "alops.yaml:9: pipeline.evaluate[0]: 'evaluate@{role}' is not a stage of dvc.yaml "
        "(as evaluate@al, evaluate@default, evaluate@experiment, evaluate@feature, evaluate@other, "
        "evaluate@release, evaluate@schedule); "
    )


def test_a_group_name_reproduces_the_whole_group(split_project: Path) -> None:
    assert check(split_project, CONFIG.replace('"prepare@{dataset}", ', '"prepare", ')).problems == ()


def test_metrics_no_evaluate_stage_writes(split_project: Path) -> None:
    found = check(split_project, CONFIG.replace("metrics/{dataset}.json", "metrics/{dataset}.jsn"))
    assert found.problems == (
        "alops.yaml:10: pipeline.metrics[0]: 'metrics/{dataset}.jsn' is not written by the evaluate stages "
        "(as metrics/dev.jsn, metrics/full.jsn); did you mean 'metrics/{dataset}.json'? "
        "evaluate@dev, evaluate@full write: metrics/dev.json, metrics/full.json",
    )


def test_a_metrics_file_of_a_train_stage_says_which_stage_writes_it(split_project: Path) -> None:
    found = check(split_project, CONFIG.replace("metrics/{dataset}.json", "models/{dataset}/scores.json"))
    assert found.problems == (
        "alops.yaml:10: pipeline.metrics[0]: 'models/{dataset}/scores.json' is not written by the evaluate stages "
        "(as models/dev/scores.json, models/full/scores.json); it is an output of train@dev, train@full: "
        "add that stage to pipeline.evaluate; evaluate@dev, evaluate@full write: metrics/dev.json, metrics/full.json",
    )


def test_a_metrics_file_inside_an_output_folder_is_written(split_project: Path) -> None:
    text = CONFIG.replace('"evaluate@{dataset}"', '"train@{dataset}"').replace(
        "metrics/{dataset}.json", "models/{dataset}/m.json"
    )
    assert check(split_project, text).problems == ()


def test_a_fixed_metrics_name_needs_one_flow_that_writes_it(split_project: Path) -> None:
    assert check(split_project, CONFIG.replace("metrics/{dataset}.json", "metrics/full.json")).problems == ()


def test_a_missing_dataset_target_suggests_the_dvc_file_there(split_project: Path) -> None:
    found = check(split_project, CONFIG.replace("[data/full.dvc]", "[data/ful.dvc]"))
    assert found.problems == (
        "alops.yaml:4: datasets.full.targets[0]: data/ful.dvc does not exist: no such .dvc file, and no stage of "
        "dvc.yaml writes it; did you mean 'data/full.dvc'? .dvc files here: data/dev.dvc, data/full.dvc "
        "(track data with `dvc add PATH`)",
    )


@pytest.mark.parametrize("target", ["data/full", "data/prepared/full", "data/prepared/full/train.csv", "train@full"])
def test_a_tracked_path_a_stage_output_or_a_stage_is_a_target(split_project: Path, target: str) -> None:
    assert check(split_project, CONFIG.replace("[data/full.dvc]", f"[{target}]")).problems == ()


def test_a_dev_set_still_to_build_is_a_note(plain_project: Path) -> None:
    text = CONFIG.replace("data/full.dvc", "data/raw.csv.dvc").replace(
        "[data/dev.dvc]", "[data/raw-dev.csv.dvc]\n    build: {source: data/raw.csv, output: data/raw-dev.csv}"
    )
    text = text.replace('["prepare@{dataset}", "train@{dataset}"]', "[prepare, train]")
    text = text.replace('"evaluate@{dataset}"', "evaluate").replace("metrics/{dataset}.json", "metrics.json")
    assert check(plain_project, text) == project.ProjectCheck(
        (), ("datasets.dev.targets[0]: data/raw-dev.csv.dvc is not built yet: run `alops devset build`",)
    )


def test_outside_a_dvc_project_the_targets_are_a_note(split_project: Path) -> None:
    import shutil

    shutil.rmtree(split_project / ".dvc")
    found = check(split_project, CONFIG.replace("[data/full.dvc]", "[data/ful.dvc]"))
    assert found == project.ProjectCheck(
        (), ("the project is not a DVC project (no .dvc/): the datasets' targets were not checked; run `dvc init`",)
    )


def test_no_dvc_yaml(split_project: Path) -> None:
    (split_project / "dvc.yaml").unlink()
    assert check(split_project).problems == (
        "alops.yaml:7: pipeline: there is no dvc.yaml, so no stage can run; add the stages "
        "with `dvc stage add` (or check only this file with --no-project)",
    )


# --- what the CI template passes in --------------------------------------------------------


def test_template_inputs_that_agree_pass(split_project: Path) -> None:
    env = {
        "ALOPS_FEATURE_BRANCHES": "/^feature\\//",
        "ALOPS_CPU_TAGS": ' ["docker"]',  # as GitLab renders an array input inside a string
        "ALOPS_GPU_TAGS": ' ["gpu"]',
    }
    assert check(split_project, env=env).problems == ()


def test_template_inputs_that_disagree_with_alops_yaml(split_project: Path) -> None:
    env = {"ALOPS_FEATURE_BRANCHES": "/^feat\\//", "ALOPS_GPU_TAGS": ' ["gpu-a100"]', "ALOPS_CPU_TAGS": " []"}
    assert check(split_project, env=env).problems == (
        "alops.yaml:1: branches.feature: /^feature\\// here, but the CI template's feature-branches input is "
        "/^feat\\// (ALOPS_FEATURE_BRANCHES); make them equal: in CI the input decides the role, so `alops flow` "
        "elsewhere would disagree",
        'alops.yaml:12: runners.cpu: ["docker"] here, but the CI template\'s cpu-tags input is [] (ALOPS_CPU_TAGS); '
        "make them equal",
        'alops.yaml:13: runners.gpu: ["gpu"] here, but the CI template\'s gpu-tags input is ["gpu-a100"] '
        "(ALOPS_GPU_TAGS); make them equal",
    )


def test_runner_tags_alops_yaml_leaves_unset_are_the_template_s(split_project: Path) -> None:
    text = CONFIG.replace("runners:\n  cpu: [docker]\n  gpu: [gpu]\n", "")
    assert check(split_project, text, {"ALOPS_GPU_TAGS": ' ["gpu-a100"]'}).problems == ()


def test_a_hostile_template_value_is_printed_escaped(split_project: Path) -> None:
    found = check(split_project, env={"ALOPS_AL_BRANCHES": "/^al\\//\x1b[2J", "ALOPS_GPU_TAGS": ' ["gpu;rm -rf"]'})
    assert found.problems == (
        "alops.yaml:1: branches.al: /^al\\// here, but the CI template's al-branches input is '/^al\\\\//\\x1b[2J' "
        "(ALOPS_AL_BRANCHES); make them equal: in CI the input decides the role, so `alops flow` elsewhere would "
        "disagree",
        "alops.yaml:13: runners.gpu: runner tag 'gpu;rm -rf' (from the template's *-tags input) is not allowed: "
        "use letters, digits, '_', '.', ':' and '-' (ALOPS_GPU_TAGS)",
    )


# --- dvc.yaml as DVC reads it ----------------------------------------------------------------

GENERATED = """\
vars:
  - sizes: [s, m]
stages:
  plain:
    cmd: echo
  listed:
    foreach: [dev, full, true, 3]
    do:
      cmd: echo ${item}
      outs:
        - out/${item}
  keyed:
    foreach:
      dev: {n: 1}
      full: {n: 2}
    do:
      cmd: echo ${key} ${item.n}
      outs:
        - k/${key}-${item.n}.txt
  composite:
    foreach: [{a: 1}, {a: 2}]
    do:
      cmd: echo ${item.a}
  grid:
    matrix:
      model: [a, b]
      size: ${sizes}
      opts: [{x: 1}]
    cmd: echo ${item.model}
    outs:
      - g/${item.model}/${item.size}
  from_params:
    foreach: ${datasets}
    do:
      cmd: echo ${item}
  in_sub:
    wdir: sub
    cmd: echo
    outs:
      - ./o/
    plots:
      - p.csv
"""


def test_stage_names_are_the_ones_dvc_lists(split_project: Path) -> None:
    (split_project / "dvc.yaml").write_text(GENERATED)
    (split_project / "params.yaml").write_text("datasets: [dev, full]\n")
    listed = subprocess.run(
        [sys.executable, "-m", "dvc", "stage", "list", "--all", "--name-only"],
        cwd=split_project,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    listed = [n for n in listed if not n.endswith(".dvc")]  # --all lists the .dvc files too
    pipeline = dvcyaml.load(split_project)
    assert pipeline is not None
    assert list(pipeline.names) == listed
    stage = {s.name: s for s in pipeline.stages}
    assert stage["keyed@full"].outs == ("k/full-2.txt",)
    assert stage["grid@b-m-opts0"].outs == ("g/b/m",)
    assert stage["listed@true"].outs == ("out/true",)
    assert stage["from_params@full"].group == "from_params"
    assert stage["in_sub"].outs == ("sub/o", "sub/p.csv") and stage["in_sub"].metrics == ()


def test_a_foreach_alops_cannot_resolve_accepts_any_member(split_project: Path) -> None:
    (split_project / "dvc.yaml").write_text("stages:\n  s:\n    foreach: ${nowhere}\n    do:\n      cmd: echo\n")
    pipeline = dvcyaml.load(split_project)
    assert pipeline is not None and pipeline.open_groups == {"s"}
    assert pipeline.has("s@anything") and not pipeline.has("t@dev")


def test_an_unresolved_part_of_an_output_matches_anything() -> None:
    assert dvcyaml.covers("out/\x00/x", "out/dev/x") and dvcyaml.covers("models", "models/dev/m.pkl")
    assert not dvcyaml.covers("models", "modelsx/a")


def test_a_broken_dvc_yaml_names_its_line(split_project: Path) -> None:
    (split_project / "dvc.yaml").write_text("stages:\n  a: [\n")
    with pytest.raises(ConfigError, match=r"dvc.yaml:3:1: cannot parse YAML"):
        dvcyaml.load(split_project)


def test_dvc_files_are_listed_by_git_without_entering_ignored_data(split_project: Path) -> None:
    (split_project / "data/full/inner.dvc").write_text("outs: []\n")  # inside data DVC tracks: git ignores it
    (split_project / "extra.dvc").write_text("outs: []\n")  # not committed yet: listed
    assert project.dvc_files(split_project) == ["data/dev.dvc", "data/full.dvc", "extra.dvc"]
