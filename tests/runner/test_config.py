"""``alops.runner.config``: rendered runner configurations parse, use only documented keys, keep
the GPU safety settings, equal the hand-written files under runners/, and cannot be injected."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from alops.errors import ConfigError
from alops.runner import keys, tomlout
from alops.runner.config import TOKEN_PLACEHOLDER, RunnerSpec, render

REPO = Path(__file__).resolve().parents[2]
RUNNERS = REPO / "runners"
CASES = [(e, g) for e in ("docker", "kubernetes", "docker-autoscaler") for g in (True, False)]


def parsed(spec: RunnerSpec) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(config.toml document, Helm values or None) of ``spec``'s rendering."""
    text = render(spec)
    if spec.executor != "kubernetes":
        return tomllib.loads(text), None
    values = yaml.safe_load(text)
    return tomllib.loads(values["runners"]["config"]), values


def section(spec: RunnerSpec) -> dict[str, Any]:
    doc, _ = parsed(spec)
    [runner] = doc["runners"]
    return dict(runner)


# --- documented keys -----------------------------------------------------------------------


@pytest.mark.parametrize(("executor", "gpu"), CASES)
def test_rendered_keys_are_documented_for_the_executor(executor: str, gpu: bool) -> None:
    spec = RunnerSpec(executor, gpu=gpu)
    doc, values = parsed(spec)
    assert keys.undocumented(doc, executor, spec.plugin) == []
    if values is not None:
        assert keys.undocumented_helm(values) == []
        assert "executor" not in doc["runners"][0], "the chart sets the executor"
    else:
        assert doc["runners"][0]["executor"] == executor


@pytest.mark.parametrize(
    ("doc", "executor", "expected"),
    [
        ({"runners": [{"docker": {"gpu": "all"}}]}, "docker", ["runners.docker.gpu"]),
        ({"runners": [{"kubernetes": {"image": "x"}}]}, "docker", ["runners.kubernetes"]),
        ({"runners": [{"autoscaler": {"plugin": "aws"}}]}, "docker", ["runners.autoscaler"]),
        ({"runners": [{"autoscaler": {"idle_count": 0}}]}, "docker-autoscaler", ["runners.autoscaler.idle_count"]),
        ({"runners": [{"autoscaler": {"policy": [{"idle_cont": 0}]}}]}, "docker-autoscaler",
         ["runners.autoscaler.policy.idle_cont"]),
        ({"runners": [{"autoscaler": {"plugin_config": {"region": "x"}}}]}, "docker-autoscaler",
         ["runners.autoscaler.plugin_config.region"]),
        ({"concurency": 1, "runners": [{"Limit": 1}]}, "docker", ["concurency", "runners.Limit"]),
        ({"runners": [{"cache": {"s3": {"Bucket": "b"}}}]}, "kubernetes", ["runners.cache.s3.Bucket"]),
    ],
)  # fmt: skip
def test_a_typo_is_reported(doc: dict[str, Any], executor: str, expected: list[str]) -> None:
    assert keys.undocumented(doc, executor, "aws") == expected


def test_every_documented_section_names_its_page() -> None:
    for name, documented in {**keys.SECTIONS, **keys.PLUGINS, **keys.HELM_VALUES}.items():
        assert documented.url.startswith("https://"), name
        assert documented.keys or documented.free, name


# --- safety settings -------------------------------------------------------------------------


@pytest.mark.parametrize("executor", ["docker", "docker-autoscaler"])
def test_docker_gpu_runner_gets_gpus_one_job_each_and_the_dvc_cache(executor: str) -> None:
    runner = section(RunnerSpec(executor, dvc_cache="/data/dvc"))
    docker = runner["docker"]
    assert docker["gpus"] == "all"
    assert docker["privileged"] is False
    assert "/data/dvc:/dvc-cache:rw" in docker["volumes"]
    assert runner["environment"] == ["ALOPS_DVC_CACHE_DIR=/dvc-cache"]
    if executor == "docker":
        assert runner["limit"] == 1
    else:
        assert runner["autoscaler"]["capacity_per_instance"] == 1


@pytest.mark.parametrize("executor", ["docker", "kubernetes"])
def test_cpu_runner_has_no_gpu_and_no_dvc_cache(executor: str) -> None:
    runner = section(RunnerSpec(executor, gpu=False))
    assert "environment" not in runner
    assert "gpus" not in runner.get("docker", {})
    kube = runner.get("kubernetes", {})
    assert not kube.get("node_selector") and not kube.get("pod_spec") and not kube.get("volumes")


