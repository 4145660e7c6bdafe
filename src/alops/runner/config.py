"""A GitLab Runner's configuration for alops jobs: ``config.toml`` (Docker, Docker Autoscaler) or
Helm values (Kubernetes), with the safety settings of ``runners/README.md``.

GPU runners get the GPU (``gpus``, or a ``nvidia.com/gpu`` request), one job per GPU, the shared
DVC cache mounted at ``/dvc-cache`` with ``ALOPS_DVC_CACHE_DIR``, and no privileged containers;
every runner shares one S3 cache (``Shared = true``). The runner token is never an input: the
output holds a placeholder (``config.toml``) or names a Secret (Helm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alops import env as variables
from alops.errors import ConfigError
from alops.runner import keys, tomlout

EXECUTORS = ("docker", "kubernetes", "docker-autoscaler")
TOKEN_PLACEHOLDER = "glrt-REPLACE_ME"
DVC_CACHE_MOUNT = "/dvc-cache"
DEFAULT_IMAGE = "python:3.11.13-slim-bookworm"
# Tags and names go into comments and values: keep them to what GitLab shows plainly.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?")
_DURATION = re.compile(r"(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?")
_PATH = re.compile(r"/[A-Za-z0-9._/-]*")
_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/:@-]*")


@dataclass(frozen=True)
class RunnerSpec:
    """What to render: one runner (one ``[[runners]]`` section, or one Helm release)."""

    executor: str
    gpu: bool = True
    name: str = ""  # default alops-<gpu|cpu>-<docker|k8s|fleet>
    tags: tuple[str, ...] = ()  # default: (gpu,) for a GPU runner, none (untagged jobs) for a CPU runner
    url: str = "https://gitlab.example.com/"
    image: str = DEFAULT_IMAGE
    cache_bucket: str = "alops-runner-cache"
    cache_path: str = "alops"
    cache_region: str = "eu-west-1"
    dvc_cache: str = "/srv/dvc-cache"  # host directory (Docker) or claim name (Kubernetes: alops-dvc-cache)
    concurrent: int | None = None  # default: the limit (autoscaler: max_instances)
    limit: int | None = None
    plugin: str = "aws"
    group_name: str = "alops-gpu-fleet"
    max_instances: int = 4
    idle_count: int = 0
    idle_time: str = "20m0s"
    max_use_count: int = 10
    plugin_options: tuple[tuple[str, str], ...] = field(default=())

    @property
    def runner_name(self) -> str:
        kind = {"docker": "docker", "kubernetes": "k8s", "docker-autoscaler": "fleet"}[self.executor]
        return self.name or f"alops-{'gpu' if self.gpu else 'cpu'}-{kind}"

    @property
    def runner_tags(self) -> tuple[str, ...]:
        return self.tags or (("gpu",) if self.gpu else ())


def check(spec: RunnerSpec) -> None:
    """Raise ConfigError naming the option of ``spec`` that is not allowed, and what is."""
    if spec.executor not in EXECUTORS:
        raise ConfigError(f"--executor {spec.executor!r}: choose one of {', '.join(EXECUTORS)}")
    words = [("--name", spec.runner_name), ("--cache-bucket", spec.cache_bucket), ("--group-name", spec.group_name)]
    # Also what keeps `{{` out: the chart passes runners.config through Helm's `tpl` (a template).
    words += [("--tag", tag) for tag in spec.runner_tags] + [("--cache-path", spec.cache_path)]
    words += [("--cache-region", spec.cache_region)]
    for option, text in words:
        if not _WORD.fullmatch(text):
            raise ConfigError(
                f"{option} {text!r} is not allowed: use letters, digits and . _ : - (at most 63, "
                "starting with a letter or digit)"
            )
    patterns = [("--url", spec.url, _URL, "an http(s) URL such as https://gitlab.example.com/")]
    patterns += [("--image", spec.image, _IMAGE, "an image reference such as python:3.11.13-slim-bookworm")]
    patterns += [("--idle-time", spec.idle_time, _DURATION, "a duration such as 20m0s or 1h")]
    if spec.executor != "kubernetes":
        patterns += [("--dvc-cache", spec.dvc_cache, _PATH, "an absolute host path such as /srv/dvc-cache")]
    for option, text, pattern, what in patterns:
        if not text or not pattern.fullmatch(text):
            raise ConfigError(f"{option} {text!r} is not allowed: give {what}")
    if spec.image.endswith(":latest") or ":" not in spec.image.rsplit("/", 1)[-1]:
        raise ConfigError(f"--image {spec.image!r}: pin a tag or digest (not latest), e.g. {DEFAULT_IMAGE}")
    for option, number in [("--concurrent", spec.concurrent), ("--limit", spec.limit)]:
        if number is not None and number < 1:
            raise ConfigError(f"{option} {number}: give 1 or more (0 would mean unlimited)")
    if spec.gpu and spec.executor == "docker" and spec.limit not in (None, 1):
        raise ConfigError(
            f'--limit {spec.limit}: a Docker GPU runner gives each job every GPU (gpus = "all"), so it runs '
            "one job at a time; for more GPUs render one runner per GPU"
        )
    if spec.executor == "docker-autoscaler":
        _check_fleet(spec)


def _check_fleet(spec: RunnerSpec) -> None:
    if spec.plugin not in keys.PLUGINS:
        raise ConfigError(f"--plugin {spec.plugin!r}: choose one of {', '.join(keys.PLUGINS)}")
    if spec.max_instances < 1 or spec.max_use_count < 1 or spec.idle_count < 0:
        raise ConfigError(
            "--max-instances and --max-use-count must be 1 or more and --idle-count 0 or more "
            "(--max-use-count 0 would keep an instance forever)"
        )
    documented = keys.PLUGINS[spec.plugin]
    for name, text in spec.plugin_options:
        if name not in documented.keys or name == "name":
            allowed = ", ".join(sorted(documented.keys - {"name"}))
            raise ConfigError(
                f"--plugin-option {name!r}: the {spec.plugin} plugin documents {allowed} ({documented.url})"
            )
        if not re.fullmatch(r"[A-Za-z0-9_.:/~-]+", text):
            raise ConfigError(f"--plugin-option {name}={text!r}: use letters, digits and . _ : / ~ -")


def render(spec: RunnerSpec) -> str:
    """``config.toml`` text (docker, docker-autoscaler) or Helm values YAML (kubernetes) for ``spec``."""
    check(spec)
    if spec.executor == "kubernetes":
        return _helm(spec)
    doc = {**_globals(spec), "runners": [_runner(spec)]}
    problems = keys.undocumented(doc, spec.executor, spec.plugin)
    assert not problems, problems  # the lists in alops.runner.keys and this renderer agree
    return _header(spec) + "\n" + tomlout.dumps(doc)


def _limit(spec: RunnerSpec) -> int:
    if spec.executor == "docker-autoscaler":
        return spec.limit or spec.max_instances
    if spec.executor == "kubernetes":
        return spec.limit or (4 if spec.gpu else 10)
    return spec.limit or (1 if spec.gpu else 4)


def _globals(spec: RunnerSpec) -> dict[str, Any]:
    # concurrent >= the limit, so that this runner can use its whole limit.
    concurrent = max(spec.concurrent or 0, _limit(spec))
    return {"concurrent": concurrent, "check_interval": 3, "shutdown_timeout": 30, "log_level": "info"}


def _cache(spec: RunnerSpec, auth: str) -> dict[str, Any]:
    s3 = {"ServerAddress": "s3.amazonaws.com", "BucketName": spec.cache_bucket, "BucketLocation": spec.cache_region}
    return {"Type": "s3", "Path": spec.cache_path, "Shared": True, "s3": {**s3, "AuthenticationType": auth}}


def _runner(spec: RunnerSpec) -> dict[str, Any]:
    gpu = spec.gpu
    section: dict[str, Any] = {"name": spec.runner_name, "url": spec.url, "token": TOKEN_PLACEHOLDER}
    section |= {"executor": spec.executor, "limit": _limit(spec), "request_concurrency": 1 if gpu else 2}
    section["output_limit"] = 16384
    if gpu:
        section["environment"] = [f"{variables.DVC_CACHE_DIR}={DVC_CACHE_MOUNT}"]
    section["cache"] = _cache(spec, "iam")
    docker: dict[str, Any] = {"image": spec.image, "pull_policy": ["always"], "privileged": False, "tls_verify": False}
    if gpu:
        docker["gpus"] = "all"
        docker["volumes"] = ["/cache", f"{spec.dvc_cache}:{DVC_CACHE_MOUNT}:rw"]
        docker["shm_size"] = 8 * 1024**3  # PyTorch DataLoader workers pass batches through /dev/shm
    else:
        docker["volumes"] = ["/cache"]
        docker["shm_size"] = 1024**3
    docker["wait_for_services_timeout"] = 30
    section["docker"] = docker
    if spec.executor == "docker-autoscaler":
        section["autoscaler"] = _autoscaler(spec)
    return section


def _autoscaler(spec: RunnerSpec) -> dict[str, Any]:
    # One job per instance (a GPU VM is one job's), replaced after max_use_count jobs, none kept idle:
    # AUTOSCALER's "1 job per instance" example, with idle_count 0 so that idle GPUs go away.
    return {
        "plugin": spec.plugin,
        "capacity_per_instance": 1,
        "max_use_count": spec.max_use_count,
        "max_instances": spec.max_instances,
        "plugin_config": {"name": spec.group_name, **dict(spec.plugin_options)},
        "connector_config": {"username": "ubuntu", "use_external_addr": False},
        "policy": [{"idle_count": spec.idle_count, "idle_time": spec.idle_time}],
    }


def _kubernetes(spec: RunnerSpec) -> dict[str, Any]:
    gpu = spec.gpu
    size = ("4", "8", "16Gi", "32Gi", "250m") if gpu else ("1", "4", "2Gi", "8Gi", "100m")
    kube: dict[str, Any] = {"namespace": "{{.Release.Namespace}}", "image": spec.image, "pull_policy": ["always"]}
    kube |= {"privileged": False, "allow_privilege_escalation": False, "poll_timeout": 900 if gpu else 600}
    kube |= dict(
        zip(("cpu_request", "cpu_limit", "memory_request", "memory_limit", "helper_cpu_request"), size, strict=True)
    )
    kube |= {"helper_memory_request": "256Mi", "helper_memory_limit": "1Gi"}
    if gpu:
        kube["node_selector"] = {"nvidia.com/gpu.present": "true"}
        kube["node_tolerations"] = {"nvidia.com/gpu": "NoSchedule"}
        kube["volumes"] = {
            "pvc": [{"name": "alops-dvc-cache", "mount_path": DVC_CACHE_MOUNT}],
            "empty_dir": [{"name": "dshm", "mount_path": "/dev/shm", "medium": "Memory"}],
        }
        kube["pod_spec"] = [{"name": "gpu", "patch_type": "strategic", "patch": _GPU_PATCH}]
    return kube


_GPU_PATCH = """containers:
- name: build
  resources:
    requests:
      nvidia.com/gpu: 1
    limits:
      nvidia.com/gpu: 1
