"""A branch's earlier runs, read from its successful pipelines' artifacts (GitLab faked with ``responses``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses
from responses import matchers

from alops import gitlab
from alops.report import history

PROJECT = "https://gitlab.example.com/api/v4/projects/42"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": "t0ken"}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def manifest(accuracy: float) -> bytes:
    return json.dumps({"alops_manifest": 1, "metrics": {"metrics/full.json": {"accuracy": accuracy}}}).encode()


def test_runs_reads_each_pipeline_s_job_manifest_oldest_first(api: responses.RequestsMock) -> None:
    query = {"ref": "experiment/lr", "status": "success", "order_by": "id", "sort": "desc", "per_page": "3"}
    pipelines = [{"id": 30, "web_url": "https://g/p/30"}, {"id": 20}, {"id": 10}]
    api.get(f"{PROJECT}/pipelines", json=pipelines, match=[matchers.query_param_matcher(query)])
    jobs = {
        30: [{"id": 301, "name": "alops-run-gpu"}],
        20: [{"id": 201, "name": "alops-gate"}],
        10: [{"id": 101, "name": "alops-run-gpu"}],
    }
    for pipeline, found in jobs.items():
        api.get(
            f"{PROJECT}/pipelines/{pipeline}/jobs",
            json=found,
            match=[matchers.query_param_matcher({"scope[]": "success"}, strict_match=False)],
        )
    api.get(f"{PROJECT}/jobs/301/artifacts/alops-manifest.json", body=manifest(0.97))
    api.get(f"{PROJECT}/jobs/101/artifacts/alops-manifest.json", body=b"not json")

    runs = history.runs(gitlab.client_from_env(ENV), 42, "experiment/lr", "alops-run-gpu", 3)

    # 20 has no such job; 10's manifest is unreadable: one point, not an error.
    assert [(r.pipeline_id, r.web_url, r.manifest["metrics"]) for r in runs] == [
        (30, "https://g/p/30", {"metrics/full.json": {"accuracy": 0.97}})
    ]
