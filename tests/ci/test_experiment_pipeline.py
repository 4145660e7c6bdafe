"""An experiment branch's whole pipeline, run by gitlab-ci-local on the example project.

Every job runs as a local shell script in its own copy of the git-tracked files
(--shell-isolation), with its real rules, needs and artifacts: plan, validate,
alops-run-gpu (the full data from the project's committed local DVC remote),
then alops-gate and alops-report. The branch raises the accuracy gate to a
minimum the model cannot reach (a crafted regression): the gate must fail the
pipeline with exit code 6, and the report must still run (`when: always`) and
write its page without any GitLab to post to. The matrix job is run by name
(its rules want the matrix input and a feature branch): its child pipeline
must carry the template's image and the cpu-tags input as runner tags. Job
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


def test_the_matrix_job_writes_a_child_pipeline_for_the_cpu_runners(ran: tuple[Path, str, int]) -> None:
    project, _, _ = ran
    gcl = GitlabCiLocal(project)
    feature = push("feature", "feature", "feature/params")
    assert {"alops-matrix", "alops-matrix-pipeline"} <= set(gcl.jobs(feature, inputs={"matrix": True}))
    result = gcl("alops-matrix", *SHELL_RUN, "--no-json-schema-validation", scenario=feature, timeout=300)
    assert "PASS  alops-matrix" in result.stdout, result.stdout
    child = yaml.safe_load((project / ".gitlab-ci-local/artifacts/alops-matrix/alops-matrix.yml").read_text())
    jobs = {name: job for name, job in child.items() if isinstance(job, dict) and "script" in job}
    assert jobs, child
    image = "$CI_REGISTRY/mlops/alops:0.1.0".replace("$CI_REGISTRY", "")  # the shell expands $CI_REGISTRY
    for name, job in jobs.items():
        assert job["tags"] == skeleton_inputs()["cpu-tags"], name  # ["docker"], from ALOPS_CPU_TAGS
        assert str(job["image"]).endswith(image), name
