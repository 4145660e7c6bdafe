"""``alops run``: the stages of a flow, run here on a real clone of the example project."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops import manifest
from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA


def invoke(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(project / "alops.yaml"), "run", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_run_the_flow_of_the_checked_out_branch_then_again(project: Path) -> None:
    subprocess.run(["git", "checkout", "--quiet", "-b", "feature/x"], cwd=project, check=True)

    code, out, err = invoke(project)

    assert (code, err) == (0, "")
    # DVC's own output (streamed, redacted) comes between alops's first line and its summary
    lines = [out.splitlines()[0], *out.splitlines()[-7:]]
    assert "Running stage 'train@dev'" in out
    assert (
        lines[0]
        == r"Running the feature flow (branch 'feature/x' matches /^feature\//) on the dev dataset, ref 'feature/x'"
    )
    assert re.fullmatch(
        r"data     dev: data/dev\.dvc pulled from the default DVC remote \(2 files, \d+\.\d s\)", lines[1]
    )
    assert lines[2:5] == [
        "stages   prepare@dev → train@dev → evaluate@dev",
        "updated  prepare@dev, train@dev, evaluate@dev (run, or restored from the run-cache)",
        "push     no (not in CI: a local run pushes only with --push)",
    ]
    metrics = json.loads((project / "metrics/dev.json").read_text())
    assert 0.85 <= metrics["accuracy"] <= 1.0
    assert lines[5].startswith(f"metrics  metrics/dev.json: accuracy {metrics['accuracy']:.4g}, f1_macro ")
    assert re.fullmatch(r"time     \d+\.\d s", lines[6])
    assert lines[7] == f"manifest {project / 'alops-manifest.json'}"
    written = manifest.load(project / "alops-manifest.json")
    assert written["metrics"] == {"metrics/dev.json": metrics}
    assert (written["ref"], written["role"], written["dataset"], written["set"]) == ("feature/x", "feature", "dev", {})
    assert written["stages"] == ["prepare@dev", "train@dev", "evaluate@dev"]
    assert written["dirty"] is False, "dvc.lock and the metrics file are the run's outputs, not changes"

    code, out, err = invoke(project, "--job", "evaluate", "--no-pull")

    assert (code, err) == (0, "")
    assert out.splitlines()[-7:-4] == [
        "data     dev: not pulled (--no-pull), using the workspace",
        "stages   evaluate@dev",
        "updated  none: every stage was up to date",
    ]


def test_a_dataset_remote_that_does_not_exist(project: Path) -> None:
    path = project / "alops.yaml"
    path.write_text(path.read_text().replace("targets: [data/dev.dvc]", "targets: [data/dev.dvc]\n    remote: nope"))
    code, out, err = invoke(project, "--flow", "feature")
    assert code == EXIT_DATA
    assert out == "Running the feature flow (chosen with --flow) on the dev dataset, ref 'main'\n"
    assert err == (
        "Error: DVC remote `nope` is not configured: run `dvc remote add nope s3://…` "
        "(or name a configured remote in alops.yaml, datasets.<name>.remote)\n"
    )


def test_a_flow_without_training_is_refused(project: Path) -> None:
    code, out, err = invoke(project, "--flow", "tag", "--no-pull")
    assert code == EXIT_CONFIG
    assert err == (
        "Error: the tag flow runs no train or evaluate job (its jobs: plan, validate): choose another flow with --flow\n"
    )


def _files(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_local_experiment_run_pushes_only_with_push(project: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    before = _files(remote)

    code, out, err = invoke(project, "--flow", "experiment", "--job", "train")

    assert (code, err) == (0, ""), err
    assert "push     no (not in CI: a local run pushes only with --push)" in out.splitlines()
    assert _files(remote) == before, "a local run wrote to the remote every pipeline shares"

    code, out, err = invoke(project, "--flow", "experiment", "--job", "train", "--no-pull", "--push")

    assert (code, err) == (0, ""), err
    assert "push     outputs and run-cache pushed to the DVC remote (--push)" in out.splitlines()
    new = _files(remote) - before
    assert any(f.startswith("runs/") for f in new) and any(f.startswith("files/md5/") for f in new), new


def test_the_help_says_when_a_run_pushes(project: Path) -> None:
    code, out, _ = invoke(project, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "--push / --no-push" in text
    assert (
        "Default: in CI (CI or GITLAB_CI set) as the flow's role says; anywhere else nothing is pushed unless "
        "--push is given." in text
    )


@pytest.mark.slow
def test_set_changes_a_parameter_for_the_run_and_the_manifest_records_it(project: Path, tmp_path: Path) -> None:
    before = (project / "params.yaml").read_text()
    target = tmp_path / "m.json"

    code, out, err = invoke(project, "--flow", "feature", "--set", "train.C=0.1", "--manifest", str(target))

    assert (code, err) == (0, ""), err
    assert out.splitlines()[1] == "Set train.C=0.1 in params.yaml"
    assert out.splitlines()[-1] == f"manifest {target}"
    after = (project / "params.yaml").read_text()
    assert after == before.replace("  C: 1.0\n", "  C: 0.1\n"), "only the value changed: comments and order kept"
    written = manifest.load(target)
    assert written["set"] == {"train.C": 0.1}
    assert written["params"]["params.yaml"]["train.C"] == 0.1
    assert written["dirty"] is False, "a params file that differs by the --set values only is not dirty"
    lock = (project / "dvc.lock").read_text()
    assert "train.C: 0.1" in lock, "the stages ran with the new value"


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (
            "train.C=0.5",
            "Error: --set 'train.C=0.5': 0.5 is not an allowed value of 'train.C' in params.yaml; "
            "allowed ({config}:50): 0.1, 1.0, 10.0\n",
        ),
        ("train.nope=1", "Error: --set 'train.nope=1': params.yaml has no key 'train.nope': set one of "),
        ("train", "Error: --set 'train': give KEY=VALUE, a key of params.yaml such as train.C=0.1\n"),
        ("train=1", "Error: --set 'train=1': 'train' in params.yaml is a dict: set its values one by one\n"),
        ("train.C=[1, 2]", "Error: --set 'train.C=[1, 2]': the value must be a single value"),
        ("train.model=true", "Error: --set 'train.model=true': true is not an allowed value of 'train.model'"),
    ],
)
def test_a_bad_set_is_refused_before_anything_is_pulled_or_changed(project: Path, option: str, said: str) -> None:
    before = (project / "params.yaml").read_text()
    code, out, err = invoke(project, "--flow", "feature", "--set", option)
    assert code == EXIT_CONFIG
    assert out == ""
    assert err.startswith(said.format(config=project / "alops.yaml")), err
    assert (project / "params.yaml").read_text() == before
    assert not (project / "data" / "dev").exists(), "nothing was pulled"
    assert not (project / "alops-manifest.json").exists()
