"""runners/: the GitLab Runner configurations and the job images.

Every TOML and YAML file under runners/ is parsed (the TOML embedded in Helm values too), and
what must not regress is checked: GPU runners take only `gpu` jobs and really get GPUs, CPU
runners take the templates' CPU jobs, every runner shares one S3 cache, no secret is committed,
and the Dockerfiles start from pinned images, run as a non-root user and install alops from
the build context under the name runners/image/README.md documents.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from alops.config import load_config
from alops.roles import ROLE_DEFAULTS

REPO = Path(__file__).resolve().parents[1]
RUNNERS = REPO / "runners"
MANIFEST = RUNNERS / "runners.yaml"
IMAGE_DIR = RUNNERS / "image"
IMAGE_README = IMAGE_DIR / "README.md"
TEMPLATES = REPO / "ci-templates" / "alops.yml"
SKELETON = REPO / "examples" / "project-skeleton"

TOKEN_PLACEHOLDER = "glrt-REPLACE_ME"
KEY_PLACEHOLDERS = {"", "REPLACE_ME"}
GPU_FEATURE_FLAG = "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION"
GPU_RESOURCE = "nvidia.com/gpu"


# --- loading -------------------------------------------------------------------------------


def _rel(path: Path) -> str:
    return path.relative_to(RUNNERS).as_posix()


CONFIG_FILES = sorted(p for p in RUNNERS.rglob("*") if p.suffix in {".toml", ".yaml", ".yml"})
TEXT_FILES = sorted(p for p in RUNNERS.rglob("*") if p.is_file())


def _load(path: Path) -> list[Any]:
    """The documents of a TOML or YAML file."""
    if path.suffix == ".toml":
        return [tomllib.loads(path.read_text("utf-8"))]
    return list(yaml.safe_load_all(path.read_text("utf-8")))


def _is_helm_values(doc: Any) -> bool:
    return isinstance(doc, dict) and "gitlabUrl" in doc and isinstance(doc.get("runners"), dict)


@dataclass(frozen=True)
class Runner:
    """One [[runners]] section, from a config.toml or from Helm values' runners.config."""

    source: str  # path under runners/
    section: dict[str, Any]
    helm_values: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return str(self.section.get("name", ""))

    @property
    def executor(self) -> str:
        if self.helm_values is not None:  # the chart's executor is kubernetes unless set
            return str(self.section.get("executor", self.helm_values["runners"].get("executor", "kubernetes")))
        return str(self.section.get("executor", ""))

    @property
    def environment(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.section.get("environment", []))

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


def _runners() -> list[Runner]:
    found = []
    for path in CONFIG_FILES:
        for doc in _load(path):
            if path.suffix == ".toml":
                found += [Runner(_rel(path), section) for section in doc.get("runners", [])]
            elif _is_helm_values(doc):
                embedded = tomllib.loads(doc["runners"]["config"])
                found += [Runner(_rel(path), section, doc) for section in embedded.get("runners", [])]
    return found


RUNNER_LIST = _runners()
MANIFEST_RUNNERS: dict[str, dict[str, Any]] = yaml.safe_load(MANIFEST.read_text("utf-8"))["runners"]


def _gpus(runner: Runner) -> int | str | None:
    """What GPUs the runner gives each job: docker's `gpus`, or the nvidia.com/gpu limit of
    the build container in a Kubernetes pod_spec patch; None if it gives none."""
    if runner.executor in ("docker", "docker-autoscaler"):
        return runner.section.get("docker", {}).get("gpus") or None
    for spec in runner.section.get("kubernetes", {}).get("pod_spec", []):
        if spec.get("patch_type") != "strategic":
            continue
        for container in (yaml.safe_load(spec.get("patch", "")) or {}).get("containers", []):
            if container.get("name") == "build":
                limit = container.get("resources", {}).get("limits", {}).get(GPU_RESOURCE)
                if limit:
                    return int(limit)
    return None


def _tags(runner: Runner) -> list[str]:
    return list(MANIFEST_RUNNERS.get(runner.name, {}).get("tag_list", []))


GPU_RUNNERS = [r for r in RUNNER_LIST if _gpus(r) or "gpu" in _tags(r)]
CPU_RUNNERS = [r for r in RUNNER_LIST if r not in GPU_RUNNERS]


