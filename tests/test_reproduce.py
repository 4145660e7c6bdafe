"""alops.reproduce: the manifest from a pipeline's artifacts, the metrics compared, the worktree's cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from responses import matchers

from alops import reproduce
from alops.errors import DataError

TOKEN = "glpat-" + "t0k3n" * 4
API = "https://gitlab.example.com/api/v4/projects/group%2Fsub%2Fproj"
URL = "https://gitlab.example.com/group/sub/proj/-/pipelines/123"
ENV = {"ALOPS_GITLAB_TOKEN": TOKEN}
MANIFEST = {"alops_manifest": 1, "commit": "a" * 40, "metrics": {"metrics/full.json": {"accuracy": 0.9}}}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def jobs(api: responses.RequestsMock, listed: list[dict[str, object]]) -> None:
    api.get(
        f"{API}/pipelines/123/jobs",
        json=listed,
        match=[matchers.header_matcher({"PRIVATE-TOKEN": TOKEN}), matchers.query_param_matcher({}, strict_match=False)],
    )


def test_the_manifest_comes_from_the_run_job_first(api: responses.RequestsMock) -> None:
    jobs(
        api,
        [
            {"id": 10, "name": "alops-plan", "artifacts_file": {"filename": "artifacts.zip"}},
            {"id": 11, "name": "alops-evaluate-gpu"},
            {"id": 12, "name": "alops-run"},
            {"id": 13, "name": "alops-gate"},
        ],
    )
    api.get(f"{API}/jobs/12/artifacts/alops-manifest.json", status=404, json={"message": "404 Not Found"})
    api.get(f"{API}/jobs/11/artifacts/alops-manifest.json", body=json.dumps(MANIFEST).encode())

    manifest, where = reproduce.obtain(URL, ENV)

    assert manifest["commit"] == "a" * 40
    assert where == f"job alops-evaluate-gpu (11) of {URL}"


def test_a_pipeline_without_a_manifest(api: responses.RequestsMock) -> None:
    jobs(api, [{"id": 10, "name": "alops-plan"}, {"id": 12, "name": "alops-run-gpu"}])
    api.get(f"{API}/jobs/12/artifacts/alops-manifest.json", status=404, json={"message": "404 Not Found"})
    with pytest.raises(DataError) as info:
        reproduce.obtain(URL, ENV)
    assert str(info.value).startswith(
        f"no job of {URL} has alops-manifest.json in its artifacts (jobs: alops-run-gpu, alops-plan): "
    )


def test_a_corrupt_manifest_in_the_artifacts_names_the_job(api: responses.RequestsMock) -> None:
    jobs(api, [{"id": 12, "name": "alops-run-gpu"}])
    api.get(f"{API}/jobs/12/artifacts/alops-manifest.json", body=b"<html>")
    with pytest.raises(DataError, match=rf"^job alops-run-gpu \(12\) of {URL} is not a run manifest: not JSON"):
        reproduce.obtain(URL, ENV)


def test_a_refused_token_is_not_shown(api: responses.RequestsMock) -> None:
    api.get(f"{API}/pipelines/123/jobs", status=401, json={"message": f"401 Unauthorized {TOKEN}"})
    with pytest.raises(DataError) as info:
        reproduce.obtain(URL, ENV)
    assert "GitLab refused to list the jobs of pipeline 123 of group/sub/proj (401" in str(info.value)
    assert TOKEN not in str(info.value)


def test_a_server_under_a_path_is_the_configured_one(api: responses.RequestsMock) -> None:
    api.get(
        "https://example.com/gitlab/api/v4/projects/g%2Fp/pipelines/5/jobs",
        json=[{"id": 1, "name": "x-run"}],
        match=[matchers.query_param_matcher({}, strict_match=False)],
    )
    api.get("https://example.com/gitlab/api/v4/projects/g%2Fp/jobs/1/artifacts/alops-manifest.json", json=MANIFEST)
    env = {**ENV, "ALOPS_GITLAB_URL": "https://example.com/gitlab"}
    manifest, _ = reproduce.obtain("https://example.com/gitlab/g/p/-/pipelines/5", env)
    assert manifest["metrics"] == MANIFEST["metrics"]


def test_a_path_is_read_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(MANIFEST))
    assert reproduce.obtain(str(path), {}) == (reproduce.manifests.load(path), str(path))


def test_compare_metrics_is_exact_unless_told() -> None:
    before = {"m.json": {"accuracy": 0.9, "f1": 0.8, "gone": 1.0}}
    after = {"m.json": {"accuracy": 0.9, "f1": 0.8000001, "new": 2.0}}
    rows = reproduce.compare_metrics(before, after, 0.0)
    assert [(r.metric, r.manifest, r.rerun, r.same) for r in rows] == [
        ("accuracy", 0.9, 0.9, True),
        ("f1", 0.8, 0.8000001, False),
        ("gone", 1.0, None, False),
        ("new", None, 2.0, False),
    ]
    assert [r.same for r in reproduce.compare_metrics(before, after, 1e-6)][:2] == [True, True]
    nan = float("nan")
    assert reproduce.compare_metrics({"m": {"x": nan}}, {"m": {"x": nan}}, 0.0)[0].same


def test_share_objects_links_the_objects_but_not_the_run_cache(tmp_path: Path) -> None:
    main = tmp_path / "main" / ".dvc" / "cache"
    (main / "runs" / "ab").mkdir(parents=True)
    tree = tmp_path / "tree"
    cache = reproduce.share_objects(main, tree)
    assert cache == tree / ".dvc" / "cache"
    assert (cache / "files").resolve() == (main / "files").resolve()
    assert not (cache / "runs").exists()
    (cache / "files" / "obj").write_text("x")
    assert (main / "files" / "obj").read_text() == "x"


def test_result_reproduced_only_without_differences() -> None:
    same = reproduce.Row("m", "a", 1.0, 1.0, True)
    output = reproduce.DataCheck("models/dev", "x", "y", input=False)
    data = reproduce.DataCheck("data/dev", "x", "y", input=True)
    result = reproduce.Result("m.json", "a" * 40, ("s",), (same,), (output,), (), (), None)
    assert result.reproduced, "an output that differs byte-wise while the metrics agree reproduces"
    assert not reproduce.Result("m.json", "a" * 40, ("s",), (same,), (data,), (), (), None).reproduced
    assert not reproduce.Result("m.json", "a" * 40, ("s",), (same,), (), ("params.yaml: train.C",), (), None).reproduced
