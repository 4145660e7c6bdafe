"""The whole feature-branch pipeline of the example project, run twice by gitlab-ci-local.

Every job runs as a local shell script in its own copy of the git-tracked
files (--shell-isolation), with its real rules, needs, cache and artifacts.
The DVC remote is an S3 endpoint (moto's server) behind tests/s3.py's
byte-counting proxy, named in the project's committed .dvc/config; the jobs
get the credentials from the environment, as from masked CI/CD variables. The
second run restores the data from the GitLab cache keyed by data/dev.dvc and
transfers nothing. Pull, train and evaluate are one job (alops-run).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from alops.flow import ci_jobs
from alops.roles import ROLE_DEFAULTS

from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, commit, example_project, git, push
from helpers import isolate
from s3 import BUCKET, S3, CountingProxy, MotoServer, s3_env

pytestmark = pytest.mark.slow

FEATURE = push("feature", "feature", "feature/x")
# feature trains on CPU in one job after the plan: alops-plan, alops-validate, alops-run
# The plan's jobs, then the template's checks after every run (not in the plan, like the devset jobs).
JOBS = sorted([*ci_jobs(ROLE_DEFAULTS["feature"].jobs, "cpu", split=False), "alops-gate", "alops-report"])


def dvc_dir_hash(project: Path, target: str) -> str:
    (out,) = yaml.safe_load((project / target).read_text())["outs"]
    return str(out["md5"])


@dataclass(frozen=True)
class Run:
    log: str
    received: int  # bytes the S3 server sent during the whole pipeline
    sent: int


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer, s3_proxy: CountingProxy
) -> tuple[Path, Run, Run]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "home")
        for key, value in s3_env().items():  # the jobs inherit them, like a project's masked variables
            mp.setenv(key, value)
        moto_server.reset()
        moto_server.client().create_bucket(Bucket=BUCKET)
        s3 = S3(moto_server, s3_proxy)
        project = example_project(tmp)
        (project / ".dvc/config").write_text(s3.remote_config())
        git(project, "add", ".dvc/config")
        commit(project, "DVC remote on S3")
        s3.seed(project / ".dvc/cache")
        done = []
        gcl = GitlabCiLocal(project)
        for _ in range(2):
            s3_proxy.heal()
            s3_proxy.reset_counts()
            result = gcl(*SHELL_RUN, "--no-json-schema-validation", scenario=FEATURE, check=False, timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
            done.append(Run(result.stdout, s3_proxy.received, s3_proxy.sent))
    return project, done[0], done[1]


@pytest.fixture(scope="module")
def pipeline(runs: tuple[Path, Run, Run]) -> tuple[Path, str]:
    """The project and the first run's log; .gitlab-ci-local holds the second run's (identical) jobs."""
    return runs[0], runs[1].log


def test_every_feature_job_ran_and_passed(pipeline: tuple[Path, str]) -> None:
    _, log = pipeline
    passed = sorted(line.split()[1] for line in log.splitlines() if line.strip().startswith("PASS"))
    assert passed == JOBS, log
    assert "FAIL" not in log


def test_the_dev_data_was_pulled_and_the_full_data_not(pipeline: tuple[Path, str]) -> None:
    project, _ = pipeline
    state = project / ".gitlab-ci-local"
    for job in ("alops-run",):
        data = state / "builds" / job / "data"
        assert any((data / "dev").iterdir()), job
        assert not (data / "full").exists(), job
    (key,) = [p.name for p in (state / "cache").iterdir()]
    assert key.startswith("0_alops-dvc-dev-"), "the cache is keyed by data/dev.dvc, not by the branch"
    cache = state / "cache" / key / ".dvc" / "cache" / "files" / "md5"
    dev, full = dvc_dir_hash(project, "data/dev.dvc"), dvc_dir_hash(project, "data/full.dvc")
    assert (cache / dev[:2] / dev[2:]).is_file(), "the run job's pull is in the DVC cache the next pipeline reuses"
    assert not (cache / full[:2] / full[2:]).exists()


def test_the_model_was_trained_and_dev_metrics_written(pipeline: tuple[Path, str]) -> None:
    project, _ = pipeline
    artifacts = project / ".gitlab-ci-local" / "artifacts"
    assert any((artifacts / "alops-run" / "models" / "dev").iterdir())
    lock = yaml.safe_load((artifacts / "alops-run" / "dvc.lock").read_text())
    assert {"prepare@dev", "train@dev", "evaluate@dev"} <= set(lock["stages"])
    metrics = json.loads((artifacts / "alops-run" / "metrics" / "dev.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1
    assert not (artifacts / "alops-run" / "metrics" / "full.json").exists()


def test_the_plan_job_reported_the_feature_flow(pipeline: tuple[Path, str]) -> None:
    project, _ = pipeline
    report = project / ".gitlab-ci-local" / "artifacts" / "alops-plan" / ".gitlab-ci-reports" / "dotenv" / "alops.env"
    values = dict(line.split("=", 1) for line in report.read_text().splitlines())
    assert (values["ALOPS_ROLE"], values["ALOPS_DATASET"], values["ALOPS_RUNNER"]) == ("feature", "dev", "cpu")


# --- what went over the wire ---------------------------------------------------------------


def _data_line(log: str) -> str:
    (line,) = [x for x in log.splitlines() if "alops-run" in x and "pulled dev" in x]
    return line.split("pulled ", 1)[1]


def test_the_first_run_pulls_the_dev_data_once(runs: tuple[Path, Run, Run]) -> None:
    project, first, _ = runs
    line = _data_line(first.log)
    assert re.fullmatch(
        r"dev \(data/dev\.dvc\) from storage: 3 objects, [\d.]+ kB fetched, 0 objects already cached, [\d.]+ s", line
    ), line
    dev_bytes = sum(p.stat().st_size for p in (project / "data/dev").iterdir())
    assert dev_bytes <= first.received < dev_bytes + 100_000, "the dev data, once (train and evaluate reuse it)"
    full_bytes = sum(p.stat().st_size for p in (project / "data/full").iterdir())
    assert first.received < full_bytes


def test_the_second_run_transfers_no_data(runs: tuple[Path, Run, Run]) -> None:
    _, _, second = runs
    passed = sorted(line.split()[1] for line in second.log.splitlines() if line.strip().startswith("PASS"))
    assert passed == JOBS, second.log
    assert re.fullmatch(
        r"dev \(data/dev\.dvc\) from storage: 0 objects, 0 B fetched, 3 objects already cached, [\d.]+ s",
        _data_line(second.log),
    )
    # The pull asked the remote nothing (its 0 B is counted from the cache); the only traffic
    # left is `dvc repro --pull` of `alops run` asking whether the outputs of the run-cache
    # entries it restores are on the remote (a few small listings, no object).
    assert second.received < 8_000 and second.sent < 8_000, (second.received, second.sent)
