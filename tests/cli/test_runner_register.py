"""``alops runner register`` end to end: GitLab faked with ``responses``, exact output, exit codes, the token kept secret."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from responses import matchers

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_TOOL

API = "https://gitlab.example.com/api/v4"
TOKEN = "glpat-not-a-real-token-0123"
RUNNER_TOKEN = "glrt-not-a-real-runner-token-4567"
CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
runners:
  gpu: [a100]
"""
HOST = (
    "on the runner host, with RUNNER_TOKEN holding the token:\n"
    '  gitlab-runner register --non-interactive --url https://gitlab.example.com --token "$RUNNER_TOKEN" '
    "--executor docker --docker-image python:3.11.13-slim-bookworm --description alops-gpu-ml-vision "
    "--docker-gpus all\n"
)


@pytest.fixture(autouse=True)
def gitlab_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CI_SERVER_URL", "https://gitlab.example.com")
    monkeypatch.setenv("ALOPS_GITLAB_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)  # no alops.yaml unless a test writes one


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["runner", "register", *args])
    return result.exit_code, result.stdout, result.stderr


def group_lookup(api: responses.RequestsMock, listed: list[dict[str, object]]) -> None:
    api.get(f"{API}/groups/ml%2Fvision", json={"id": 7})
    api.get(f"{API}/groups/7/runners", json=listed, match=[matchers.query_param_matcher({"type": "group_type"})])


def created(api: responses.RequestsMock, tags: list[str]) -> None:
    body = {
        "runner_type": "group_type",
        "group_id": 7,
        "description": "alops-gpu-ml-vision",
        "paused": False,
        "run_untagged": False,
        "tag_list": tags,
        "access_level": "ref_protected",
        "maximum_timeout": 21600,
    }
    api.post(
        f"{API}/user/runners",
        status=201,
        json={"id": 12, "token": RUNNER_TOKEN, "token_expires_at": None},
        match=[matchers.json_params_matcher(body)],
    )


def test_creates_keeps_the_token_in_a_0600_file_and_a_rerun_creates_nothing(
    api: responses.RequestsMock, tmp_path: Path
) -> None:
    (tmp_path / "alops.yaml").write_text(CONFIG)
    group_lookup(api, [])
    created(api, ["a100"])  # alops.yaml's runners.gpu
    code, out, err = invoke("--kind", "gpu", "--group", "ml/vision", "--token-file", "gpu.token")
    assert (code, err) == (0, "")
    assert out == (
        "created runner #12 'alops-gpu-ml-vision' in group 'ml/vision': tags ['a100'], untagged jobs no, "
        "protected refs only, maximum timeout 21600 s\n"
        "its token is in 'gpu.token' (mode 0600); GitLab will not show it again\n" + HOST
    )
    assert (tmp_path / "gpu.token").read_text() == RUNNER_TOKEN + "\n"
    assert stat.S_IMODE((tmp_path / "gpu.token").stat().st_mode) == 0o600

    api.reset()
    group_lookup(api, [{"id": 12, "description": "alops-gpu-ml-vision"}])
    api.get(
        f"{API}/runners/12",
        json={
            "id": 12,
            "paused": False,
            "tag_list": ["gpu"],
            "run_untagged": False,
            "access_level": "ref_protected",
            "maximum_timeout": 21600,
        },
    )
    code, out, err = invoke("--kind", "gpu", "--group", "ml/vision", "--token-file", "gpu.token")
    assert code == 0
    assert out == "runner #12 'alops-gpu-ml-vision' already exists in group 'ml/vision': nothing created\n" + HOST
    assert err == (
        "warning: runner #12 differs: tag_list: ['gpu'] -> ['a100']\n"
        "warning: alops never changes an existing runner: edit #12 in GitLab or delete it and run again\n"
    )
    assert (tmp_path / "gpu.token").read_text() == RUNNER_TOKEN + "\n"  # untouched


def test_show_token_prints_it_once_and_only_then(api: responses.RequestsMock) -> None:
    group_lookup(api, [])
    created(api, ["gpu", "big"])
    code, out, err = invoke("--kind", "gpu", "--group", "ml/vision", "--tag", "gpu", "--tag", "big", "--show-token")
    assert (code, err) == (0, "")
    assert out.count(RUNNER_TOKEN) == 1
    assert out.splitlines()[1] == f"token: {RUNNER_TOKEN}"


def test_an_existing_token_file_stops_before_the_post(api: responses.RequestsMock, tmp_path: Path) -> None:
    (tmp_path / "gpu.token").write_text("glrt-another-runner\n")
    group_lookup(api, [])  # read, then refused: no POST registered
    code, out, err = invoke("--kind", "gpu", "--group", "ml/vision", "--token-file", "gpu.token")
    assert (code, out) == (EXIT_CONFIG, "")
    assert "'gpu.token' already exists: it may hold another runner's token" in err
    assert (tmp_path / "gpu.token").read_text() == "glrt-another-runner\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "gpu", "--group", "ml", "--project", "42", "--show-token"], "exactly one of --group"),
        (["--kind", "gpu", "--group", "ml"], "--token-file FILE (written 0600) or --show-token"),
        (["--kind", "gpu", "--group", "ml", "--token-file", "t", "--show-token"], "exactly one"),
        (["--kind", "gpu", "--group", "ml", "--show-token", "--description", "a\nb"], "is not usable"),
    ],
)
def test_bad_options_send_nothing(api: responses.RequestsMock, args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert (code, out) == (EXIT_CONFIG, "")
    assert message in err


def test_no_token_and_a_refused_token_exit_4_without_showing_it(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    group_lookup(api, [])
    api.post(f"{API}/user/runners", status=403, json={"message": f"403 Forbidden {TOKEN}"})
    code, out, err = invoke("--kind", "gpu", "--group", "ml/vision", "--show-token")
    assert (code, out) == (EXIT_DATA, "")
    assert "the create_runner and manage_runner scopes" in err and "Owner role of the group" in err
    assert TOKEN not in err

    monkeypatch.delenv("ALOPS_GITLAB_TOKEN")
    code, out, err = invoke("--kind", "cpu", "--project", "42", "--show-token")
    assert (code, out) == (EXIT_DATA, "")
    assert "alops runner register needs ALOPS_GITLAB_TOKEN" in err


def test_a_token_that_cannot_be_written_after_the_post_says_how_to_recover(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alops.runner import register as runners

    def full_disk(path: Path, token: str) -> None:  # a full disk between the POST and the write, on demand
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runners, "write_token_file", full_disk)
    group_lookup(api, [])
    created(api, ["gpu"])
    code, out, err = invoke("--kind", "gpu", "--group", "ml/vision", "--token-file", "gpu.token")
    assert (code, out.startswith("created runner #12")) == (EXIT_TOOL, True)
    assert "runner #12 was created but its token is lost: reset its token in GitLab" in err
    assert RUNNER_TOKEN not in out + err
