"""alops.image.registry against GitLab's container registry API faked with ``responses``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses
from responses import matchers

from alops.errors import ConfigError, ToolError
from alops.image.inputs import ImageTag
from alops.image.registry import lookup

API = "https://gitlab.example.com/api/v4"
REPOS = f"{API}/projects/42/registry/repositories"
JOB_TOKEN = "job-token-0123456789abcdef"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_TOKEN": JOB_TOKEN, "CI_PROJECT_ID": "42"}
NAME = "registry.example.com/grp/proj/alops-job"
IMAGE = ImageTag(NAME, "deps-0123456789abcdef", ("Dockerfile",))
DIGEST = "sha256:" + "ab" * 32
#: Every request authenticates with the job token, the way the plan job does.
JOB = matchers.header_matcher({"JOB-TOKEN": JOB_TOKEN})


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def repository(id_: int, location: str) -> dict[str, object]:
    return {"id": id_, "name": location.rsplit("/", 1)[-1], "path": location.split("/", 1)[1], "location": location}


def list_repositories(api: responses.RequestsMock, *pages: list[dict[str, object]]) -> None:
    for n, page in enumerate(pages, start=1):
        headers = {"Link": f'<{REPOS}?page={n + 1}&per_page=2>; rel="next"'} if n < len(pages) else {}
        query = matchers.query_param_matcher({} if n == 1 else {"page": str(n), "per_page": "2"})
        api.get(REPOS, json=page, headers=headers, match=[query, JOB])


def test_a_built_tag_resolves_to_its_digest_on_a_later_page(api: responses.RequestsMock) -> None:
    list_repositories(
        api,
        [repository(1, "registry.example.com/grp/proj"), repository(2, f"{NAME}-gpu")],
        [repository(3, NAME)],
    )
    api.get(
        f"{REPOS}/3/tags/{IMAGE.tag}",
        json={"name": IMAGE.tag, "location": IMAGE.ref, "digest": DIGEST},
        match=[JOB],
    )
    found = lookup(IMAGE, ENV)
    assert (found.digest, found.pinned) == (DIGEST, f"{NAME}@{DIGEST}")


def test_no_repository_of_that_name_means_build_it(api: responses.RequestsMock) -> None:
    list_repositories(api, [repository(2, f"{NAME}-gpu")])
    found = lookup(IMAGE, ENV)
    assert (found.digest, found.pinned) == (None, None)


def test_no_such_tag_means_build_it(api: responses.RequestsMock) -> None:
    list_repositories(api, [repository(3, NAME)])
    api.get(f"{REPOS}/3/tags/{IMAGE.tag}", status=404, json={"message": "404 Tag Not Found"})
    assert lookup(IMAGE, ENV).pinned is None


def test_a_refused_token_is_a_tool_error_with_gitlab_s_answer_and_no_token(api: responses.RequestsMock) -> None:
    api.get(REPOS, status=403, json={"message": "403 Forbidden"})
    with pytest.raises(ToolError) as info:
        lookup(IMAGE, ENV)
    assert info.value.exit_code == 3
    message = str(info.value)
    assert message.startswith("GitLab refused to read the container registry of project 42 (403: 403 Forbidden)")
    assert message.endswith(
        "; for the registry: CI_JOB_TOKEN reads its own project's registry, "
        "a token in ALOPS_GITLAB_TOKEN needs the read_registry or api scope"
    )
    assert JOB_TOKEN not in message


def test_a_refused_tag_read_is_a_tool_error_too(api: responses.RequestsMock) -> None:
    list_repositories(api, [repository(3, NAME)])
    api.get(f"{REPOS}/3/tags/{IMAGE.tag}", status=401, json={"message": "401 Unauthorized"})
    with pytest.raises(ToolError, match=r"^GitLab refused to read the container registry of project 42 \(401"):
        lookup(IMAGE, ENV)


def test_an_unreachable_server_is_a_tool_error(api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gitlab.utils.time.sleep", lambda _: None)  # python-gitlab's backoff, without the minutes
    for _ in range(11):
        api.get(REPOS, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(ToolError, match=r"^GitLab at https://gitlab.example.com cannot be reached \(refused\)"):
        lookup(IMAGE, ENV)


def test_a_digest_that_is_not_sha256_is_refused(api: responses.RequestsMock) -> None:
    list_repositories(api, [repository(3, NAME)])
    api.get(f"{REPOS}/3/tags/{IMAGE.tag}", json={"name": IMAGE.tag, "digest": "sha256:abc\nX=1"})
    with pytest.raises(ToolError, match=r"not sha256:<64 hex>"):
        lookup(IMAGE, ENV)


def test_without_a_project_id_it_says_what_to_set() -> None:
    with pytest.raises(ConfigError, match="^CI_PROJECT_ID is not set"):
        lookup(IMAGE, {k: v for k, v in ENV.items() if k != "CI_PROJECT_ID"})
