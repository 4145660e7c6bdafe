"""The al branch's query job (``alops-al-query``) run by gitlab-ci-local on the example project.

One job, as a local shell script in its own copy of the git-tracked files: it
pulls the full data from the project's committed local DVC remote, runs the
scoring stage (and what it depends on) and writes the batch, which comes back
as the job's artifact. The whole round under gitlab-ci-local (ingest, retrain,
record) is the skeleton's test; the job names are written in tests/test_templates.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, Scenario, example_project
from helpers import isolate

pytestmark = pytest.mark.slow

QUERY = Scenario("al-schedule", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule"})


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("al-query")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "home")
        project = example_project(tmp)
        gcl = GitlabCiLocal(project)
        assert "alops-al-query" in gcl.jobs(QUERY)  # the schedule's own rules pick it
        result = gcl("alops-al-query", *SHELL_RUN, "--no-json-schema-validation", scenario=QUERY, timeout=600)
    return project, result.stdout


def test_the_query_job_scores_the_pool_and_chooses_a_batch(ran: tuple[Path, str]) -> None:
    project, log = ran
    assert "PASS  alops-al-query" in log, log
    assert "Scored the pool: score@full, " in log
    assert "Chose 20 of " in log and " samples by hybrid from scores/full/scores.csv" in log
    batch = project / ".gitlab-ci-local/artifacts/alops-al-query/.alops/al/batch"
    with (batch / "batch.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 20 and len({r["id"] for r in rows}) == 20  # the id column of the scores file
    tasks = json.loads((batch / "tasks.json").read_text())
    assert len(tasks) == 20 and all("sample_id" in t["data"] for t in tasks)


def test_the_query_job_runs_in_the_al_environment(ran: tuple[Path, str]) -> None:
    _, log = ran
    assert "alops-al-query environment: { name: alops/al }" in log
