"""The whole feature-branch pipeline of the example project, run by gitlab-ci-local.

Every job runs as a local shell script in its own copy of the git-tracked
files (--shell-isolation), with its real rules, needs, cache and artifacts; the
DVC remote is a local directory the example project's .dvc/config points at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from alops.roles import ROLE_DEFAULTS

from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, example_project, push
from helpers import isolate

pytestmark = pytest.mark.slow

FEATURE = push("feature", "feature", "feature/x")
JOBS = sorted(f"alops-{job}" for job in ROLE_DEFAULTS["feature"].jobs)  # feature trains on CPU: no -gpu jobs


def dvc_dir_hash(project: Path, target: str) -> str:
    (out,) = yaml.safe_load((project / target).read_text())["outs"]
    return str(out["md5"])


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "home")
        project = example_project(tmp)
        run = GitlabCiLocal(project)
        result = run(*SHELL_RUN, "--no-json-schema-validation", scenario=FEATURE, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return project, result.stdout


def test_every_feature_job_ran_and_passed(pipeline: tuple[Path, str]) -> None:
    _, log = pipeline
    passed = sorted(line.split()[1] for line in log.splitlines() if line.strip().startswith("PASS"))
    assert passed == JOBS, log
    assert "FAIL" not in log


def test_the_dev_data_was_pulled_and_the_full_data_not(pipeline: tuple[Path, str]) -> None:
    project, _ = pipeline
    state = project / ".gitlab-ci-local"
    for job in ("alops-data", "alops-train", "alops-evaluate"):
        data = state / "builds" / job / "data"
        assert any((data / "dev").iterdir()), job
        assert not (data / "full").exists(), job
    cache = state / "cache" / "alops-dvc-feature-x" / ".dvc" / "cache" / "files" / "md5"
    dev, full = dvc_dir_hash(project, "data/dev.dvc"), dvc_dir_hash(project, "data/full.dvc")
    assert (cache / dev[:2] / dev[2:]).is_file(), "the data job's pull is in the DVC cache the train job reuses"
    assert not (cache / full[:2] / full[2:]).exists()


def test_the_model_was_trained_and_dev_metrics_written(pipeline: tuple[Path, str]) -> None:
    project, _ = pipeline
    artifacts = project / ".gitlab-ci-local" / "artifacts"
    assert any((artifacts / "alops-train" / "models" / "dev").iterdir())
    lock = yaml.safe_load((artifacts / "alops-train" / "dvc.lock").read_text())
    assert {"prepare@dev", "train@dev"} <= set(lock["stages"])
    metrics = json.loads((artifacts / "alops-evaluate" / "metrics" / "dev.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1
    assert not (artifacts / "alops-evaluate" / "metrics" / "full.json").exists()


def test_the_plan_job_reported_the_feature_flow(pipeline: tuple[Path, str]) -> None:
    project, _ = pipeline
    report = project / ".gitlab-ci-local" / "artifacts" / "alops-plan" / ".gitlab-ci-reports" / "dotenv" / "alops.env"
    values = dict(line.split("=", 1) for line in report.read_text().splitlines())
    assert (values["ALOPS_ROLE"], values["ALOPS_DATASET"], values["ALOPS_RUNNER"]) == ("feature", "dev", "cpu")
