"""Job images by digest, and `alops doctor` first on GPU runners, run by gitlab-ci-local.

The example project with the input job-dockerfile set: a feature branch's whole
pipeline (--shell-isolation) against the GitLab stand-in (tests/gitlab_stub.py),
whose container registry holds the job image's tag. alops-plan resolves it
(`alops image resolve`, job token only) to NAME@sha256:..., alops-job-image has
nothing to build, and alops-run gets that digest as ALOPS_JOB_IMAGE, over the
`image` input its job variable holds. With the tag missing, the plan hands the
build to alops-job-image, which needs BuildKit: there is none here (no user
namespaces, no registry), so it fails, and the run job never starts in another
image. The shell executor runs no image at all and gitlab-ci-local sets no
CI_JOB_IMAGE (the manifest then records none): the test sets it as a runner
does, to the job's image expanded (`$ALOPS_JOB_IMAGE`), which shows which value
won in the job, and that the manifest records the digest.

Then an experiment branch's GPU job on this CPU machine, the doctor not
skipped: it fails with exit code 8 in seconds, before the data pull.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from alops.image.inputs import tag_of

from ci.gitlab_ci_local import (
    DOCTOR_DISABLED,
    GCL,
    SHELL_RUN,
    GitlabCiLocal,
    example_project,
    include_file,
    push,
    skeleton_inputs,
)
from gitlab_stub import GitLabStub
from helpers import isolate

pytestmark = pytest.mark.slow

FEATURE = push("feature", "feature", "feature/job-image")
EXPERIMENT = push("experiment", "experiment", "experiment/no-gpu")
NAME = "registry.example.com/grp/proj/alops-job"
DIGEST = "sha256:" + "5e" * 32
INPUTS = {"job-dockerfile": "Dockerfile", "job-image-inputs": ["dvc.yaml"], "job-image-name": NAME}
JOB_TOKEN = "job-t0ken-of-the-pipeline"
#: A job of the user's that runs in the job image: it extends the hidden job and needs both jobs.
PROBE = """
image-probe:
  extends: .alops-in-job-image
  stage: test
  needs:
    - {job: alops-plan, optional: true}
    - {job: alops-job-image, optional: true}
  script:
    - echo "probe ALOPS_JOB_IMAGE=$ALOPS_JOB_IMAGE CI_JOB_IMAGE=$CI_JOB_IMAGE"