def _family(runner: Runner) -> str:
    """Runners that serve the same pipelines together: one Docker host, or one cluster."""
    return "docker" if runner.executor.startswith("docker") else "kubernetes"


# --- the files parse, the runners are there ------------------------------------------------


@pytest.mark.parametrize("path", CONFIG_FILES, ids=_rel)
def test_every_config_file_parses(path: Path) -> None:
    docs = _load(path)
    assert docs and all(doc is not None for doc in docs), f"{_rel(path)} is empty"
    for doc in docs:
        if _is_helm_values(doc):
            embedded = tomllib.loads(doc["runners"]["config"])
            assert embedded.get("runners"), f"{_rel(path)}: runners.config has no [[runners]] section"


def test_runners_are_found_for_docker_and_kubernetes() -> None:
    kinds = {(_family(r), r in GPU_RUNNERS) for r in RUNNER_LIST}
    assert kinds == {("docker", False), ("docker", True), ("kubernetes", False), ("kubernetes", True)}
    assert all(r.executor in {"docker", "docker-autoscaler", "kubernetes"} for r in RUNNER_LIST), [
        r.executor for r in RUNNER_LIST
    ]


def test_manifest_lists_exactly_the_configured_runners() -> None:
    names = [r.name for r in RUNNER_LIST]
    assert len(names) == len(set(names)), f"runner names must be unique: {names}"
    assert {r.name: r.source for r in RUNNER_LIST} == {n: m["config"] for n, m in MANIFEST_RUNNERS.items()}


@pytest.mark.parametrize("name", sorted(MANIFEST_RUNNERS))
def test_manifest_settings_are_those_gitlab_accepts(name: str) -> None:
    settings = MANIFEST_RUNNERS[name]
    allowed = {"config", "runner_type", "tag_list", "run_untagged", "access_level", "maximum_timeout",
               "locked", "paused", "maintenance_note"}  # fmt: skip
    assert set(settings) <= allowed, set(settings) - allowed
    assert settings["runner_type"] in {"instance_type", "group_type", "project_type"}
    assert settings["tag_list"] and all(re.fullmatch(r"[\w.:-]+", t) for t in settings["tag_list"])
    assert isinstance(settings["run_untagged"], bool)
    assert settings["access_level"] in {"not_protected", "ref_protected"}
    assert isinstance(settings["maximum_timeout"], int) and settings["maximum_timeout"] >= 600


# --- GPU runners take GPU jobs only, and get GPUs --------------------------------------------


@pytest.mark.parametrize("runner", GPU_RUNNERS, ids=str)
def test_gpu_runner_takes_only_gpu_jobs(runner: Runner) -> None:
    settings = MANIFEST_RUNNERS[runner.name]
    assert "gpu" in settings["tag_list"]
    assert settings["run_untagged"] is False, "an untagged job must never land on a GPU runner"
    # Protected: only protected branches have the full-data credentials and may write the shared DVC cache.
    assert settings["access_level"] == "ref_protected"


@pytest.mark.parametrize("runner", GPU_RUNNERS, ids=str)
def test_gpu_runner_requests_gpus(runner: Runner) -> None:
    gpus = _gpus(runner)
    assert gpus, f"{runner} is tagged gpu but gives its jobs no GPU"
    if runner.executor == "kubernetes":
        kube = runner.section["kubernetes"]
        flags = runner.section.get("feature_flags", {})
        assert flags.get(GPU_FEATURE_FLAG) is True or runner.environment.get(GPU_FEATURE_FLAG) == "true", (
            f"pod_spec patches are ignored without {GPU_FEATURE_FLAG}"
        )
        assert kube.get("node_selector"), "GPU pods need a node selector for GPU nodes"
        assert any(key.split("=")[0] == GPU_RESOURCE for key in kube.get("node_tolerations", {}))
    elif runner.executor == "docker-autoscaler":
        # One job per instance: a job gets every GPU of its VM, and no other job shares them.
        assert runner.section["autoscaler"]["capacity_per_instance"] == 1
    else:
        # gpus = "all" hands every GPU to each job: then one job at a time.
        assert gpus != "all" or runner.section.get("limit") == 1, f"{runner}: gpus = 'all' needs limit = 1"


@pytest.mark.parametrize("runner", CPU_RUNNERS, ids=str)
def test_cpu_runner_stays_off_gpus(runner: Runner) -> None:
    # No nvidia runtime, devices, node selector or toleration: CPU jobs must not occupy GPU hardware.
    assert "nvidia" not in json.dumps(runner.section).lower()


