"""Registering a release: against a real ``mlflow server`` on 127.0.0.1, and GitLab's MLflow API through ``responses``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from alops.errors import DataError, ToolError
from alops.release import mlflow as registering
from alops.release import package

from mlflow_server import MlflowServer, closed_port

GITLAB = "https://gitlab.example.com/api/v4/projects/42/ml/mlflow"
API = f"{GITLAB}/api/2.0/mlflow"
FILES = "https://gitlab.example.com/api/v4/projects/42/packages/ml_models/17/files"
TOKEN = "glpat-model-registry-0123"
COMMIT = "a" * 40


def build(tmp_path: Path, version: str = "1.2.0", **manifest: Any) -> tuple[package.Package, dict[str, Any]]:
    from release.test_package import make_manifest, make_project, make_release

    root = tmp_path / "repo"
    if not root.exists():
        make_project(root)
    run = make_manifest(
        params={"params.yaml": {"train.C": 1.0, "train.model": "logreg"}},
        ci={"pipeline_url": "https://gitlab.example.com/g/p/-/pipelines/9", "job_id": "77"},
        **manifest,
    )
    return package.build(root, make_release(), run, version, tmp_path / f"out-{version}"), run


@pytest.fixture(autouse=True)
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's client retries a failed request with backoff (seconds each); the tests need one try."""
    monkeypatch.setattr(registering, "RETRIES", 0)


# --- where to register ---------------------------------------------------------------------------


def test_tracking_prefers_mlflow_variables_then_gitlab_in_ci() -> None:
    assert registering.tracking({}) is None
    assert registering.tracking({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}) == ("http://127.0.0.1:5000", None)
    assert registering.tracking(
        {"MLFLOW_TRACKING_URI": "https://mlflow.example", "MLFLOW_TRACKING_TOKEN": "t", "ALOPS_GITLAB_TOKEN": "x"}
    ) == ("https://mlflow.example", "t")
    ci = {"CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": "job"}
    assert registering.tracking(ci) is None  # the job token cannot use GitLab's MLflow API
    assert registering.tracking(ci | {"ALOPS_GITLAB_TOKEN": TOKEN}) == (GITLAB, TOKEN)


def test_is_gitlab_knows_gitlab_s_mlflow_path() -> None:
    assert registering.is_gitlab(GITLAB)
    assert registering.is_gitlab("http://gl.internal/gitlab/api/v4/projects/grp%2Fproj/ml/mlflow/")
    assert not registering.is_gitlab("http://127.0.0.1:5000")
    assert not registering.is_gitlab("https://gitlab.example.com/api/v4/projects/42/ml/mlflow/extra")


# --- a real mlflow server ------------------------------------------------------------------------


@pytest.fixture
def shell_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A token in the process environment, as a developer's shell could hold one for another server."""
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "shell-token-for-another-server")
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
    yield "shell-token-for-another-server"


@pytest.mark.slow
def test_register_on_a_real_server(mlflow_server: MlflowServer, tmp_path: Path, shell_token: str) -> None:
    from mlflow import MlflowClient

    pkg, run = build(tmp_path)
    got = registering.register(mlflow_server.url, None, pkg, run)
    assert os.environ["MLFLOW_TRACKING_TOKEN"] == shell_token  # put back as it was
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in os.environ
    assert got.name == "digits"
    assert got.url == f"{mlflow_server.url}/#/models/digits/versions/{got.version}"
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    version = client.get_model_version("digits", got.version)
    assert version.tags["gitlab.version"] == "1.2.0"
    assert version.tags["alops.commit"] == COMMIT
    assert version.run_id == got.run_id
    found = client.get_run(got.run_id)
    assert found.data.metrics == {"accuracy": 0.97}
    assert found.data.params == {"train.C": "1.0", "train.model": "logreg"}
    assert found.data.tags["gitlab.CI_JOB_ID"] == "77"
    assert found.data.tags["alops.pipeline_url"] == "https://gitlab.example.com/g/p/-/pipelines/9"
    assert found.info.status == "FINISHED"
    assert client.get_experiment(found.info.experiment_id).name == "digits"
    files = client.list_artifacts(got.run_id)
    assert sorted((f.path, f.is_dir) for f in files) == [
        ("alops-manifest.json", False),
        ("alops-package.json", False),
        ("digits-1.2.0.tar.gz", False),
    ]  # flat: no folders
    fetched = Path(client.download_artifacts(got.run_id, "digits-1.2.0.tar.gz", str(tmp_path / "fetched")))
    assert fetched.read_bytes() == pkg.archive.read_bytes()
    meta = json.loads(
        Path(client.download_artifacts(got.run_id, "alops-package.json", str(tmp_path / "m"))).read_text()
    )
    assert meta == pkg.meta


