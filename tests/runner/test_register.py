"""``alops.runner.register``: runners created through POST /user/runners, GitLab faked with ``responses``.

Every request a test expects is registered, with its JSON body or query string
matched, and must be sent; any other request fails the test. A test that
registers no POST proves that nothing was created.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml
from responses import matchers

from alops.errors import ConfigError, DataError, ToolError
from alops.runner import register as runners

API = "https://gitlab.example.com/api/v4"
TOKEN = "glpat-not-a-real-token-0123"
RUNNER_TOKEN = "glrt-not-a-real-runner-token-4567"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": TOKEN}
RUNNERS_YAML = Path(__file__).parents[2] / "runners" / "runners.yaml"
#: What python-gitlab sends for alops's default GPU group runner of group 7.
GPU_BODY = {
    "runner_type": "group_type",
    "group_id": 7,
    "description": "alops-gpu-ml-vision",
    "paused": False,
    "run_untagged": False,
    "tag_list": ["gpu"],
    "access_level": "ref_protected",
    "maximum_timeout": 21600,
}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def gpu(target: str = "ml/vision", scope: str = "group", **kwargs: Any) -> runners.RunnerRequest:
    return runners.request_for("gpu", scope, target, configured_tags=("gpu",), **kwargs)


def details(id: int, request: runners.RunnerRequest, **changes: Any) -> dict[str, Any]:
    """A runner as GET /runners/:id answers."""
    return {
        "id": id,
        "description": request.description,
        "tag_list": list(request.tags),
        "run_untagged": request.run_untagged,
        "access_level": request.access_level,
        "maximum_timeout": request.maximum_timeout,
        "locked": request.locked,
        "paused": False,
        **changes,
    }


def group_lookup(api: responses.RequestsMock, runners_listed: list[dict[str, Any]]) -> None:
    api.get(f"{API}/groups/ml%2Fvision", json={"id": 7, "full_path": "ml/vision"})
    api.get(
        f"{API}/groups/7/runners",
        json=runners_listed,
        match=[matchers.query_param_matcher({"type": "group_type"}), matchers.header_matcher({"PRIVATE-TOKEN": TOKEN})],
    )


def test_creates_a_gpu_group_runner_with_the_exact_body(api: responses.RequestsMock) -> None:
    group_lookup(api, [{"id": 3, "description": "someone's runner", "runner_type": "group_type"}])
    api.post(
        f"{API}/user/runners",
        status=201,
        json={"id": 12, "token": RUNNER_TOKEN, "token_expires_at": None},
        match=[matchers.json_params_matcher(GPU_BODY)],
    )
    done = runners.register(runners.client(ENV), gpu())
    assert done == runners.Registered(12, RUNNER_TOKEN, True)


def test_a_project_runner_is_locked_and_a_numeric_id_needs_no_lookup(api: responses.RequestsMock) -> None:
    request = runners.request_for("cpu", "project", "42", configured_tags=())
    api.get(f"{API}/projects/42/runners", json=[], match=[matchers.query_param_matcher({"type": "project_type"})])
    body = {
        "runner_type": "project_type",
        "project_id": 42,
        "description": "alops-cpu-42",
        "paused": False,
        "run_untagged": True,
        "tag_list": ["docker"],
        "access_level": "not_protected",
        "maximum_timeout": 3600,
        "locked": True,
    }
    api.post(
        f"{API}/user/runners",
        status=201,
        json={"id": 13, "token": RUNNER_TOKEN},
        match=[matchers.json_params_matcher(body)],
    )
    assert runners.register(runners.client(ENV), request) == runners.Registered(13, RUNNER_TOKEN, True)


def test_an_existing_description_is_reported_not_created_again(api: responses.RequestsMock) -> None:
    request = gpu()
    group_lookup(api, [{"id": 9, "description": "alops-gpu-ml-vision"}, {"id": 3, "description": "other"}])
    api.get(f"{API}/runners/9", json=details(9, request))
    assert runners.register(runners.client(ENV), request) == runners.Registered(9, None, False, ())


def test_an_existing_runner_with_other_settings_is_reported_field_by_field(api: responses.RequestsMock) -> None:
    request = gpu()
    group_lookup(
        api, [{"id": 11, "description": "alops-gpu-ml-vision"}, {"id": 9, "description": "alops-gpu-ml-vision"}]
    )
    api.get(
        f"{API}/runners/9",
        json=details(9, request, tag_list=["docker", "gpu"], run_untagged=True, access_level="not_protected"),
    )
    done = runners.register(runners.client(ENV), request)
    assert (done.id, done.created, done.token) == (9, False, None)
    assert done.differences == (
        "tag_list: ['docker', 'gpu'] -> ['gpu']",
        "run_untagged: true -> false",
        "access_level: 'not_protected' -> 'ref_protected'",
        "2 runners have this description: #9, #11",
    )


def test_a_runner_of_an_ancestor_group_or_paused_is_said_so(api: responses.RequestsMock) -> None:
    request = gpu()
    group_lookup(api, [{"id": 9, "description": "alops-gpu-ml-vision"}])
    api.get(f"{API}/runners/9", json=details(9, request, paused=True, groups=[{"id": 2, "name": "ml"}]))
    assert runners.register(runners.client(ENV), request).differences == (
        "paused: true -> false",
        "it belongs to group #2, not to group #7",
    )


def test_an_unknown_group_says_which_option_to_fix(api: responses.RequestsMock) -> None:
    api.get(f"{API}/groups/ml%2Fvision", status=404, json={"message": "404 Group Not Found"})
    with pytest.raises(ConfigError, match=r"group 'ml/vision' was not found: give --group its numeric id or full path"):
        runners.register(runners.client(ENV), gpu())


def test_before_create_runs_after_the_lookups_and_can_stop_the_post(api: responses.RequestsMock) -> None:
    group_lookup(api, [])

    def refuse() -> None:
        raise ConfigError("no room for the token")

    with pytest.raises(ConfigError, match="no room for the token"):
        runners.register(runners.client(ENV), gpu(), before_create=refuse)


def test_a_403_names_the_create_runner_scope_and_the_role(api: responses.RequestsMock) -> None:
    group_lookup(api, [])
    api.post(f"{API}/user/runners", status=403, json={"message": "403 Forbidden"})
    with pytest.raises(DataError) as caught:
        runners.register(runners.client(ENV), gpu())
    message = str(caught.value)
    assert message.startswith("GitLab refused to create the runner 'alops-gpu-ml-vision' in group 'ml/vision' (403:")
    assert "the create_runner and manage_runner scopes" in message and "Owner role of the group" in message
    assert TOKEN not in message


def test_a_401_on_the_lookup_says_the_token_is_refused(api: responses.RequestsMock) -> None:
    api.get(f"{API}/projects/42/runners", status=401, json={"message": "401 Unauthorized"})
    with pytest.raises(DataError, match=r"refused to read the runners of project '42' \(401: .*Maintainer or Owner"):
        runners.register(runners.client(ENV), gpu("42", "project"))


def test_no_gitlab_token_says_what_to_create() -> None:
    with pytest.raises(DataError, match="needs ALOPS_GITLAB_TOKEN: .*create_runner.*a job token cannot create runners"):
        runners.client({"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_TOKEN": "job-token-abcdef"})


def test_defaults_per_kind() -> None:
    assert gpu() == runners.RunnerRequest(
        "gpu", "group", "ml/vision", "alops-gpu-ml-vision", ("gpu",), False, "ref_protected", 21600
    )
    # CPU jobs untagged (runners.cpu empty): the runner takes untagged jobs, tagged like runners.yaml.
    cpu = runners.request_for("cpu", "group", "7", configured_tags=())
    assert (cpu.tags, cpu.run_untagged, cpu.access_level, cpu.maximum_timeout) == (
        ("docker",),
        True,
        "not_protected",
        3600,
    )
    # CPU jobs tagged: the runner takes only those.
    tagged = runners.request_for("cpu", "group", "7", configured_tags=("docker", "big"), protected=True)
    assert (tagged.tags, tagged.run_untagged, tagged.access_level) == (("docker", "big"), False, "ref_protected")
    # --tag replaces alops.yaml's tags; a GPU runner stays off untagged jobs and protected.
    a100 = runners.request_for("gpu", "project", "42", configured_tags=(), tags=("a100", "a100"), maximum_timeout=7200)
    assert (a100.tags, a100.run_untagged, a100.access_level, a100.locked, a100.maximum_timeout) == (
        ("a100",), False, "ref_protected", True, 7200,
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["gpu", "cpu"])
def test_defaults_equal_the_documented_runners_yaml(kind: str) -> None:
    documented = yaml.safe_load(RUNNERS_YAML.read_text())["runners"][f"alops-{kind}-docker"]
    request = runners.request_for(kind, "group", "7", configured_tags=("gpu",) if kind == "gpu" else ())
    assert {
        "runner_type": f"{request.scope}_type",
        "tag_list": list(request.tags),
        "run_untagged": request.run_untagged,
        "access_level": request.access_level,
        "maximum_timeout": request.maximum_timeout,
    } == {k: v for k, v in documented.items() if k != "config"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"description": "gpu\nbox"}, "runner description 'gpu\\\\nbox' is not usable"),
        ({"description": " padded"}, "without leading or trailing spaces"),
        ({"description": "x" * 256}, "1 to 255 printable characters"),
        ({"tags": ("gpu,docker",)}, "holds a comma"),
        ({"tags": ("gpu\x1b[31m",)}, "runner tag 'gpu\\\\x1b\\[31m' is not usable"),
        ({"maximum_timeout": 599}, "below GitLab's minimum of 600 seconds"),
    ],
)
def test_hostile_or_impossible_values_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gpu(**options)


def test_the_host_command_has_no_flag_a_glrt_token_refuses() -> None:
    argv = runners.host_command("https://gitlab.example.com", "docker", "python:3.11", "alops-gpu-ml", gpu=True)
    assert runners.shell_line(argv) == (
        'gitlab-runner register --non-interactive --url https://gitlab.example.com --token "$RUNNER_TOKEN" '
        "--executor docker --docker-image python:3.11 --description alops-gpu-ml --docker-gpus all"
    )
    refused = {"--locked", "--access-level", "--run-untagged", "--maximum-timeout", "--paused", "--tag-list"}
    for executor in runners.EXECUTORS:
        words = runners.host_command("https://g.example", executor, "img", "d", gpu=True)
        assert not refused & {w.split("=")[0] for w in words}
        assert "--registration-token" not in words


def test_the_host_command_quotes_hostile_text_and_never_expands_it() -> None:
    argv = runners.host_command("https://g.example", "docker", "img", "it's $RUNNER_TOKEN `id`", gpu=False)
    line = runners.shell_line(argv)
    assert line.endswith("--description 'it'\"'\"'s $RUNNER_TOKEN `id`'")
    assert line.count('"$RUNNER_TOKEN"') == 1
    named = runners.host_command("https://g.example", "docker", "img", "$RUNNER_TOKEN", gpu=False)
    assert runners.shell_line(named).endswith("--description '$RUNNER_TOKEN'")


def test_kubernetes_gets_the_secret_its_helm_chart_reads() -> None:
    argv = runners.host_command("https://g.example", "kubernetes", "img", "alops-gpu-k8s", gpu=True)
    assert runners.shell_line(argv) == (
        "kubectl -n gitlab-runner create secret generic alops-gpu-k8s --from-literal=runner-registration-token= "
        '--from-literal=runner-token="$RUNNER_TOKEN"'
    )


def test_the_token_file_is_0600_from_the_start_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "gpu.token"
    old = os.umask(0)
    try:
        runners.check_token_file(path)
        runners.write_token_file(path, RUNNER_TOKEN)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == RUNNER_TOKEN + "\n"
    assert [p.name for p in tmp_path.iterdir()] == ["gpu.token"]  # no temporary file left


def test_a_token_file_that_exists_or_cannot_be_written_is_refused(tmp_path: Path) -> None:
    kept = tmp_path / "old.token"
    kept.write_text("glrt-an-older-runner")
    with pytest.raises(ConfigError, match="already exists: it may hold another runner's token"):
        runners.check_token_file(kept)
    (tmp_path / "empty.token").touch()
    runners.check_token_file(tmp_path / "empty.token")  # an empty file holds no token: fine
    with pytest.raises(ToolError, match="cannot write the token into"):
        runners.check_token_file(tmp_path / "missing" / "gpu.token")