def _templates_tags() -> dict[str, tuple[str, ...]]:
    """The cpu-tags and gpu-tags defaults of the templates, when ci-templates/alops.yml exists."""
    if not TEMPLATES.exists():
        return {}
    inputs = _template_inputs()
    found = {}
    for klass in ("cpu", "gpu"):
        default = inputs.get(f"{klass}-tags", {}).get("default")
        if default is not None:
            items = default if isinstance(default, list) else str(default).split(",")
            found[klass] = tuple(str(t).strip() for t in items if str(t).strip())
    return found


def _config_tag_sets(tmp_path: Path) -> list[dict[str, tuple[str, ...]]]:
    """Job tags per runner class: the example project's alops.yaml, the package defaults
    (no `runners:` key), and the templates' input defaults."""
    skeleton = tmp_path / "skeleton"
    shutil.copytree(SKELETON, skeleton)
    sets = [load_config(skeleton / "alops.yaml").runners]
    data = yaml.safe_load((skeleton / "alops.yaml").read_text("utf-8"))
    data.pop("runners", None)
    (skeleton / "defaults.yaml").write_text(yaml.safe_dump(data), "utf-8")
    sets.append(load_config(skeleton / "defaults.yaml").runners)
    if templates := _templates_tags():
        sets.append(templates)
    return sets


def test_every_job_finds_a_runner_of_its_class(tmp_path: Path) -> None:
    classes = {d.runner for d in ROLE_DEFAULTS.values()}
    assert classes == {"cpu", "gpu"}, f"roles.py has runner classes {classes}: give each its runners"
    for tag_sets in _config_tag_sets(tmp_path):
        for klass in sorted(classes):
            job_tags = set(tag_sets[klass])
            takers = [
                r for r in RUNNER_LIST
                if (MANIFEST_RUNNERS[r.name]["run_untagged"] if not job_tags
                    else job_tags <= set(MANIFEST_RUNNERS[r.name]["tag_list"]))
            ]  # fmt: skip
            assert {_family(r) for r in takers} == {"docker", "kubernetes"}, (
                f"{klass} jobs tagged {sorted(job_tags)} find no runner in some deployment: {takers}"
            )
            wrong = [str(r) for r in takers if (r in GPU_RUNNERS) != (klass == "gpu")]
            assert not wrong, f"{klass} jobs tagged {sorted(job_tags)} could land on {wrong}"


# --- caches --------------------------------------------------------------------------------


@pytest.mark.parametrize("runner", RUNNER_LIST, ids=str)
def test_runner_uses_the_shared_s3_cache(runner: Runner) -> None:
    cache = runner.section.get("cache", {})
    assert cache.get("Type") == "s3"
    assert cache.get("Shared") is True, "without Shared = true the cache stays with one runner"
    assert cache.get("s3", {}).get("BucketName")


def test_all_runners_share_one_cache_location() -> None:
    caches = [r.section["cache"] for r in RUNNER_LIST]
    locations = {(c["s3"].get("ServerAddress"), c["s3"]["BucketName"], c.get("Path")) for c in caches}
    assert len(locations) == 1, f"runners cache in different places, so they cannot share: {locations}"


@pytest.mark.parametrize("runner", RUNNER_LIST, ids=str)
def test_cache_keys_are_not_in_the_file(runner: Runner) -> None:
    s3 = runner.section["cache"]["s3"]
    for key in ("AccessKey", "SecretKey", "SessionToken"):
        assert s3.get(key, "") in KEY_PLACEHOLDERS, f"{runner}: {key} holds a value; use IAM or a Secret"
    if s3.get("AuthenticationType") == "access-key" and not s3.get("AccessKey"):
        assert runner.helm_values is not None and runner.helm_values["runners"].get("cache", {}).get("secretName"), (
            f"{runner}: access-key authentication without keys needs runners.cache.secretName"
        )