"""


def _helm(spec: RunnerSpec) -> str:
    import yaml

    limit = _limit(spec)
    section: dict[str, Any] = {"name": spec.runner_name, "limit": limit}
    section |= {"request_concurrency": 2 if spec.gpu else 4, "output_limit": 16384}
    if spec.gpu:
        section["environment"] = [f"{variables.DVC_CACHE_DIR}={DVC_CACHE_MOUNT}"]
        # The GPU request is a pod_spec patch, which needs this flag (KUBERNETES, "Overwrite generated pod specifications").
        section["feature_flags"] = {"FF_USE_ADVANCED_POD_SPEC_CONFIGURATION": True}
    section["kubernetes"] = _kubernetes(spec)
    section["cache"] = _cache(spec, "access-key")
    config = {"runners": [section]}
    problems = keys.undocumented(config, "kubernetes")
    kind = "gpu" if spec.gpu else "cpu"
    values: dict[str, Any] = {
        "gitlabUrl": spec.url,
        "concurrent": max(spec.concurrent or 0, limit),
        "checkInterval": 10,
        "terminationGracePeriodSeconds": 3600,
        "rbac": {"create": True},
        "runners": {
            "secret": f"alops-{kind}-runner",
            "cache": {"secretName": "alops-runner-cache-s3"},
            "config": tomlout.dumps(config),
        },
    }
    problems += keys.undocumented_helm(values)
    assert not problems, problems

    class Dumper(yaml.SafeDumper):
        """Multi-line strings (the runner's TOML) as literal blocks, readable and diffable."""

    def block(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)

    Dumper.add_representer(str, block)
    return _header(spec) + "\n" + yaml.dump(values, Dumper=Dumper, sort_keys=False, width=100)


def _header(spec: RunnerSpec) -> str:
    kind = "GPU" if spec.gpu else "CPU"
    tags = ", ".join(spec.runner_tags) or "none (untagged jobs)"
    untagged = "off" if spec.gpu else "on"
    lines = [
        f"Written by `alops runner config --executor {spec.executor} --{'gpu' if spec.gpu else 'cpu'}`: "
        f"the {kind} runner {spec.runner_name}.",
        f'Create it in GitLab first with tags: {tags}; "Run untagged jobs" {untagged}'
        + ("; protected" if spec.gpu else "")
        + " (runners/README.md).",
    ]
    if spec.executor == "kubernetes":
        lines += [
            f"Its glrt- token goes in the Secret alops-{'gpu' if spec.gpu else 'cpu'}-runner (key runner-token), "
            "the cache keys in alops-runner-cache-s3.",
            f"Install: helm upgrade --install {spec.runner_name} gitlab/gitlab-runner -n gitlab-runner -f FILE",
        ]
    else:
        lines += [
            f'Install as /etc/gitlab-runner/config.toml (root, mode 0600) and replace "{TOKEN_PLACEHOLDER}" '
            "with the runner's glrt- token.",
            f"Reference: {keys.ADVANCED}",
        ]
    if spec.executor == "docker-autoscaler":
        lines += [
            f"Fleet: plugin {spec.plugin} ({keys.PLUGINS[spec.plugin].url}); run `gitlab-runner fleeting install`.",
            f"The instance group {spec.group_name} must exist, scale to 0, and leave scaling to the runner;",
            f"its image needs Docker, the NVIDIA Container Toolkit and {spec.dvc_cache} writable by uid 1000.",
        ]
    return "".join(f"# {line}\n" for line in lines)