"""
FILES = {
    "Dockerfile": "FROM python:3.11-slim\n",
    ".gitlab-ci.yml": include_file("alops.yml", skeleton_inputs(), extra=PROBE),
}


def _marked(log: str, mark: str) -> set[str]:
    return {line.split()[1] for line in log.splitlines() if line.strip().startswith(mark)}


def _server(gitlab: GitLabStub) -> dict[str, str]:
    # python-gitlab's URL comes from ALOPS_GITLAB_URL, else CI_SERVER_URL (gitlab-ci-local's is the origin's host)
    url = gitlab.api.removesuffix("/api/v4")
    return {"ALOPS_GITLAB_URL": url, "CI_API_V4_URL": gitlab.api, "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": JOB_TOKEN}


def _dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int, GitLabStub]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("job-image")
    with pytest.MonkeyPatch.context() as mp, GitLabStub("42") as gitlab:
        isolate(mp, tmp / "home")
        project = example_project(tmp, FILES)
        tag = tag_of(project, "Dockerfile", ["dvc.yaml"], NAME).tag
        gitlab.state.registry = {f"{NAME}-other": {tag: "sha256:" + "0" * 64}, NAME: {tag: DIGEST}}
        gcl = GitlabCiLocal(project)
        jobs = set(gcl.jobs(FEATURE, inputs=INPUTS))
        alops = {"alops-plan", "alops-job-image", "alops-validate", "alops-run", "alops-gate", "alops-report"}
        assert jobs == {*alops, "image-probe"}
        result = gcl(
            *SHELL_RUN,
            "--no-json-schema-validation",
            scenario=FEATURE,
            inputs=INPUTS,
            # The runner names the job's image in CI_JOB_IMAGE; gitlab-ci-local's shell executor runs none
            # and sets none, so the test sets it as GitLab does: the job's `image:`, expanded.
            variables={**_server(gitlab), "CI_JOB_IMAGE": "$ALOPS_JOB_IMAGE"},
            check=False,
            timeout=600,
        )
    return project, result.stdout + result.stderr, result.returncode, gitlab


def test_the_plan_resolves_the_tag_and_the_run_job_gets_its_digest(
    found: tuple[Path, str, int, GitLabStub],
) -> None:
    project, log, code, _ = found
    assert code == 0, log
    assert _marked(log, "PASS") >= {"alops-plan", "alops-job-image", "alops-run"}, log
    tag = tag_of(project, "Dockerfile", ["dvc.yaml"], NAME)
    assert f"{tag.ref} is built: {NAME}@{DIGEST}" in log, log
    assert f"The job image is in the registry already: {tag.ref}" in log, log  # nothing built
    plan = _dotenv(project / ".gitlab-ci-local/artifacts/alops-plan/.gitlab-ci-reports/dotenv/alops-image.env")
    assert plan == {"ALOPS_JOB_IMAGE": f"{NAME}@{DIGEST}", "ALOPS_JOB_IMAGE_TAG": tag.ref}


def test_the_lookup_used_the_job_token_and_the_registry_api(found: tuple[Path, str, int, GitLabStub]) -> None:
    _, log, _, gitlab = found
    base = "/api/v4/projects/42/registry/repositories"
    # (the gate and the report also ask the stub for the baseline's artifacts)
    calls = [(c.method, c.path, c.job_token, c.private_token) for c in gitlab.state.calls if c.path.startswith(base)]
    tag = re.search(r"deps-[0-9a-f]{16}", log)
    assert tag, log
    assert calls == [("GET", base, JOB_TOKEN, None), ("GET", f"{base}/2/tags/{tag[0]}", JOB_TOKEN, None)]


def test_the_run_job_ran_with_the_digest_and_its_manifest_records_the_job_image(
    found: tuple[Path, str, int, GitLabStub],
) -> None:
    project, log, _, _ = found
    manifest = json.loads((project / ".gitlab-ci-local/artifacts/alops-run/alops-manifest.json").read_text())
    # CI_JOB_IMAGE ($ALOPS_JOB_IMAGE expanded in the job): the plan's dotenv won over the job variable
    assert manifest["environment"]["image"] == f"{NAME}@{DIGEST}", manifest["environment"]
    assert manifest["environment"]["image_digest"] == DIGEST
    # a job of the user's that extends .alops-in-job-image gets the same
    assert f"probe ALOPS_JOB_IMAGE={NAME}@{DIGEST} CI_JOB_IMAGE={NAME}@{DIGEST}" in log, log


@pytest.fixture(scope="module")
def missing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("job-image-missing")
    with pytest.MonkeyPatch.context() as mp, GitLabStub("42") as gitlab:
        isolate(mp, tmp / "home")
        project = example_project(tmp, FILES)
        gitlab.state.registry = {NAME: {"deps-0000000000000000": DIGEST}}  # another tag only
        gcl = GitlabCiLocal(project)
        result = gcl(
            "alops-plan",
            "alops-job-image",
            "alops-run",
            *SHELL_RUN,
            "--no-json-schema-validation",
            scenario=FEATURE,
            inputs=INPUTS,
            variables=_server(gitlab),
            check=False,
            timeout=600,
        )
    return project, result.stdout + result.stderr, result.returncode


def test_a_missing_tag_goes_to_the_build_job_and_nothing_runs_in_another_image(
    missing: tuple[Path, str, int],
) -> None:
    project, log, code = missing
    tag = tag_of(project, "Dockerfile", ["dvc.yaml"], NAME)
    plan = _dotenv(project / ".gitlab-ci-local/artifacts/alops-plan/.gitlab-ci-reports/dotenv/alops-image.env")
    assert plan == {"ALOPS_IMAGE_BUILD": tag.ref, "ALOPS_JOB_IMAGE_TAG": tag.ref}
    # No BuildKit on this machine: the build job fails at buildctl-daemonless.sh, and the run job,
    # which needs it, does not start in the fallback image.
    assert code != 0, log
    assert "PASS  alops-plan" in log and "FAIL  alops-job-image" in log, log
    assert "buildctl-daemonless.sh" in log and "alops data pull" not in log, log


def test_a_gpu_job_on_a_host_without_a_gpu_fails_at_the_doctor_in_seconds(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("doctor")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "home")
        project = example_project(tmp)
        gcl = GitlabCiLocal(project)
        started = time.monotonic()
        # The doctor not skipped (the variable empty): this machine has no GPU.
        result = gcl(
            "alops-run-gpu",
            *SHELL_RUN,
            "--no-json-schema-validation",
            scenario=EXPERIMENT,
            variables={DOCTOR_DISABLED: ""},
            check=False,
            timeout=300,
        )
        took = time.monotonic() - started
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    assert re.search(r"^alops-run-gpu +finished in [\d.]+ m?s +FAIL 8 *$", log, re.MULTILINE), log
    assert "FAIL  gpu" in log and "alops data pull" not in log.split("alops doctor", 1)[1], log
    print(f"GPU job failed at the doctor in {took:.1f} s (gitlab-ci-local start included)")
    assert took < 60, log


def test_gpu_jobs_of_the_other_pipeline_tests_skip_the_doctor_by_name() -> None:
    from ci.gitlab_ci_local import job_env

    assert job_env()[DOCTOR_DISABLED]  # tests/ci/gitlab_ci_local.py: this machine has no GPU