@pytest.mark.parametrize("runner", GPU_RUNNERS, ids=str)
def test_gpu_runner_mounts_the_shared_dvc_cache(runner: Runner) -> None:
    cache_dir = runner.environment.get("ALOPS_DVC_CACHE_DIR")
    assert cache_dir and cache_dir.startswith("/"), "the job must be told where the shared DVC cache is"
    if runner.executor.startswith("docker"):
        mounts = [v.split(":") for v in runner.section["docker"].get("volumes", [])]
        assert any(len(m) >= 2 and m[0].startswith("/") and m[1] == cache_dir for m in mounts), mounts
    else:
        pvcs = runner.section["kubernetes"].get("volumes", {}).get("pvc", [])
        claims = [v["name"] for v in pvcs if v["mount_path"] == cache_dir]
        assert claims, f"no PVC mounted at {cache_dir}"
        manifests = [doc for p in CONFIG_FILES for doc in _load(p) if isinstance(doc, dict)]
        pvc = [d for d in manifests if d.get("kind") == "PersistentVolumeClaim" and d["metadata"]["name"] == claims[0]]
        assert pvc, f"no PersistentVolumeClaim {claims[0]} under runners/"
        assert "ReadWriteMany" in pvc[0]["spec"]["accessModes"], "many job pods mount it at once"


@pytest.mark.parametrize("runner", CPU_RUNNERS, ids=str)
def test_cpu_runner_does_not_mount_the_shared_dvc_cache(runner: Runner) -> None:
    # CPU runners run unprotected branches: they must not write into the cache full-data jobs trust.
    assert "ALOPS_DVC_CACHE_DIR" not in runner.environment
    assert not runner.section.get("kubernetes", {}).get("volumes", {}).get("pvc")
    assert all(v.count(":") == 0 for v in runner.section.get("docker", {}).get("volumes", [])), "no host mounts"


# --- limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p in CONFIG_FILES if p.suffix == ".toml"], ids=_rel)
def test_host_concurrency_covers_every_runner_limit(path: Path) -> None:
    config = _load(path)[0]
    limits = [section.get("limit", 0) for section in config["runners"]]
    assert all(limit > 0 for limit in limits), "limit = 0 means unlimited: the host would be overrun"
    assert config["concurrent"] >= sum(limits), "a busy CPU runner could take the GPU runner's slot"


@pytest.mark.parametrize("runner", [r for r in RUNNER_LIST if r.executor == "kubernetes"], ids=str)
def test_kubernetes_job_pods_have_requests_and_limits(runner: Runner) -> None:
    kube = runner.section["kubernetes"]
    for key in ("cpu_request", "cpu_limit", "memory_request", "memory_limit", "helper_memory_limit"):
        assert kube.get(key), f"{runner}: {key} is not set"
    assert runner.helm_values is not None and runner.helm_values["runners"].get("secret"), "token goes in a Secret"


# --- secrets -------------------------------------------------------------------------------

SECRET_PATTERNS = {
    "GitLab token": re.compile(r"\b(?:glrt|glpat|gldt|glcbt|glptt|glft|glimt|glagent|glsoat)-[0-9A-Za-z_-]{6,}"),
    "GitLab registration token": re.compile(r"\bGR1348941[0-9A-Za-z_-]{10,}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)secret[\w-]*[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}


def find_secrets(text: str) -> list[str]:
    """What in ``text`` looks like a real credential (the documented placeholders do not)."""
    found = []
    for kind, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(text):
            if match.group(0) != TOKEN_PLACEHOLDER:
                found.append(f"{kind}: {match.group(0)[:12]}…")
    return found


@pytest.mark.parametrize(
    "sample",
    [
        'token = "glrt-' + "t0k3n" * 4 + '"',
        "runnerToken: glpat-" + "a1B2c3D4e5" * 2,
        "AccessKey = AKIA" + "Q" * 16,
        'SecretKey = "' + "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "0123456789" + '"',
        "aws_secret_access_key=" + "x" * 40,
        "-----BEGIN OPENSSH " + "PRIVATE KEY-----",
    ],
)
def test_secret_scan_finds_real_looking_credentials(sample: str) -> None:
    assert find_secrets(sample)


def test_secret_scan_lets_placeholders_pass() -> None:
    assert find_secrets(f'token = "{TOKEN_PLACEHOLDER}"\nAccessKey = "REPLACE_ME"\n"glrt-…" tokens') == []


@pytest.mark.parametrize("path", TEXT_FILES, ids=_rel)
def test_no_secret_is_committed(path: Path) -> None:
    assert find_secrets(path.read_text("utf-8")) == []


@pytest.mark.parametrize("runner", RUNNER_LIST, ids=str)
def test_runner_token_is_a_placeholder(runner: Runner) -> None:
    if runner.helm_values is None:
        assert runner.section.get("token") == TOKEN_PLACEHOLDER
    else:
        assert "token" not in runner.section
        for key in ("runnerToken", "runnerRegistrationToken"):
            assert not runner.helm_values.get(key), f"{runner}: {key} belongs in the Secret runners.secret"


# --- Dockerfiles ---------------------------------------------------------------------------

DOCKERFILES = sorted(p for p in IMAGE_DIR.glob("Dockerfile*") if p.suffix != ".dockerignore")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[list[Instruction]]:
    """The stages of a Dockerfile, each a list of instructions; index 0 holds the ARGs before
    the first FROM. Continuation lines are joined and comments dropped."""
    stages: list[list[Instruction]] = [[]]
    logical = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):  # comments, parser directives, hadolint pragmas
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        if logical.strip():
            keyword, _, args = logical.strip().partition(" ")
            if keyword.upper() == "FROM":
                stages.append([])
            stages[-1].append(Instruction(keyword.upper(), args.strip()))
        logical = ""
    return stages


def _base_images(stages: list[list[Instruction]]) -> list[tuple[str, str | None]]:
    """(image, stage alias) of every FROM, with ARG defaults from before the first FROM resolved."""
    defaults = {}
    for ins in stages[0]:
        if ins.keyword == "ARG" and "=" in ins.args:
            key, value = ins.args.split("=", 1)
            defaults[key.strip()] = value.strip().strip("\"'")
    images = []
    for stage in stages[1:]:
        words = [w for w in stage[0].args.split() if not w.startswith("--")]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), words[0])
        alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
        images.append((image, alias))
    return images


