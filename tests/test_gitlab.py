"""``alops.gitlab`` against GitLab's HTTP API faked with ``responses``, as python-gitlab tests itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses import matchers

from alops import gitlab
from alops.errors import ConfigError, DataError, ToolError

API = "https://gitlab.example.com/api/v4"
MRS = f"{API}/projects/42/merge_requests"
TOKEN = "glpat-not-a-real-token-0123"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": TOKEN}
URL = "https://gitlab.example.com/grp/proj/-/merge_requests/7"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_server_url_precedence() -> None:
    assert gitlab.server_url({"CI_SERVER_URL": "https://a.example/", "CI_API_V4_URL": "https://b.example/api/v4"}) == (
        "https://a.example"
    )
    assert gitlab.server_url({"CI_API_V4_URL": "https://b.example/gitlab/api/v4"}) == "https://b.example/gitlab"
    assert gitlab.server_url({"ALOPS_GITLAB_URL": "https://c.example", "CI_SERVER_URL": "https://a.example"}) == (
        "https://c.example"
    )
    with pytest.raises(ConfigError, match="set ALOPS_GITLAB_URL"):
        gitlab.server_url({})


def test_client_uses_the_project_token_else_the_job_token() -> None:
    client = gitlab.client_from_env(ENV)
    assert (client.url, client.private_token, client.job_token) == ("https://gitlab.example.com", TOKEN, None)
    job = gitlab.client_from_env({"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_TOKEN": "job-token-1"})
    assert (job.private_token, job.job_token) == (None, "job-token-1")


def test_a_missing_token_says_which_variable_to_set_and_how() -> None:
    for env in ({"CI_SERVER_URL": "https://gitlab.example.com"}, {**ENV, "ALOPS_GITLAB_TOKEN": " "}):
        with pytest.raises(DataError) as err:
            gitlab.client_from_env(env)
        assert str(err.value).startswith("ALOPS_GITLAB_TOKEN is not set: create a project access token")
        assert "masked and protected" in str(err.value)
    with pytest.raises(DataError, match="CI_JOB_TOKEN cannot push"):
        gitlab.client_from_env({"CI_SERVER_URL": "https://x.example", "CI_JOB_TOKEN": "j"}, require_write=True)


def test_open_merge_request_creates_one(api: responses.RequestsMock) -> None:
    source, target = "alops/devset-refresh-20250101-abcdef12", "main"
    api.get(
        MRS,
        json=[],
        match=[
            matchers.query_param_matcher({"source_branch": source, "state": "opened"}),
            matchers.header_matcher({"PRIVATE-TOKEN": TOKEN}),
        ],
    )
    body = {
        "source_branch": source,
        "target_branch": target,
        "title": "Refresh",
        "description": "## report",
        "remove_source_branch": True,
    }
    api.post(MRS, status=201, json={"iid": 7, "web_url": URL}, match=[matchers.json_params_matcher(body)])
    client = gitlab.client_from_env(ENV)
    assert (
        gitlab.open_merge_request(client, 42, source=source, target=target, title="Refresh", description="## report")
        == URL
    )


def test_open_merge_request_reuses_an_open_one(api: responses.RequestsMock) -> None:
    api.get(MRS, json=[{"iid": 7, "title": "old", "description": "old", "web_url": URL}])
    api.put(
        f"{MRS}/7",
        json={"iid": 7, "web_url": URL},
        match=[matchers.json_params_matcher({"title": "new", "description": "new report"})],
    )
    client = gitlab.client_from_env(ENV)
    url = gitlab.open_merge_request(client, 42, source="alops/x", target="main", title="new", description="new report")
    assert url == URL


def test_the_project_path_is_url_encoded(api: responses.RequestsMock) -> None:
    api.get(f"{API}/projects/grp%2Fsub%2Fproj/merge_requests", json=[])
    api.post(f"{API}/projects/grp%2Fsub%2Fproj/merge_requests", status=201, json={"iid": 1, "web_url": URL})
    client = gitlab.client_from_env(ENV)
    assert gitlab.open_merge_request(client, "grp/sub/proj", source="a", target="b", title="t", description="d") == URL


HOSTILE = ["main; rm -rf ~", "$(touch pwned)", "`id`", "x\n-o /etc/passwd", "--upload-pack=evil", "'\"|&<>*?"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_only_json_values(api: responses.RequestsMock, name: str, tmp_path: object) -> None:
    api.get(MRS, json=[], match=[matchers.query_param_matcher({"source_branch": name, "state": "opened"})])
    body = {
        "source_branch": name,
        "target_branch": name,
        "title": name,
        "description": name,
        "remove_source_branch": True,
    }
    api.post(MRS, status=201, json={"iid": 1, "web_url": URL}, match=[matchers.json_params_matcher(body)])
    client = gitlab.client_from_env(ENV)
    assert gitlab.open_merge_request(client, 42, source=name, target=name, title=name, description=name) == URL


def test_a_long_description_is_cut_to_what_gitlab_accepts(api: responses.RequestsMock) -> None:
    api.get(MRS, json=[])
    api.post(MRS, status=201, json={"iid": 1, "web_url": URL})
    client = gitlab.client_from_env(ENV)
    gitlab.open_merge_request(client, 42, source="a", target="b", title="t", description="x" * 2_000_000)
    sent = api.calls[1].request.body
    assert isinstance(sent, bytes) and gitlab.MAX_DESCRIPTION - 100 < len(sent) < gitlab.MAX_DESCRIPTION + 200
    assert b"(cut: GitLab keeps at most 1,000,000 characters)" in sent


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (401, DataError, "GitLab refused to open a merge request in project 42 (401: 401 Unauthorized)"),
        (403, DataError, "check that ALOPS_GITLAB_TOKEN is a project access token"),
        (404, ConfigError, "not found"),
        (409, ToolError, "GitLab failed to open a merge request in project 42 (409: "),
    ],
)
def test_api_errors_say_what_to_do_without_the_token(
    api: responses.RequestsMock, status: int, error: type[Exception], text: str
) -> None:
    api.get(MRS, json={"message": f"{status} Unauthorized" if status == 401 else f"bad {TOKEN}"}, status=status)
    client = gitlab.client_from_env(ENV)
    with pytest.raises(error) as err:
        gitlab.open_merge_request(client, 42, source="a", target="b", title="t", description="d")
    assert text in str(err.value) and TOKEN not in str(err.value)


def test_artifact_file_of_a_ref_encodes_the_ref(api: responses.RequestsMock) -> None:
    api.get(
        f"{API}/projects/42/jobs/artifacts/experiment%2Flr/raw/alops-manifest.json",
        body=b'{"alops_manifest": 1}',
        match=[matchers.query_param_matcher({"job": "alops-run-gpu"})],
    )
    client = gitlab.client_from_env(ENV)
    got = gitlab.artifact_file(client, 42, ref="experiment/lr", job="alops-run-gpu", path="alops-manifest.json")
    assert got == b'{"alops_manifest": 1}'
    assert "experiment%2Flr" in api.calls[0].request.url


def test_artifact_file_is_none_when_the_ref_has_no_such_artifact(api: responses.RequestsMock) -> None:
    api.get(f"{API}/projects/42/jobs/artifacts/main/raw/m.json", status=404, json={"message": "404 Not Found"})
    client = gitlab.client_from_env(ENV)
    assert gitlab.artifact_file(client, 42, ref="main", job="j", path="m.json") is None


def test_artifact_file_refused_says_which_token(api: responses.RequestsMock) -> None:
    api.get(f"{API}/projects/42/jobs/artifacts/main/raw/m.json", status=403, json={"message": "403 Forbidden"})
    client = gitlab.client_from_env(ENV)
    with pytest.raises(DataError, match="ALOPS_GITLAB_TOKEN") as info:
        gitlab.artifact_file(client, 42, ref="main", job="j", path="m.json")
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("job_id", [None, 7])
def test_an_unreachable_server_is_a_tool_error_after_python_gitlab_s_retries(
    job_id: int | None, api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import requests

    waits: list[float] = []
    monkeypatch.setattr("gitlab.utils.time.sleep", waits.append)  # python-gitlab's backoff, without the minutes
    refused = requests.exceptions.ConnectionError(f"refused: https://oauth2:{TOKEN}@gitlab.example.com")
    path = "jobs/artifacts/main/raw/m.json" if job_id is None else f"jobs/{job_id}/artifacts/m.json"
    api.get(f"{API}/projects/42/{path}", body=refused)
    client = gitlab.client_from_env(ENV)
    with pytest.raises(ToolError, match=r"^GitLab at https://gitlab.example.com cannot be reached \(refused") as info:
        if job_id is None:
            gitlab.artifact_file(client, 42, ref="main", job="j", path="m.json")
        else:
            gitlab.job_artifact_file(client, 42, job_id, "m.json")
    assert info.value.exit_code == 3
    assert TOKEN not in str(info.value) and "check ALOPS_GITLAB_URL / CI_SERVER_URL and the network" in str(info.value)
    assert len(waits) == 10 and len(api.calls) == 11  # it gave up after python-gitlab's retries, not at the first


def test_job_artifact_file(api: responses.RequestsMock) -> None:
    api.get(f"{API}/projects/42/jobs/7/artifacts/alops-manifest.json", body=b"{}")
    client = gitlab.client_from_env(ENV)
    assert gitlab.job_artifact_file(client, 42, 7, "alops-manifest.json") == b"{}"