def test_kubernetes_gpu_pod_requests_one_gpu_on_gpu_nodes() -> None:
    runner = section(RunnerSpec("kubernetes"))
    kube = runner["kubernetes"]
    assert runner["feature_flags"] == {"FF_USE_ADVANCED_POD_SPEC_CONFIGURATION": True}
    [patch] = kube["pod_spec"]
    [build] = yaml.safe_load(patch["patch"])["containers"]
    assert build["name"] == "build"
    assert build["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert kube["node_tolerations"] == {"nvidia.com/gpu": "NoSchedule"}
    assert kube["volumes"]["pvc"] == [{"name": "alops-dvc-cache", "mount_path": "/dvc-cache"}]
    assert kube["privileged"] is False and kube["allow_privilege_escalation"] is False


def test_autoscaler_scales_to_zero_and_replaces_instances() -> None:
    spec = RunnerSpec("docker-autoscaler", max_instances=3, max_use_count=5, idle_time="10m")
    doc, _ = parsed(spec)
    scaler = doc["runners"][0]["autoscaler"]
    assert scaler["policy"] == [{"idle_count": 0, "idle_time": "10m"}]
    assert scaler["max_use_count"] == 5 and scaler["max_instances"] == 3
    assert scaler["plugin"] == "aws" and scaler["plugin_config"] == {"name": "alops-gpu-fleet"}
    assert doc["concurrent"] >= doc["runners"][0]["limit"] == 3


def test_plugin_options_are_documented_plugin_keys() -> None:
    spec = RunnerSpec(
        "docker-autoscaler", plugin="googlecloud", group_name="gpu-group",
        plugin_options=(("project", "my-proj"), ("zone", "europe-west4-b")),
    )  # fmt: skip
    config = section(spec)["autoscaler"]["plugin_config"]
    assert config == {"name": "gpu-group", "project": "my-proj", "zone": "europe-west4-b"}
    with pytest.raises(ConfigError, match=r"--plugin-option 'region': the aws plugin documents config_file, "):
        render(RunnerSpec("docker-autoscaler", plugin_options=(("region", "x"),)))


@pytest.mark.parametrize(("executor", "gpu"), CASES)
def test_no_token_only_the_placeholder_or_a_secret(executor: str, gpu: bool) -> None:
    text = render(RunnerSpec(executor, gpu=gpu))
    assert set(re.findall(r"glrt-[\w-]+", text)) <= {TOKEN_PLACEHOLDER}
    doc, values = parsed(RunnerSpec(executor, gpu=gpu))
    if values is None:
        assert doc["runners"][0]["token"] == TOKEN_PLACEHOLDER
    else:
        assert (
            "token" not in doc["runners"][0]
            and values["runners"]["secret"] == f"alops-{'gpu' if gpu else 'cpu'}-runner"
        )


@pytest.mark.parametrize(("executor", "gpu"), CASES)
def test_every_runner_shares_the_s3_cache(executor: str, gpu: bool) -> None:
    cache = section(RunnerSpec(executor, gpu=gpu, cache_bucket="b1", cache_path="p1"))["cache"]
    assert (cache["Type"], cache["Path"], cache["Shared"], cache["s3"]["BucketName"]) == ("s3", "p1", True, "b1")
    assert "AccessKey" not in cache["s3"] and "SecretKey" not in cache["s3"]


# --- the files under runners/ -----------------------------------------------------------------


def _shipped(path: str, name: str) -> dict[str, Any]:
    doc = tomllib.loads((RUNNERS / path).read_text("utf-8"))
    return next(dict(r) for r in doc["runners"] if r["name"] == name)


@pytest.mark.parametrize("gpu", [True, False])
def test_docker_rendering_equals_the_shipped_config_toml(gpu: bool) -> None:
    spec = RunnerSpec("docker", gpu=gpu)
    assert section(spec) == _shipped("docker/config.toml", spec.runner_name)


@pytest.mark.parametrize(("gpu", "path"), [(True, "values.yaml"), (False, "values-cpu.yaml")])
def test_kubernetes_rendering_equals_the_shipped_helm_values(gpu: bool, path: str) -> None:
    doc, values = parsed(RunnerSpec("kubernetes", gpu=gpu))
    shipped = yaml.safe_load((RUNNERS / "kubernetes" / path).read_text("utf-8"))
    shipped_config = tomllib.loads(shipped["runners"].pop("config"))
    assert values is not None
    values["runners"].pop("config")
    assert values == shipped
    # The pod_spec patch is YAML inside TOML: compare what it says, not its indentation.
    for config in (doc, shipped_config):
        for patch in config["runners"][0].get("kubernetes", {}).get("pod_spec", []):
            patch["patch"] = yaml.safe_load(patch["patch"])
    assert doc == shipped_config


def test_the_autoscaler_example_is_the_command_s_output() -> None:
    # runners/autoscaler/config.toml is `alops runner config --executor docker-autoscaler` output.
    assert (RUNNERS / "autoscaler" / "config.toml").read_text("utf-8") == render(RunnerSpec("docker-autoscaler"))


# --- hostile input -----------------------------------------------------------------------------

HOSTILE = ['gpu"\n[runners.docker]\nprivileged = true\n#', "a b", "", "-x", "x\u202e", "é"]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["name", "tags", "cache_bucket", "cache_path", "group_name"])
def test_names_and_tags_outside_the_allowed_characters_are_refused(field: str, text: str) -> None:
    value: Any = (text,) if field == "tags" else text
    spec = dataclasses.replace(RunnerSpec("docker-autoscaler"), **{field: value})
    option = {"tags": "--tag", "cache_bucket": "--cache-bucket", "cache_path": "--cache-path",
              "group_name": "--group-name", "name": "--name"}[field]  # fmt: skip
    if field == "name" and text == "":
        return  # an empty name is the default name
    with pytest.raises(ConfigError, match=f"^{option} .* is not allowed: use letters, digits and"):
        render(spec)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("url", 'https://x/"\n[a]', "--url"),
        ("image", "python:latest", "--image 'python:latest': pin a tag or digest"),
        ("image", "python", "--image 'python': pin"),
        ("dvc_cache", "relative/dir", "--dvc-cache"),
        ("idle_time", "forever", "--idle-time"),
        ("limit", 2, "--limit 2: a Docker GPU runner gives each job every GPU"),
        ("limit", 0, "--limit 0: give 1 or more"),
    ],
)
def test_other_bad_values_are_refused_with_what_to_do(field: str, text: Any, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")):
        render(dataclasses.replace(RunnerSpec("docker"), **{field: text}))


@pytest.mark.parametrize("count", [("max_use_count", 0), ("max_instances", 0), ("idle_count", -1)])
def test_a_fleet_that_never_ends_or_never_starts_is_refused(count: tuple[str, int]) -> None:
    with pytest.raises(ConfigError, match="--max-use-count 0 would keep an instance forever"):
        render(dataclasses.replace(RunnerSpec("docker-autoscaler"), **{count[0]: count[1]}))


@pytest.mark.parametrize("region", ['eu"\n[runners.docker]\nprivileged = true', "{{ .Values.runners.secret }}"])
def test_a_region_that_could_inject_toml_or_a_helm_template_is_refused(region: str) -> None:
    # Helm's chart renders runners.config with `tpl`: `{{` in it would run as a template.
    with pytest.raises(ConfigError, match="^--cache-region .* is not allowed"):
        render(RunnerSpec("kubernetes", cache_region=region))


def test_free_text_values_are_escaped_and_read_back_equal() -> None:
    path = '/srv/a"b\n[x]'
    doc = {"runners": [{"docker": {"volumes": [path]}}]}
    assert tomllib.loads(tomlout.dumps(doc)) == doc


@pytest.mark.parametrize("text", ["plain", 'q"uote', "back\\slash", "new\nline", "tab\t\r\x00\x1f\x7f", "ü€😀", "'''"])
def test_toml_writer_round_trips_strings_and_keys(text: str) -> None:
    doc = {"a": text, text: [text, "x"], "t": {text: True, "n": 3}, "arr": [{"k": text}, {"k": "2"}]}
    assert tomllib.loads(tomlout.dumps(doc)) == doc


@pytest.mark.parametrize("gpu", [True, False])
def test_the_only_helm_template_in_runners_config_is_the_namespace(gpu: bool) -> None:
    _, values = parsed(RunnerSpec("kubernetes", gpu=gpu))
    assert values is not None
    assert values["runners"]["config"].count("{{") == 1
    assert 'namespace = "{{.Release.Namespace}}"' in values["runners"]["config"]