def _image_is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in {"", "latest"} and "$" not in image


def test_both_dockerfiles_exist() -> None:
    assert [p.name for p in DOCKERFILES] == ["Dockerfile", "Dockerfile.gpu"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_base_images_are_pinned(path: Path) -> None:
    stages = parse_dockerfile(path.read_text("utf-8"))
    aliases: set[str] = set()
    for image, alias in _base_images(stages):
        if image not in aliases:
            assert _image_is_pinned(image), f"{_rel(path)}: FROM {image} is not pinned to a tag or digest"
        if alias:
            aliases.add(alias)


@pytest.mark.parametrize("runner", RUNNER_LIST, ids=str)
def test_runner_default_image_is_pinned(runner: Runner) -> None:
    image = runner.section.get(runner.executor.removesuffix("-autoscaler"), {}).get("image")
    assert image and _image_is_pinned(image), f"{runner}: default image {image!r}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_image_runs_python_3_11(path: Path) -> None:
    stages = parse_dockerfile(path.read_text("utf-8"))
    final_base = _base_images(stages)[-1][0]
    runs = " ".join(i.args for i in stages[-1] if i.keyword == "RUN")
    assert final_base.startswith("python:3.11.") or ("python3.11" in runs and "python3.11 -m venv" in runs), (
        f"{_rel(path)}: the job image must run Python 3.11"
    )


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_image_runs_as_a_non_root_user(path: Path) -> None:
    final = parse_dockerfile(path.read_text("utf-8"))[-1]
    users = [n for n, i in enumerate(final) if i.keyword == "USER"]
    assert users, f"{_rel(path)}: no USER: jobs would run as root"
    user = final[users[-1]].args.split(":")[0]
    assert user not in {"root", "0"}
    check = [n for n, i in enumerate(final) if i.keyword == "RUN" and "alops --version" in i.args]
    assert check and check[0] > users[-1], "the build check must run alops as the job's user"


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_image_installs_alops_from_the_build_context(path: Path) -> None:
    stages = parse_dockerfile(path.read_text("utf-8"))
    images = _base_images(stages)
    copied = {
        src for stage in stages[1:] for i in stage
        if i.keyword == "COPY" and "--from" not in i.args for src in i.args.split()[:-1]
    }  # fmt: skip
    assert "pyproject.toml" in copied and any(s.rstrip("/") == "src" for s in copied), copied
    builders = [images[n][1] for n, stage in enumerate(stages[1:]) if any("pip wheel" in i.args for i in stage)]
    assert builders and builders[0], "a named stage must build the alops wheel from the checkout"
    final = stages[-1]
    assert any(i.keyword == "COPY" and f"--from={builders[0]}" in i.args for i in final)
    installs = [i.args for i in final if i.keyword == "RUN" and "pip install" in i.args]
    # The dependencies come from uv.lock (exported with hashes in the build stage), the wheel after them
    # with --no-deps: extras on the wheel would install nothing.
    assert any("--require-hashes" in run and "requirements.txt" in run for run in installs), installs
    assert any(".whl" in run and "--no-deps" in run for run in installs), "install the wheel without resolving again"
    from_index = re.compile(r"pip install\b[^;&|]*?\s[\"']?alops(?:[\[\s\"'=<>~!]|$)")
    assert not any(from_index.search(run) for run in installs), "alops must not come from a package index"


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_image_has_oci_labels(path: Path) -> None:
    final = parse_dockerfile(path.read_text("utf-8"))[-1]
    labels = " ".join(i.args for i in final if i.keyword == "LABEL")
    keys = set(re.findall(r"org\.opencontainers\.image\.([\w.]+)=", labels))
    assert {"title", "description", "version", "revision", "source", "licenses", "created"} <= keys
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    assert f'org.opencontainers.image.licenses="{pyproject["project"]["license"]["text"]}"' in labels


def _ignored(patterns: list[str], path: str) -> bool:
    """Whether .dockerignore ``patterns`` leave ``path`` out of the build context (last match wins)."""
    result = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        regex = re.escape(body.strip("/")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            result = not negated
    return result


@pytest.mark.parametrize("path", DOCKERFILES, ids=_rel)
def test_build_context_holds_what_the_build_copies_and_nothing_big(path: Path) -> None:
    ignore = path.with_name(path.name + ".dockerignore")
    assert ignore.exists(), f"{_rel(ignore)} keeps .venv/ and node_modules/ out of the build context"
    patterns = [ln.strip() for ln in ignore.read_text("utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    needed = ["pyproject.toml", "README.md"] + [p.relative_to(REPO).as_posix() for p in (REPO / "src").rglob("*.py")]
    needed += [p.relative_to(REPO).as_posix() for p in (REPO / "src").rglob("*.json")]
    assert not [p for p in needed if _ignored(patterns, p)], "the build needs these"
    for big in (".venv/bin/python", "node_modules/gitlab-ci-local/package.json", ".git/config", "tests/conftest.py"):
        assert _ignored(patterns, big), f"{big} would be sent to the builder"


# --- the image name the templates use --------------------------------------------------------


def _version() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def _documented_images() -> tuple[str, str]:
    """The CPU and GPU image names runners/image/README.md documents for this version."""
    text = IMAGE_README.read_text("utf-8")
    version = re.escape(_version())
    cpu = set(re.findall(r"`(\$CI_REGISTRY[^`\s]*/alops:" + version + ")`", text))
    gpu = set(re.findall(r"`(\$CI_REGISTRY[^`\s]*/alops:" + version + "-gpu)`", text))
    assert len(cpu) == 1 and len(gpu) == 1, f"README must name one CPU and one GPU image for {_version()}: {cpu} {gpu}"
    return cpu.pop(), gpu.pop()


def test_image_readme_names_the_images_of_this_version() -> None:
    cpu, gpu = _documented_images()
    assert gpu == cpu + "-gpu"
    text = IMAGE_README.read_text("utf-8")
    for tag in ('"$CI_REGISTRY_IMAGE:$VERSION"', '"$CI_REGISTRY_IMAGE:$VERSION-gpu"'):
        assert tag in text, f"README builds and pushes {tag}"
    for dockerfile in DOCKERFILES:
        assert f"-f runners/image/{dockerfile.name} " in text
    assert "alops:latest" not in text


class _TemplateLoader(yaml.SafeLoader):
    """Loads GitLab CI YAML: custom tags such as !reference become plain values."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _template_inputs() -> dict[str, Any]:
    header = next(yaml.load_all(TEMPLATES.read_text("utf-8"), Loader=_TemplateLoader))
    return dict((header or {}).get("spec", {}).get("inputs", {}))


@pytest.mark.skipif(not TEMPLATES.exists(), reason="ci-templates/alops.yml is not written yet")
def test_templates_default_to_the_documented_images() -> None:
    cpu, gpu = _documented_images()
    inputs = _template_inputs()
    assert inputs.get("image", {}).get("default") == cpu
    for name, spec in inputs.items():
        if "image" in name and "gpu" in name:
            assert spec.get("default") == gpu, f"input {name}"
