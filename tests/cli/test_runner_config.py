"""``alops runner config``: output to stdout or a file, defaults from alops.yaml and the environment,
refusals with exit code 2, and no token in any output."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG
from alops.runner.config import RunnerSpec, render

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
runners:
  cpu: [docker, small]
  gpu: [gpu, a100]
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["runner", "config", *args], catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_stdout_is_the_library_s_rendering() -> None:
    code, out, _ = invoke("--executor", "docker")
    assert code == 0
    assert out == render(RunnerSpec("docker"))
    assert tomllib.loads(out)["runners"][0]["docker"]["gpus"] == "all"


def test_kubernetes_cpu_values_parse() -> None:
    code, out, _ = invoke("--executor", "kubernetes", "--cpu", "--limit", "6")
    assert code == 0
    values = yaml.safe_load(out)
    section = tomllib.loads(values["runners"]["config"])["runners"][0]
    assert (values["concurrent"], section["limit"], section["name"]) == (6, 6, "alops-cpu-k8s")


def test_autoscaler_options_reach_the_fleet() -> None:
    code, out, _ = invoke(
        "--executor", "docker-autoscaler", "--plugin", "googlecloud", "--group-name", "gpu-mig",
        "--plugin-option", "project=proj-1", "--plugin-option", "zone=europe-west4-b",
        "--max-instances", "2", "--max-use-count", "1", "--idle-time", "5m",
    )  # fmt: skip
    assert code == 0
    doc = tomllib.loads(out)
    scaler = doc["runners"][0]["autoscaler"]
    assert scaler["plugin"] == "googlecloud"
    assert scaler["plugin_config"] == {"name": "gpu-mig", "project": "proj-1", "zone": "europe-west4-b"}
    assert (scaler["max_instances"], scaler["max_use_count"], scaler["capacity_per_instance"]) == (2, 1, 1)
    assert scaler["policy"] == [{"idle_count": 0, "idle_time": "5m"}]
    assert doc["concurrent"] == 2


def test_tags_default_to_alops_yaml_s_runners(in_tmp: Path) -> None:
    (in_tmp / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    _, gpu, _ = invoke("--executor", "docker")
    _, cpu, _ = invoke("--executor", "docker", "--cpu")
    _, given, _ = invoke("--executor", "docker", "--tag", "gpu", "--tag", "h100")
    assert "with tags: gpu, a100;" in gpu
    assert "with tags: docker, small;" in cpu and '"Run untagged jobs" on' in cpu
    assert "with tags: gpu, h100;" in given


def test_tags_without_alops_yaml_are_gpu_or_none() -> None:
    assert 'with tags: gpu; "Run untagged jobs" off; protected' in invoke("--executor", "docker")[1]
    assert "with tags: none (untagged jobs);" in invoke("--executor", "docker", "--cpu")[1]


def test_url_comes_from_the_environment_unless_given() -> None:
    env = {"CI_SERVER_URL": "https://ci.example.org", "ALOPS_GITLAB_URL": ""}
    assert tomllib.loads(invoke("--executor", "docker", env=env)[1])["runners"][0]["url"] == "https://ci.example.org"
    env["ALOPS_GITLAB_URL"] = "https://alops.example.org/"
    assert (
        tomllib.loads(invoke("--executor", "docker", env=env)[1])["runners"][0]["url"] == "https://alops.example.org/"
    )
    out = invoke("--executor", "docker", "--url", "https://given.example.org/", env=env)[1]
    assert tomllib.loads(out)["runners"][0]["url"] == "https://given.example.org/"


def test_output_is_written_and_never_clobbered(in_tmp: Path) -> None:
    target = in_tmp / "config.toml"
    code, out, _ = invoke("--executor", "docker-autoscaler", "--output", str(target))
    assert (code, out) == (0, f"wrote {target}\n")
    assert target.read_text("utf-8") == render(RunnerSpec("docker-autoscaler"))
    target.write_text("mine\n", encoding="utf-8")
    code, out, err = invoke("--executor", "docker", "--output", str(target))
    assert code == EXIT_CONFIG and out == ""
    assert err == f"Error: {target} exists: run with --force to replace it, or choose another --output\n"
    assert target.read_text("utf-8") == "mine\n"
    assert invoke("--executor", "docker", "--output", str(target), "--force")[0] == 0
    assert target.read_text("utf-8") == render(RunnerSpec("docker"))
    assert [p.name for p in in_tmp.iterdir()] == ["config.toml"], "no temporary file is left"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", 'gpu"\nprivileged = true'], "--tag 'gpu\"\\nprivileged = true' is not allowed: use letters, digits"),
        (["--name", "x\ny"], "--name 'x\\ny' is not allowed: use letters, digits"),
        (["--limit", "2"], "--limit 2: a Docker GPU runner gives each job every GPU"),
        (["--image", "python:latest"], "--image 'python:latest': pin a tag or digest (not latest)"),
        (["--executor", "docker-autoscaler", "--plugin-option", "zone"], "--plugin-option 'zone': write KEY=VALUE"),
        (["--executor", "docker-autoscaler", "--max-use-count", "0"], "--max-instances and --max-use-count must be"),
    ],
)
def test_bad_options_exit_2_and_say_what_is_allowed(args: list[str], message: str) -> None:
    if "--executor" not in args:
        args = ["--executor", "docker", *args]
    code, out, err = invoke(*args)
    assert code == EXIT_CONFIG and out == ""
    assert err.startswith("Error: " + message), err


@pytest.mark.parametrize("executor", ["docker", "kubernetes", "docker-autoscaler"])
def test_no_token_from_the_environment_reaches_the_output(executor: str) -> None:
    token = "glrt-" + "s3cr3tT0k3n" * 2
    env = {"CI_JOB_TOKEN": token, "RUNNER_TOKEN": token, "CI_RUNNER_TOKEN": token}
    code, out, _ = invoke("--executor", executor, env=env)
    assert code == 0 and token not in out and "s3cr3t" not in out


def test_help_names_the_executors_and_the_fleet_options() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for word in ("docker|kubernetes|docker-autoscaler", "--gpu / --cpu", "--idle-count", "--max-use-count", "--force"):
        assert word in out, word