@pytest.mark.slow
def test_register_again_returns_the_same_version(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    pkg, run = build(tmp_path, "2.0.0")
    first = registering.register(mlflow_server.url, None, pkg, run)
    again = registering.register(mlflow_server.url, None, pkg, run)  # a retried job
    assert again == first
    other_pkg, other_run = build(tmp_path, "2.0.1")
    other = registering.register(mlflow_server.url, None, other_pkg, other_run)
    assert int(other.version) > int(first.version) and other.run_id != first.run_id
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    tagged = [v.tags["gitlab.version"] for v in client.search_model_versions("name = 'digits'")]
    assert tagged.count("2.0.0") == 1 and tagged.count("2.0.1") == 1


def test_an_unreachable_server_is_a_tool_error(tmp_path: Path) -> None:
    pkg, run = build(tmp_path)
    url = closed_port()
    with pytest.raises(
        ToolError, match=rf"^the model registry at {url} failed \(NewConnectionError.*refused.*\): check"
    ):
        registering.register(url, "secret-token-999", pkg, run)
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ


# --- GitLab's MLflow API, through responses -----------------------------------------------------------


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
NOT_FOUND = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Model not found"}
TAGS = [
    {"key": "gitlab.version", "value": "1.2.0"},
    {"key": "alops.commit", "value": COMMIT},
    {"key": "alops.dataset", "value": "full"},
    {"key": "alops.pipeline_url", "value": "https://gitlab.example.com/g/p/-/pipelines/9"},
    {"key": "gitlab.CI_JOB_ID", "value": "77"},
]


def tags() -> list[dict[str, str]]:
    import alops

    return [*TAGS, {"key": "alops.version", "value": alops.__version__}]


def run_answer(complete: bool) -> dict[str, Any]:
    done = [{"key": "alops.complete", "value": "true"}] if complete else []
    return {"run": {"info": {"run_id": "candidate-7", "artifact_uri": f"{FILES}/"}, "data": {"tags": done}}}


def expect_the_run_logged(api: responses.RequestsMock) -> dict[str, bytes]:
    """The requests that fill a GitLab model version's run: values, three flat files, the COMPLETE tag."""
    api.get(
        f"{API}/runs/get",
        json=run_answer(complete=False),
        match=[matchers.query_param_matcher({"run_id": "candidate-7", "run_uuid": "candidate-7"})],
    )
    api.post(
        f"{API}/runs/log-batch",
        json={},
        match=[
            matchers.json_params_matcher(
                {
                    "run_id": "candidate-7",
                    "metrics": [{"key": "accuracy", "value": 0.97, "timestamp": 0, "step": 0}],
                    "tags": tags(),
                }
            )
        ],
    )
    api.post(
        f"{API}/runs/log-batch",
        json={},
        match=[
            matchers.json_params_matcher(
                {
                    "run_id": "candidate-7",
                    "params": [{"key": "train.C", "value": "1.0"}, {"key": "train.model", "value": "logreg"}],
                }
            )
        ],
    )
    uploaded: dict[str, bytes] = {}

    def put(request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body.read() if hasattr(request.body, "read") else request.body
        uploaded[request.url.rsplit("/", 1)[1]] = body
        return 200, {}, "{}"

    for name in ("digits-1.2.0.tar.gz", "alops-package.json", "alops-manifest.json"):
        api.add_callback(responses.PUT, f"{FILES}/{name}", callback=put, match=[AUTH])  # flat: right under files/
    api.post(
        f"{API}/runs/set-tag",
        json={},
        match=[
            matchers.json_params_matcher(
                {"run_id": "candidate-7", "run_uuid": "candidate-7", "key": "alops.complete", "value": "true"}
            )
        ],
    )
    return uploaded


def test_register_on_gitlab_creates_the_version_then_logs_its_run(api: responses.RequestsMock, tmp_path: Path) -> None:
    pkg, run = build(tmp_path)
    api.get(
        f"{API}/registered-models/get",
        status=404,
        json=NOT_FOUND,
        match=[matchers.query_param_matcher({"name": "digits"}), AUTH],
    )
    api.post(
        f"{API}/registered-models/create",
        json={"registered_model": {"name": "digits"}},
        match=[
            matchers.json_params_matcher({"name": "digits", "description": "Released by alops from digits's tags."})
        ],
    )
    api.get(
        f"{API}/model-versions/get",
        status=404,
        json=NOT_FOUND,
        match=[matchers.query_param_matcher({"name": "digits", "version": "1.2.0"}), AUTH],
    )
    created = {
        "name": "digits",
        "source": "",
        "tags": tags(),
        "description": f"digits 1.2.0, trained at {COMMIT}, released by alops.",
    }
    api.post(
        f"{API}/model-versions/create",
        json={"model_version": {"name": "digits", "version": "1.2.0", "run_id": "candidate-7"}},
        match=[matchers.json_params_matcher(created), AUTH],
    )
    uploaded = expect_the_run_logged(api)
    got = registering.register(GITLAB, TOKEN, pkg, run)
    assert got == registering.ModelVersion("digits", "1.2.0", "candidate-7", None)
    assert uploaded["digits-1.2.0.tar.gz"] == pkg.archive.read_bytes()
    assert json.loads(uploaded["alops-package.json"]) == pkg.meta
    assert json.loads(uploaded["alops-manifest.json"])["commit"] == COMMIT
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ


def test_a_complete_version_on_gitlab_is_returned_as_is(api: responses.RequestsMock, tmp_path: Path) -> None:
    pkg, run = build(tmp_path)
    api.get(f"{API}/registered-models/get", json={"registered_model": {"name": "digits"}}, match=[AUTH])
    api.get(
        f"{API}/model-versions/get",
        json={"model_version": {"name": "digits", "version": "1.2.0", "run_id": "candidate-7"}},
        match=[matchers.query_param_matcher({"name": "digits", "version": "1.2.0"})],
    )
    api.get(f"{API}/runs/get", json=run_answer(complete=True))
    assert registering.register(GITLAB, TOKEN, pkg, run).run_id == "candidate-7"  # nothing created, nothing sent


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_says_which_token_gitlab_needs(
    api: responses.RequestsMock, tmp_path: Path, status: int
) -> None:
    pkg, run = build(tmp_path)
    code = "UNAUTHENTICATED" if status == 401 else "PERMISSION_DENIED"
    api.get(f"{API}/registered-models/get", status=status, json={"error_code": code, "message": f"no {TOKEN}"})
    with pytest.raises(DataError) as err:
        registering.register(GITLAB, TOKEN, pkg, run)
    assert str(err.value).startswith(f"the model registry at {GITLAB} refused alops (")
    assert "set ALOPS_GITLAB_TOKEN (or MLFLOW_TRACKING_TOKEN) to a token with the api scope" in str(err.value)
    assert "the CI job token cannot use GitLab's model registry" in str(err.value)
    assert TOKEN not in str(err.value)


def test_no_token_sends_no_authorization_even_with_one_in_the_shell(
    api: responses.RequestsMock, tmp_path: Path, shell_token: str
) -> None:
    pkg, run = build(tmp_path)
    seen: list[str | None] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        seen.append(request.headers.get("Authorization"))
        return 500, {}, json.dumps({"error_code": "INTERNAL_ERROR", "message": "boom"})

    api.add_callback(responses.GET, f"{API}/registered-models/get", callback=answer)
    with pytest.raises(ToolError, match=r"failed \(ResponseError\('too many 500 error responses'\)\): check MLFLOW_TR"):
        registering.register(GITLAB, None, pkg, run)
    assert seen and set(seen) == {None}
    assert os.environ["MLFLOW_TRACKING_TOKEN"] == shell_token


def test_an_incomplete_version_on_gitlab_gets_its_run_logged_again(api: responses.RequestsMock, tmp_path: Path) -> None:
    pkg, run = build(tmp_path)
    api.get(f"{API}/registered-models/get", json={"registered_model": {"name": "digits"}}, match=[AUTH])
    api.get(
        f"{API}/model-versions/get",
        json={"model_version": {"name": "digits", "version": "1.2.0", "run_id": "candidate-7"}},
        match=[matchers.query_param_matcher({"name": "digits", "version": "1.2.0"})],
    )
    uploaded = expect_the_run_logged(api)  # a job killed after create_model_version left it without files
    assert registering.register(GITLAB, TOKEN, pkg, run).version == "1.2.0"
    assert sorted(uploaded) == ["alops-manifest.json", "alops-package.json", "digits-1.2.0.tar.gz"]
