"""alops.run: a flow's stages run on real DVC, push or not as the flow says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from alops import dvc
from alops.config import load_config
from alops.errors import ConfigError
from alops.flow import current_plan
from alops.run import in_ci, jobs_to_run, push_decision, read_metrics, run_flow


def _files(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


def _dvc_starts(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The DVC processes started from now on (every program alops runs goes through alops.proc.run)."""
    from alops import proc

    started: list[list[str]] = []
    real = proc.run

    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if "alops.dvc.child" in args or "dvc" in args:
            started.append(list(args))
        return real(args, **kwargs)

    monkeypatch.setattr(proc, "run", run)
    return started


@pytest.mark.slow
def test_the_feature_flow_runs_the_dev_stages_and_pushes_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "checkout", "--quiet", "-b", "feature/x"], cwd=project, check=True)
    config = load_config(project / "alops.yaml")
    plan = current_plan(config, {})
    remote_before = _files(tmp_path / "remote")
    starts = _dvc_starts(monkeypatch)

    result = run_flow(config, plan, quiet=True, env=os.environ)

    assert len(starts) == 1, starts  # pull, repro: one DVC start (the bound: at most two)

    assert (result.role, result.dataset, result.jobs, result.pushed) == ("feature", "dev", ("train", "evaluate"), False)
    assert result.stages == ("prepare@dev", "train@dev", "evaluate@dev")
    assert result.reproduced == result.stages
    assert result.pulled is not None and result.pulled.dataset == "dev"
    assert set(result.timings) == {"pull_s", "repro_s", "push_s"}
    assert result.timings["repro_s"] > 0 and result.timings["push_s"] == 0.0
    assert result.timings["pull_s"] == result.pulled.seconds
    accuracy = json.loads((project / "metrics/dev.json").read_text())["accuracy"]
    assert 0.85 <= accuracy <= 1.0
    assert result.metrics["metrics/dev.json"]["accuracy"] == accuracy
    assert not (project / "data/full").exists() and not (project / "models/full").exists()
    assert _files(tmp_path / "remote") == remote_before

    again = run_flow(config, plan, quiet=True, push=True, env=os.environ)

    assert len(starts) == 2, starts  # pull, repro and push: one DVC start more
    assert again.reproduced == () and again.pushed
    assert again.metrics == result.metrics


@pytest.mark.slow
def test_the_experiment_flow_pushes_in_ci_only_or_when_told_to(
    project: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    remote = tmp_path / "remote"
    config = load_config(project / "alops.yaml")
    plan = current_plan(config, {}, branch="experiment/x")
    assert plan.push
    before = _files(remote)

    local = run_flow(config, plan, jobs=("train",), quiet=True, env=dict(os.environ))  # not in CI: CI unset

    assert (local.stages, local.reproduced, local.pushed) == (("prepare@full", "train@full"),) * 2 + (False,)
    assert local.push_reason == "not in CI: a local run pushes only with --push"
    assert local.metrics == {}  # the evaluate job writes them
    assert _files(remote) == before, "a local run wrote to the shared remote"

    in_a_job = {**os.environ, "CI": "true", "GITLAB_CI": "true"}
    kept = run_flow(config, plan, jobs=("train",), pull=False, push=False, quiet=True, env=in_a_job)

    assert (kept.pushed, kept.push_reason) == (False, "--no-push")
    assert _files(remote) == before

    pushed = run_flow(config, plan, jobs=("train",), pull=False, quiet=True, env=in_a_job)

    assert (pushed.reproduced, pushed.pushed, pushed.pulled) == ((), True, None)
    assert pushed.push_reason == "the experiment flow pushes in CI"
    new = _files(remote) - before
    assert any(f.startswith("runs/") for f in new), new
    assert any(f.startswith("files/md5/") for f in new), new

    # A fresh clone of the same commit restores the trained stages from the
    # pushed run-cache instead of training again.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(project), str(clone)], check=True)
    shutil.copy(project / ".dvc/config.local", clone / ".dvc/config.local")
    dvc.pull(["data/full.dvc"], cwd=clone, env=os.environ)
    capfd.readouterr()
    dvc.repro(["train@full"], cwd=clone, pull=True, env=os.environ)  # shown, as a job log shows it
    shown = capfd.readouterr()
    assert "Stage 'train@full' is cached - skipping run" in shown.out + shown.err
    assert (clone / "models/full/model.pkl").is_file()


def test_jobs_to_run_keeps_pipeline_order_and_the_flow_s_jobs(template: Path) -> None:
    config = load_config(template / "repo/alops.yaml")
    plan = current_plan(config, {}, branch="feature/x")
    assert jobs_to_run(plan, ("evaluate", "train")) == ("train", "evaluate")
    with pytest.raises(ConfigError, match="unknown job 'deploy': use train or evaluate"):
        jobs_to_run(plan, ("deploy",))
    tag = current_plan(config, {"CI_COMMIT_TAG": "v1.0.0"})
    with pytest.raises(ConfigError, match=r"the tag flow runs no train or evaluate job \(its jobs: plan, validate\)"):
        jobs_to_run(tag, ("train", "evaluate"))


def test_read_metrics_flattens_numbers_and_skips_missing_files(template: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(template / "repo", root, ignore=shutil.ignore_patterns(".dvc", ".git"))
    config = load_config(root / "alops.yaml")
    assert read_metrics(config, "dev", "feature") == {}
    (root / "metrics").mkdir()
    (root / "metrics/dev.json").write_text('{"accuracy": 0.9, "per_class": {"0": 1.0}, "model": "x", "ok": true}')
    assert read_metrics(config, "dev", "feature") == {"metrics/dev.json": {"accuracy": 0.9, "per_class.0": 1.0}}


@pytest.mark.parametrize(
    ("env", "push", "expected"),
    [
        ({}, None, (False, "not in CI: a local run pushes only with --push")),
        ({"CI": "false"}, None, (False, "not in CI: a local run pushes only with --push")),
        ({}, True, (True, "--push")),
        ({"CI": "true"}, None, (True, "the experiment flow pushes in CI")),
        ({"GITLAB_CI": "true"}, None, (True, "the experiment flow pushes in CI")),
        ({"CI": "true"}, False, (False, "--no-push")),
    ],
)
def test_push_decision_local_runs_push_only_when_asked(
    template: Path, env: dict[str, str], push: bool | None, expected: tuple[bool, str]
) -> None:
    config = load_config(template / "repo/alops.yaml")
    assert push_decision(current_plan(config, {}, branch="experiment/x"), push, env) == expected
    feature = current_plan(config, {}, branch="feature/x")
    assert push_decision(feature, None, {"CI": "true"}) == (False, "the feature flow does not push in CI")
    assert in_ci({"CI": "1"}) and not in_ci({"CI": ""})
