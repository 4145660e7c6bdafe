"""A release branch's pipeline, then its version tag's, run by gitlab-ci-local on the example project.

The release branch's jobs run for real (--shell-isolation): plan, validate,
alops-run-gpu (the full data from the project's local DVC remote), alops-gate,
then alops-release, which ships to a stand-in of GitLab's API on 127.0.0.1
(tests/gitlab_stub.py: generic packages, tags, Releases) with the job token
only, and registers the model in a real MLflow server on 127.0.0.1. Then the
pipeline of the tag it made: alops-package writes the serving image's build
context from the package it downloads, and alops-deploy-staging serves that
version on 127.0.0.1 and records the GTO stage tag (ALOPS_GITLAB_TOKEN). The
image build (BuildKit) is the one job left out: there is no BuildKit here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, Scenario, commit, example_project, git, push
from gitlab_stub import GitLabStub
from helpers import isolate

pytestmark = pytest.mark.slow

RELEASE = push("release", "release", "release/1.0")
JOBS = ["alops-plan", "alops-validate", "alops-run-gpu", "alops-gate", "alops-release"]
JOB_TOKEN = "job-t0ken-of-the-pipeline"
API_TOKEN = "glpat-" + "deploy" * 4
ALOPS = Path(sys.executable).with_name("alops")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _marked(log: str, mark: str) -> set[str]:
    return {line.split()[1] for line in log.splitlines() if line.strip().startswith(mark)}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory, mlflow_server: Any) -> Any:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("release")
    port = free_port()
    with pytest.MonkeyPatch.context() as mp, GitLabStub("42") as gitlab:
        isolate(mp, tmp / "home")
        project = example_project(tmp)
        git(project, "checkout", "-q", "-b", RELEASE.branch)
        config = yaml.safe_load((project / "alops.yaml").read_text())
        config["release"]["environments"] = {"staging": {"url": f"http://127.0.0.1:{port}", "timeout": 120}}
        (project / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        git(project, "add", "alops.yaml")
        commit(project, "release: staging on a free port")
        gcl = GitlabCiLocal(project)
        assert sorted(gcl.jobs(RELEASE)) == sorted(JOBS)
        server = {
            "ALOPS_GITLAB_URL": gitlab.api.removesuffix("/api/v4"),
            "CI_API_V4_URL": gitlab.api,
            "CI_PROJECT_ID": "42",
            "CI_PROJECT_URL": "http://gitlab.test/grp/proj",
        }
        released = gcl(
            *SHELL_RUN,
            "--no-json-schema-validation",
            scenario=RELEASE,
            variables={**server, "CI_JOB_TOKEN": JOB_TOKEN, "MLFLOW_TRACKING_URI": mlflow_server.url},
            check=False,
            timeout=600,
        )
        release_calls = list(gitlab.state.calls)
        # The tag the release made, in the clone as GitLab's would have it: its pipeline is the next one.
        tag = next(iter(gitlab.state.releases), {}).get("tag_name", "none")
        tagged = Scenario(
            "version-tag",
            "tag",
            RELEASE.branch,
            {"CI_COMMIT_TAG": tag, "CI_COMMIT_REF_NAME": tag, "CI_COMMIT_REF_SLUG": "digits-v1-0-0"},
            unset=("CI_COMMIT_BRANCH",),
        )
        deployed = gcl(
            *SHELL_RUN,
            "--no-json-schema-validation",
            "alops-package",
            "alops-deploy-staging",
            scenario=tagged,
            variables={**server, "CI_JOB_TOKEN": JOB_TOKEN, "ALOPS_GITLAB_TOKEN": API_TOKEN},
            check=False,
            timeout=600,
        )
        state = gitlab.state
        answered = None
        try:
            body = json.dumps({"instances": [[0.0] * 64]}).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/digits:predict", data=body)
            with urllib.request.urlopen(request, timeout=10) as reply:
                answered = json.load(reply)
        except OSError as exc:
            answered = {"error": str(exc)}
        finally:
            build = project / ".gitlab-ci-local/builds/alops-deploy-staging"
            if build.is_dir():  # stop the service the deploy left running
                stop = [str(ALOPS), "-c", str(build / "alops.yaml"), "deploy", "--environment", "staging", "--stop"]
                subprocess.run(stop, cwd=build, check=False, capture_output=True)
    return project, released, release_calls, deployed, state, answered, mlflow_server


def test_the_release_branch_pipeline_ships_after_the_gate(shipped: Any) -> None:
    _, released, _, _, state, _, _ = shipped
    log = released.stdout + released.stderr
    assert released.returncode == 0, log
    assert _marked(log, "PASS") == set(JOBS), log
    assert "released digits 1.0.0: tag digits@v1.0.0" in log, log
    (release,) = state.releases
    assert release["tag_name"] == "digits@v1.0.0"
    assert release["tag_message"] == "Registering artifact digits version v1.0.0"
    assert "### Quality gate: passed" in release["description"]
    assert [link["name"] for link in release["assets"]["links"]][:2] == ["digits-1.0.0.tar.gz", "alops-manifest.json"]


def test_the_release_used_the_job_token_only(shipped: Any) -> None:
    _, _, calls, _, _, _, _ = shipped
    assert calls, "no request reached the stub"
    assert {c.job_token for c in calls} == {JOB_TOKEN}
    assert {c.private_token for c in calls} == {None}
    assert ("PUT", "/api/v4/projects/42/packages/generic/digits/1.0.0/digits-1.0.0.tar.gz") in {
        (c.method, c.path) for c in calls
    }


def test_the_model_is_in_the_mlflow_registry(shipped: Any) -> None:
    *_, server = shipped
    with urllib.request.urlopen(f"{server.url}/api/2.0/mlflow/registered-models/get?name=digits", timeout=30) as r:
        model = json.load(r)["registered_model"]
    (latest,) = model["latest_versions"]
    assert {t["key"]: t["value"] for t in latest.get("tags", [])}["gitlab.version"] == "1.0.0"


def test_the_tag_pipeline_deploys_the_version_and_records_the_stage(shipped: Any) -> None:
    project, _, _, deployed, state, answered, _ = shipped
    log = deployed.stdout + deployed.stderr
    assert deployed.returncode == 0, log
    assert _marked(log, "PASS") == {"alops-package", "alops-deploy-staging"}, log
    context = project / ".gitlab-ci-local/builds/alops-package/alops-serve"
    assert (context / "Dockerfile").is_file(), log
    assert answered is not None and answered.get("version") == "1.0.0", answered
    assert isinstance(answered["predictions"][0], int)
    stage = {name: t for name, t in state.tags.items() if "#" in name}
    assert list(stage) == ["digits#staging#1"], state.tags
    assert stage["digits#staging#1"]["commit"] == state.tags["digits@v1.0.0"]["commit"]
