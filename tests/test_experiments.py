"""``alops.experiments`` against GitLab's HTTP API faked with ``responses``, as python-gitlab tests itself.

Every request a test expects is registered with its exact path (refs encoded)
and query, and must be sent; any other request fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import responses
from responses import matchers

from alops import experiments
from alops.config import Config, load_config
from alops.errors import ConfigError, DataError

API = "https://gitlab.example.com/api/v4/projects/42"
TOKEN = "glpat-not-a-real-token-0123"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": TOKEN}
CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
parameters:
  file: params.yaml
  allowed: {train.C: [0.1, 1.0]}
"""
GATES = """quality:
  thresholds:
    accuracy: {min: 0.5}
    loss: {max: 1.0, better: lower}
"""
SHA = {name: f"{i:x}" * 40 for i, name in enumerate(["main", "experiment/lr", "experiment/forest", "other"], 1)}


def config(tmp_path: Path, text: str = CONFIG + GATES) -> Config:
    (tmp_path / "alops.yaml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "alops.yaml")


def branch(name: str, *, default: bool = False, date: str = "2026-12-01T10:00:00.000+01:00") -> dict[str, Any]:
    sha = SHA.get(name, "e" * 40)
    return {"name": name, "default": default, "commit": {"id": sha, "short_id": sha[:8], "committed_date": date}}


def manifest(ref: str, *, accuracy: float | None = 0.9, loss: float = 0.3, **params: Any) -> bytes:
    """A run manifest as `alops run` writes it (contracts.md), for branch ``ref``."""
    metrics = {"loss": loss} | ({} if accuracy is None else {"accuracy": accuracy})
    doc = {
        "alops_manifest": 1,
        "created": "2026-12-02T05:00:00Z",
        "alops_version": "0.1.0",
        "commit": SHA.get(ref, "e" * 40),
        "ref": ref,
        "dirty": False,
        "role": "experiment",
        "dataset": "full",
        "jobs": ["train", "evaluate"],
        "stages": ["train"],
        "params": {"params.yaml": {"train.model": "logreg", "train.C": 1.0} | params},
        "set": {},
        "metrics": {"metrics/full.json": metrics},
        "data": {
            "data/full": "0123456789abcdef0123456789abcdef.dir",
            "models/full": "fedcba98765432100123456789abcdef",
        },
        "deps": {},
        "environment": None,
        "runner": None,
        "gpu": [],
        "ci": {"pipeline_url": f"https://gitlab.example.com/grp/proj/-/pipelines/{len(ref)}"},
        "timings": None,
        "reproduce": "alops reproduce alops-manifest.json",
    }
    return json.dumps(doc).encode()


def mr(iid: int, source: str, title: str, *, state: str = "opened") -> dict[str, Any]:
    return {
        "iid": iid,
        "title": title,
        "state": state,
        "source_branch": source,
        "project_id": 42,
        "source_project_id": 42,
        "web_url": f"https://gitlab.example.com/grp/proj/-/merge_requests/{iid}",
        "merged_at": "2026-11-30T09:00:00Z" if state == "merged" else None,
    }


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def serve(
    api: responses.RequestsMock,
    branches: list[dict[str, Any]],
    mrs: list[dict[str, Any]],
    manifests: dict[str, bytes | None],
    *,
    merged: list[dict[str, Any]] | None = None,
) -> None:
    """Register the branch list, the merge request list(s) and one artifact request per branch."""
    page = matchers.query_param_matcher({"per_page": "100"})
    api.get(
        f"{API}/repository/branches", json=branches, match=[page, matchers.header_matcher({"PRIVATE-TOKEN": TOKEN})]
    )
    for state, listed in (("opened", mrs), ("merged", merged)):
        if listed is not None:
            query = matchers.query_param_matcher({"state": state, "per_page": "100"})
            api.get(f"{API}/merge_requests", json=listed, match=[query])
    for ref, body in manifests.items():
        url = f"{API}/jobs/artifacts/{quote(ref, safe='')}/raw/alops-manifest.json"
        job = [matchers.query_param_matcher({"job": "alops-run-gpu"})]
        if body is None:
            api.get(url, status=404, json={"message": "404 Not Found"}, match=job)
        else:
            api.get(url, body=body, match=job)


def test_lists_experiment_branches_with_the_default_branch_as_baseline(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    branches = [branch("main", default=True), branch("experiment/lr"), branch("experiment/forest"), branch("other")]
    serve(
        api,
        branches,
        [mr(7, "experiment/lr", "Lower C"), mr(8, "other", "not an experiment")],
        {
            "main": manifest("main", accuracy=0.90),
            "experiment/lr": manifest("experiment/lr", accuracy=0.95, **{"train.C": 0.1}),
            "experiment/forest": manifest("experiment/forest", accuracy=0.80, **{"train.model": "forest"}),
        },
    )
    found = experiments.collect(config(tmp_path), ENV, project="42")
    assert [(r.branch, r.best, r.baseline, r.value) for r in found.rows] == [
        ("experiment/lr", True, False, 0.95),
        ("main", False, True, 0.90),
        ("experiment/forest", False, False, 0.80),
    ]
    lr, main, forest = found.rows
    assert (found.metric, found.better, found.ascending, found.default_branch) == ("accuracy", "higher", False, "main")
    assert lr.merge_request == experiments.MergeRequest(7, "Lower C", "opened", f"{mr(7, 'x', 'y')['web_url']}")
    assert (lr.params, forest.params, main.params) == ({"train.C": 0.1}, {"train.model": "forest"}, {})
    assert lr.data == {"data/full": "0123456789abcdef0123456789abcdef.dir"}  # the dataset's targets only
    assert (lr.commit, lr.when, lr.note) == (SHA["experiment/lr"], "2026-12-02T05:00:00Z", "")
    # The artifacts API got the ref URL-encoded (python-gitlab sends it as given).
    assert any(
        "/jobs/artifacts/experiment%2Flr/raw/alops-manifest.json?job=alops-run-gpu" in c.request.url for c in api.calls
    )


def test_better_lower_puts_the_smallest_first_and_ascending_only_reorders(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    branches = [branch("main", default=True), branch("experiment/lr"), branch("experiment/forest")]
    bodies = {
        "main": manifest("main", loss=0.3),
        "experiment/lr": manifest("experiment/lr", loss=0.2),
        "experiment/forest": manifest("experiment/forest", loss=0.4),
    }
    serve(api, branches, [], bodies)
    found = experiments.collect(config(tmp_path), ENV, project="42", sort="loss")
    assert [(r.branch, r.best) for r in found.rows] == [
        ("experiment/lr", True),
        ("main", False),
        ("experiment/forest", False),
    ]
    assert (found.better, found.ascending) == ("lower", True)
    again = experiments.rank(found.rows, "loss", "lower", False)  # --descending: largest first, the best still marked
    assert [(r.branch, r.best) for r in again] == [
        ("experiment/forest", False),
        ("main", False),
        ("experiment/lr", True),
    ]


def test_a_branch_without_a_manifest_is_listed_last_and_says_so(api: responses.RequestsMock, tmp_path: Path) -> None:
    branches = [branch("main", default=True), branch("experiment/lr"), branch("experiment/forest")]
    serve(
        api,
        branches,
        [],
        {"main": None, "experiment/lr": b"not json", "experiment/forest": manifest("experiment/forest", accuracy=None)},
    )
    found = experiments.collect(config(tmp_path), ENV, project="42")
    # None has the metric: newest first (the manifest's time, else the head commit's), then by name.
    assert [(r.branch, r.value) for r in found.rows] == [
        ("experiment/forest", None),
        ("experiment/lr", None),
        ("main", None),
    ]
    by = {r.branch: r for r in found.rows}
    assert by["main"].note == "no manifest" and by["main"].commit == SHA["main"]
    assert by["experiment/lr"].note.startswith(
        "the alops-manifest.json of job alops-run-gpu on 'experiment/lr' is not a run"
    )
    # No baseline manifest: every parameter of a run counts as differing.
    assert by["experiment/forest"].params == {"train.model": "logreg", "train.C": 1.0}
    assert not any(r.best for r in found.rows)


def test_two_pages_of_branches_are_followed(api: responses.RequestsMock, tmp_path: Path) -> None:
    nxt = f"{API}/repository/branches?page=2&per_page=100"
    api.get(
        f"{API}/repository/branches",
        json=[branch("main", default=True)],
        headers={"Link": f'<{nxt}>; rel="next"', "x-next-page": "2", "x-page": "1", "x-total-pages": "2"},
        match=[matchers.query_param_matcher({"per_page": "100"})],
    )
    api.get(
        f"{API}/repository/branches",
        json=[branch("experiment/lr")],
        headers={"x-page": "2", "x-total-pages": "2"},
        match=[matchers.query_param_matcher({"page": "2", "per_page": "100"})],
    )
    api.get(
        f"{API}/merge_requests", json=[], match=[matchers.query_param_matcher({"state": "opened", "per_page": "100"})]
    )
    for ref in ("main", "experiment%2Flr"):
        api.get(f"{API}/jobs/artifacts/{ref}/raw/alops-manifest.json", status=404, json={"message": "404 Not Found"})
    found = experiments.collect(config(tmp_path), ENV, project="42")
    assert [r.branch for r in found.rows] == ["experiment/lr", "main"]  # the second page's branch is there
    assert len(api.calls) == 5


def test_merged_merge_requests_keep_finished_experiments_visible(api: responses.RequestsMock, tmp_path: Path) -> None:
    branches = [branch("main", default=True), branch("experiment/lr")]
    merged = [
        mr(3, "experiment/old", "Old idea", state="merged"),
        mr(4, "experiment/lr", "earlier try", state="merged"),
    ]
    bodies = {"main": manifest("main"), "experiment/lr": manifest("experiment/lr"), "experiment/old": None}
    serve(api, branches, [mr(9, "experiment/lr", "Now")], bodies, merged=merged)
    found = experiments.collect(config(tmp_path), ENV, project="42", include_merged=True)
    by = {r.branch: r for r in found.rows}
    assert by["experiment/lr"].merge_request is not None and by["experiment/lr"].merge_request.iid == 9  # open wins
    old = by["experiment/old"]
    assert (old.head, old.when, old.merge_request) == (
        None,
        "2026-11-30T09:00:00Z",
        experiments.MergeRequest(3, "Old idea", "merged", mr(3, "x", "y")["web_url"]),
    )


def test_a_fork_s_merge_request_is_not_the_branch_s(api: responses.RequestsMock, tmp_path: Path) -> None:
    fork = mr(5, "experiment/lr", "from a fork") | {"source_project_id": 99}
    serve(api, [branch("experiment/lr")], [fork], {"experiment/lr": None})
    (row,) = experiments.collect(config(tmp_path), ENV, project="42").rows
    assert row.merge_request is None
    assert row.baseline is False


def test_limit_keeps_the_most_recently_committed_branches(api: responses.RequestsMock, tmp_path: Path) -> None:
    branches = [
        branch("main", default=True),
        branch("experiment/lr", date="2026-12-01T10:00:00Z"),
        branch("experiment/forest", date="2026-11-01T10:00:00Z"),
    ]
    serve(api, branches, [], {"main": None, "experiment/lr": None})  # no request for experiment/forest
    found = experiments.collect(config(tmp_path), ENV, project="42", limit=1)
    assert [r.branch for r in found.rows] == ["experiment/lr", "main"]
    assert found.left_out == 1


def test_the_branch_patterns_come_from_alops_yaml_and_the_template(api: responses.RequestsMock, tmp_path: Path) -> None:
    cfg = config(tmp_path, CONFIG + "branches:\n  experiment: /^exp-[0-9]+$/\n")
    serve(api, [branch("exp-12"), branch("experiment/lr"), branch("exp-x")], [], {"exp-12": None})
    assert [r.branch for r in experiments.collect(cfg, ENV, project="42").rows] == ["exp-12"]


def test_a_bad_token_says_what_to_do_and_never_shows_it(api: responses.RequestsMock, tmp_path: Path) -> None:
    api.get(f"{API}/repository/branches", status=401, json={"message": f"401 Unauthorized {TOKEN}"})
    with pytest.raises(DataError, match="check that ALOPS_GITLAB_TOKEN is a project access token") as info:
        experiments.collect(config(tmp_path), ENV, project="42")
    assert TOKEN not in str(info.value)


def test_the_project_comes_from_the_option_else_the_ci_variables() -> None:
    assert experiments.project_id({"CI_PROJECT_ID": "42"}, "grp/proj") == "grp/proj"
    assert experiments.project_id({"CI_PROJECT_ID": "42", "CI_PROJECT_PATH": "grp/proj"}) == "42"
    with pytest.raises(ConfigError, match="pass --project GROUP/NAME"):
        experiments.project_id({})


def test_a_sort_metric_in_two_files_must_name_its_file(tmp_path: Path) -> None:
    from alops.compare import Snapshot

    snap = Snapshot("experiment/x", "artifacts", metrics={"a.json": {"acc": 1.0}, "b.json": {"acc": 0.5}})
    row = experiments.Row("experiment/x", "experiment", snap)
    with pytest.raises(ConfigError, match=r"--sort a.json:acc"):
        experiments.value("acc", row)
    assert experiments.value("b.json:acc", row) == 0.5
    nan = experiments.Row("e", "experiment", Snapshot("e", "artifacts", metrics={"m.json": {"acc": float("nan")}}))
    assert experiments.value("acc", nan) is None  # not a number to rank


def test_without_gates_or_sort_rows_are_newest_first(tmp_path: Path) -> None:
    cfg = config(tmp_path, CONFIG)
    assert experiments.ordering(cfg, None, None) == (None, "higher", False)
    assert experiments.ordering(cfg, "f1", True) == ("f1", "lower", True)
    gated = config(tmp_path)
    assert experiments.ordering(gated, None, None) == ("accuracy", "higher", False)
    assert experiments.ordering(gated, "loss", False) == ("loss", "lower", False)


def test_an_unreachable_server_is_a_tool_error_without_the_token() -> None:
    import requests

    from alops import gitlab
    from alops.errors import ToolError

    client = gitlab.client_from_env(ENV)
    # python-gitlab retries a refused connection with backoff (minutes), so the error is raised here directly.
    with pytest.raises(ToolError, match="cannot be reached") as info, gitlab.reaching(client):
        raise requests.exceptions.ConnectionError(f"refused: https://oauth2:{TOKEN}@gitlab.example.com")
    assert TOKEN not in str(info.value) and "check ALOPS_GITLAB_URL" in str(info.value)


def test_params_only_one_side_has_and_other_files_are_named(api: responses.RequestsMock, tmp_path: Path) -> None:
    base = json.loads(manifest("main", **{"train.seed": 1}))
    run = json.loads(manifest("experiment/lr"))
    run["params"]["extra.yaml"] = {"aug.flip": True}
    serve(
        api,
        [branch("main", default=True), branch("experiment/lr")],
        [],
        {"main": json.dumps(base).encode(), "experiment/lr": json.dumps(run).encode()},
    )
    by = {r.branch: r for r in experiments.collect(config(tmp_path), ENV, project="42").rows}
    assert by["experiment/lr"].params == {"extra.yaml:aug.flip": True, "train.seed": None}


def test_a_job_token_is_told_it_cannot_list_branches(api: responses.RequestsMock, tmp_path: Path) -> None:
    job_env = {"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_TOKEN": "job-token-value-0123"}
    api.get(
        f"{API}/repository/branches",
        status=403,
        json={"message": "403 Forbidden"},
        match=[matchers.header_matcher({"JOB-TOKEN": "job-token-value-0123"})],
    )
    with pytest.raises(DataError, match="a job token cannot; set ALOPS_GITLAB_TOKEN to a project access token") as info:
        experiments.collect(config(tmp_path), job_env, project="42")
    assert "job-token-value" not in str(info.value)


def test_a_manifest_older_than_the_branch_s_head_says_so() -> None:
    from alops.compare import Snapshot

    row = experiments.Row("e", "experiment", Snapshot("e", "artifacts", commit="a" * 40), head="b" * 40)
    assert (row.commit, row.note) == ("a" * 40, "the branch has newer commits (head bbbbbbbb)")
    assert experiments.Row("e", "experiment", Snapshot("e", "artifacts", commit="a" * 40), head="a" * 40).note == ""
