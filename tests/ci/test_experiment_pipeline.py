"""An experiment branch's whole pipeline, run by gitlab-ci-local on the example project.

Every job runs as a local shell script in its own copy of the git-tracked files
(--shell-isolation), with its real rules, needs and artifacts: plan, validate,
alops-run-gpu (the full data from the project's committed local DVC remote),
then alops-gate and alops-report. The branch raises the accuracy gate to a
minimum the model cannot reach (a crafted regression): the gate must fail the
pipeline with exit code 6, and the report must still run (`when: always`) and
write its page without any GitLab to post to.

Then a feature branch's whole pipeline with the input `matrix: true` and two
values of one parameter: alops-matrix writes the child pipeline and
alops-matrix-pipeline runs it (`trigger: include: artifact:`), two jobs on the
template's image and the cpu-tags input, each keeping its run's manifest. Job
names are written in tests/test_templates.py.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, commit, example_project, git, push, skeleton_inputs
from helpers import isolate

pytestmark = pytest.mark.slow

EXPERIMENT = push("experiment", "experiment", "experiment/strict-gate")
JOBS = ["alops-plan", "alops-validate", "alops-run-gpu", "alops-gate", "alops-report"]


def _marked(log: str, mark: str) -> set[str]:
    return {line.split()[1] for line in log.splitlines() if line.strip().startswith(mark)}


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("experiment")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "home")
        project = example_project(tmp)
        git(project, "checkout", "-q", "-b", EXPERIMENT.branch)
        config = yaml.safe_load((project / "alops.yaml").read_text())
        config["quality"]["thresholds"]["accuracy"] = {"min": 0.99}  # the digits model reaches about 0.95
        (project / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        git(project, "add", "alops.yaml")
        commit(project, "experiment: a gate the model cannot pass")
        gcl = GitlabCiLocal(project)
        assert sorted(gcl.jobs(EXPERIMENT)) == sorted(JOBS)
        result = gcl(*SHELL_RUN, "--no-json-schema-validation", scenario=EXPERIMENT, check=False, timeout=600)
    return project, result.stdout + result.stderr, result.returncode


def test_the_failed_gate_fails_the_pipeline(ran: tuple[Path, str, int]) -> None:
    _, log, code = ran
    assert code != 0, log
    assert _marked(log, "PASS") == {"alops-plan", "alops-validate", "alops-run-gpu", "alops-report"}, log
    assert _marked(log, "FAIL") == {"alops-gate"}, log
    assert "FAIL  accuracy" in log and "Error: 1 of 1 quality gates failed" in log, log
    # alops.errors: exit code 6, a gate failed (gitlab-ci-local prints a job's exit code after FAIL)
    assert re.search(r"^alops-gate +finished in [\d.]+ m?s +FAIL 6 *$", log, re.MULTILINE), log


def test_the_gate_s_junit_report_names_the_failed_gate(ran: tuple[Path, str, int]) -> None:
    project, log, _ = ran
    # gitlab-ci-local 4.73.0 keeps only dotenv reports as artifacts: read the file in the job's folder
    junit = project / ".gitlab-ci-local" / "builds" / "alops-gate" / "alops-gate.xml"
    root = ET.parse(junit).getroot()
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failures] == ["accuracy min"], log
    assert "misses min 0.99" in str(failures[0].find("failure").get("message"))  # type: ignore[union-attr]
    metrics = (junit.parent / "alops-metrics.txt").read_text()
    assert "accuracy 0.9" in metrics, metrics  # GitLab's metrics report: one `name value` per line


def test_the_run_job_kept_the_manifest(ran: tuple[Path, str, int]) -> None:
    project, _, _ = ran
    manifest = json.loads((project / ".gitlab-ci-local/artifacts/alops-run-gpu/alops-manifest.json").read_text())
    assert (manifest["alops_manifest"], manifest["role"], manifest["dataset"]) == (1, "experiment", "full")
    assert manifest["ref"] == EXPERIMENT.branch
    assert 0.5 < manifest["metrics"]["metrics/full.json"]["accuracy"] < 0.99


def test_the_report_ran_after_the_failed_gate_and_wrote_its_page(ran: tuple[Path, str, int]) -> None:
    project, log, _ = ran
    page = project / ".gitlab-ci-local/artifacts/alops-report/alops-report/index.html"
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") or text.lower().startswith("<!doctype html>"), text[:200]
    assert "accuracy" in text and "0.99" in text
    # the exposed artifact is that one file: nothing else of the report folder came back
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html"]


# --- the matrix: a feature branch's pipeline with `matrix: true`, child pipeline included ----

FEATURE = push("feature", "feature", "feature/params")
#: Two values of one parameter: two child jobs (the skeleton's own parameters.allowed makes 12).
ALLOWED = {"train.C": [0.1, 1.0]}


@pytest.fixture(scope="module")
def matrix_ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "home")
        project = example_project(tmp)
        git(project, "checkout", "-q", "-b", FEATURE.branch)
        config = yaml.safe_load((project / "alops.yaml").read_text())
        config["parameters"]["allowed"] = ALLOWED
        config["parameters"].pop("constraints", None)  # they name the parameters left out
        (project / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        git(project, "add", "alops.yaml")
        commit(project, "feature: try two values of C")
        gcl = GitlabCiLocal(project)
        inputs = {"matrix": True}
        assert {"alops-matrix", "alops-matrix-pipeline"} <= set(gcl.jobs(FEATURE, inputs=inputs))
        result = gcl(
            *SHELL_RUN, "--no-json-schema-validation", scenario=FEATURE, inputs=inputs, check=False, timeout=600
        )
    return project, result.stdout + result.stderr, result.returncode


def test_the_feature_pipeline_ran_the_matrix_as_its_child(matrix_ran: tuple[Path, str, int]) -> None:
    _, log, code = matrix_ran
    assert code == 0, log
    parent = {"alops-plan", "alops-validate", "alops-run", "alops-gate", "alops-report", "alops-matrix"}
    assert parent | {"alops-matrix-pipeline"} <= _marked(log, "PASS"), log
    assert not _marked(log, "FAIL"), log
    for value in ALLOWED["train.C"]:
        assert f"alops run --no-pull --flow feature --set train.C={value}" in log, log


def test_the_child_pipeline_runs_on_the_cpu_runners_with_the_template_s_image(
    matrix_ran: tuple[Path, str, int],
) -> None:
    project, log, _ = matrix_ran
    child = yaml.safe_load((project / ".gitlab-ci-local/artifacts/alops-matrix/alops-matrix.yml").read_text())
    jobs = {name: job for name, job in child.items() if isinstance(job, dict) and "script" in job}
    assert len(jobs) == len(ALLOWED["train.C"]), child
    for name, job in jobs.items():
        assert job["tags"] == skeleton_inputs()["cpu-tags"], name  # ["docker"]: ALOPS_CPU_TAGS, a JSON list
        # the image input, $CI_REGISTRY expanded by the job's shell (gitlab-ci-local sets one)
        assert job["image"].endswith("/mlops/alops:0.1.0") and "$" not in job["image"], name


def test_each_child_job_kept_its_run_s_manifest(matrix_ran: tuple[Path, str, int]) -> None:
    project, log, _ = matrix_ran
    artifacts = project / ".gitlab-ci-local" / "artifacts"
    children = [p for p in artifacts.iterdir() if not p.name.startswith("alops-")]  # gitlab-ci-local encodes names
    manifests = [json.loads((p / "alops-manifest.json").read_text()) for p in children]
    assert sorted(m["set"]["train.C"] for m in manifests) == ALLOWED["train.C"], log
    for m in manifests:
        assert (m["role"], m["dataset"]) == ("feature", "dev")
        assert m["params"]["params.yaml"]["train.C"] == m["set"]["train.C"]
        assert 0.5 < m["metrics"]["metrics/dev.json"]["accuracy"] <= 1
