"""alops's own pipeline (.gitlab-ci.yml at the root): GitLab's CI schema, which jobs
each kind of pipeline gets (gitlab-ci-local's rules engine), the wheel job's
check that a release tag is the package's version, and the job-image build's
skip / push / digest logic with a stand-in buildctl (run as shell jobs)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from alops.cli import cli

from ci.gitlab_ci_local import (
    GCL,
    REPO,
    SHELL_RUN,
    GitlabCiLocal,
    Scenario,
    commit,
    init_repo,
    merge_request,
    push,
    tag,
    write_files,
)

PIPELINE = REPO / ".gitlab-ci.yml"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_matches_gitlab_s_ci_schema() -> None:
    exe = Path(sys.executable).with_name("check-jsonschema")
    out = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci", str(PIPELINE)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def gcl(tmp_path_factory: pytest.TempPathFactory) -> GitlabCiLocal:
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    repo = init_repo(
        tmp_path_factory.mktemp("alops-ci") / "alops",
        {".gitlab-ci.yml": PIPELINE, "pyproject.toml": REPO / "pyproject.toml"},
    )
    return GitlabCiLocal(repo)


#: Every pipeline resolves both job images (and builds the missing ones).
IMAGES = {"job-image-resolve", "job-image-gpu-resolve", "job-image", "job-image-gpu"}


# workflow: rules are not enforced by gitlab-ci-local; the job rules are.
@pytest.mark.parametrize(
    ("scenario", "jobs"),
    [
        (push("branch", "feature", "feature/x"), {"lint", "test"} | IMAGES),
        (push("default", "default", "main"), {"lint", "test"} | IMAGES),
        (merge_request("mr", "feature", "feature/x"), {"lint", "test"} | IMAGES),
        (tag("release", VERSION), {"lint", "test", "wheel", "pypi", "release"} | IMAGES),
        (tag("v-release", f"v{VERSION}"), {"lint", "test", "wheel", "pypi"} | IMAGES),  # no catalog version with a v
        (tag("other-tag", "nightly-2026-01-01"), {"lint", "test"} | IMAGES),
        (tag("pre-release", f"{VERSION}-rc1"), {"lint", "test"} | IMAGES),
    ],
    ids=lambda v: v.id if isinstance(v, Scenario) else "",
)
def test_jobs_of_each_pipeline(gcl: GitlabCiLocal, scenario: Scenario, jobs: set[str]) -> None:
    assert set(gcl.jobs(scenario)) == jobs


def test_release_job_releases_the_tag_and_publish_uses_the_job_token() -> None:
    config = yaml.safe_load(PIPELINE.read_text())
    assert config["release"]["release"]["tag_name"] == "$CI_COMMIT_TAG"
    assert config["release"]["needs"] == ["pypi"] and config["pypi"]["needs"] == ["wheel"]
    publish = config["pypi"]
    assert publish["variables"] == {
        "UV_PUBLISH_URL": "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi",
        "UV_PUBLISH_USERNAME": "gitlab-ci-token",
    }
    assert publish["script"] == ['UV_PUBLISH_PASSWORD="$CI_JOB_TOKEN" uv publish dist/*']
    assert config["test"]["script"] == [".ci/run"]  # make test, as the README says
    assert "make lint" in config["lint"]["script"][0]


def _version_check(gcl: GitlabCiLocal, name: str) -> subprocess.CompletedProcess[str]:
    """The wheel job's script up to `uv build`, as a shell job of its own."""
    config = yaml.safe_load(PIPELINE.read_text())
    script = [line for line in config["wheel"]["script"] if not line.startswith("uv build")]
    probe = gcl.repo / "version.gitlab-ci.yml"
    probe.write_text(yaml.safe_dump({"version": {"script": script}}))
    return GitlabCiLocal(gcl.repo, file="version.gitlab-ci.yml")(
        "version", *SHELL_RUN, "--no-json-schema-validation", scenario=tag(name, name), check=False
    )


def test_wheel_job_refuses_a_tag_that_is_not_the_package_version(gcl: GitlabCiLocal) -> None:
    assert _version_check(gcl, VERSION).returncode == 0
    assert _version_check(gcl, f"v{VERSION}").returncode == 0
    wrong = _version_check(gcl, "99.0.0")
    assert wrong.returncode != 0
    assert f"tag 99.0.0 is not the package's version {VERSION} (pyproject.toml)" in wrong.stdout + wrong.stderr


# --- job images ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "dockerfile", "name"), [("job-image", "Dockerfile", "job"), ("job-image-gpu", "Dockerfile.gpu", "job-gpu")]
)
def test_each_variant_resolves_its_own_dockerfile_and_name(job: str, dockerfile: str, name: str) -> None:
    config = yaml.safe_load(PIPELINE.read_text())
    resolve = config[f"{job}-resolve"]
    assert resolve["variables"] == {
        "JOB_DOCKERFILE": f"runners/image/{dockerfile}",
        "JOB_IMAGE_NAME": f"$CI_REGISTRY_IMAGE/{name}",
    }
    assert config[job]["needs"] == [f"{job}-resolve"]
    assert config[job]["variables"] == {"JOB_DOCKERFILE": f"runners/image/{dockerfile}"}
    assert config[".job-image-resolve"]["artifacts"]["reports"]["dotenv"] == "job-image.env"
    assert config[".job-image"]["artifacts"]["reports"]["dotenv"] == "job-image.env"


def test_the_resolve_command_tags_this_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolve job's own arguments, given to `alops image tag` in this checkout."""
    config = yaml.safe_load(PIPELINE.read_text())
    command = config[".job-image-resolve"]["script"][-1]
    assert command.startswith("uv run --frozen --no-dev alops image resolve ")
    args = command.split(" alops image resolve ", 1)[1].replace('"', "").split()
    assert args[-2:] == ["--dotenv", "job-image.env"] and "--input src" in " ".join(args)
    monkeypatch.chdir(REPO)
    tags = {}
    for job in ("job-image-resolve", "job-image-gpu-resolve"):
        values = {
            k: v.replace("$CI_REGISTRY_IMAGE", "registry.example.com/mlops/alops")
            for k, v in config[job]["variables"].items()
        }
        argv = [values.get(a[1:], a) for a in args[:-2]]
        result = CliRunner().invoke(cli, ["image", "tag", *argv], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        tags[job] = result.stdout.strip()
    assert re.fullmatch(r"registry\.example\.com/mlops/alops/job:deps-[0-9a-f]{16}", tags["job-image-resolve"])
    assert re.fullmatch(r"registry\.example\.com/mlops/alops/job-gpu:deps-[0-9a-f]{16}", tags["job-image-gpu-resolve"])
    assert tags["job-image-resolve"].split(":")[1] != tags["job-image-gpu-resolve"].split(":")[1]


DIGEST = "sha256:" + "e3" * 32
#: Stands in for BuildKit: records its arguments and writes the metadata file it was asked for.
FAKE_BUILDCTL = """#!/bin/sh
printf '%s\\n' "$@" > "$CI_PROJECT_DIR/buildctl-args"
while [ "$#" -gt 0 ]; do
  if [ "$1" = --metadata-file ]; then printf '{"containerimage.digest": "%s"}\\n' "${FAKE_DIGEST}" > "$2"; fi
  shift
done
"""


def _build_job(
    gcl: GitlabCiLocal, variables: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], str | None, list[str]]:
    """The job-image job's script as a shell job, buildctl-daemonless.sh stood in for: (result, dotenv, its arguments)."""
    shutil.rmtree(gcl.repo / ".gitlab-ci-local/artifacts/build", ignore_errors=True)
    config = yaml.safe_load(PIPELINE.read_text())
    job = {
        "variables": {**config["job-image"]["variables"], "BUILDKITD_FLAGS": "--oci-worker-no-process-sandbox"},
        "before_script": ['export PATH="$CI_PROJECT_DIR/fakebin:$PATH" HOME="$CI_PROJECT_DIR/home"'],
        "script": config[".job-image"]["script"],
        "artifacts": {
            **config[".job-image"]["artifacts"],
            "paths": ["job-image.env", "buildctl-args"],
            "when": "always",
        },
    }
    write_files(
        gcl.repo,
        {"build.gitlab-ci.yml": yaml.safe_dump({"build": job}), "fakebin/buildctl-daemonless.sh": FAKE_BUILDCTL},
    )
    (gcl.repo / "fakebin/buildctl-daemonless.sh").chmod(0o755)
    subprocess.run(["git", "add", "-A"], cwd=gcl.repo, check=True)
    if subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=gcl.repo).returncode:
        commit(gcl.repo, "build probe")  # shell isolation: the job sees committed files only
    result = GitlabCiLocal(gcl.repo, file="build.gitlab-ci.yml")(
        "build", *SHELL_RUN, "--no-json-schema-validation", variables=variables, check=False
    )
    saved = gcl.repo / ".gitlab-ci-local/artifacts/build"
    dotenv = (saved / "job-image.env").read_text() if (saved / "job-image.env").exists() else None
    called = (saved / "buildctl-args").read_text().splitlines() if (saved / "buildctl-args").exists() else []
    return result, dotenv, called


def test_the_build_job_does_nothing_when_the_tag_exists(gcl: GitlabCiLocal) -> None:
    result, dotenv, called = _build_job(
        gcl, {"ALOPS_IMAGE_BUILD": "", "ALOPS_JOB_IMAGE": f"r.example/g/p/job@{DIGEST}"}
    )
    assert result.returncode == 0, result.stdout
    assert f"The job image is in the registry already: r.example/g/p/job@{DIGEST}" in result.stdout
    assert (dotenv, called) == ("", [])  # an empty dotenv: the resolve job's ALOPS_JOB_IMAGE stays


def test_the_build_job_pushes_the_tag_and_writes_its_digest(gcl: GitlabCiLocal) -> None:
    result, dotenv, called = _build_job(
        gcl,
        {
            "ALOPS_IMAGE_BUILD": "r.example/g/p/job:deps-0123456789abcdef",
            "FAKE_DIGEST": DIGEST,
            "CI_REGISTRY": "r.example",
        },
    )
    assert result.returncode == 0, result.stdout
    assert dotenv == f"ALOPS_JOB_IMAGE=r.example/g/p/job@{DIGEST}\n"
    assert called[:3] == ["build", "--frontend", "dockerfile.v0"]
    assert called[called.index("--output") + 1] == "type=image,name=r.example/g/p/job:deps-0123456789abcdef,push=true"
    assert called[called.index("--export-cache") + 1] == "type=registry,ref=r.example/g/p/job:buildcache,mode=max"
    assert called[called.index("--import-cache") + 1] == "type=registry,ref=r.example/g/p/job:buildcache"
    options = [called[n + 1] for n, word in enumerate(called) if word in ("--opt", "--local")]
    assert {
        "context=.",
        "dockerfile=runners/image",
        "filename=Dockerfile",
        f"build-arg:ALOPS_VERSION={VERSION}",
    } <= set(options)
    assert called[called.index("--metadata-file") + 1] == "image.json"


def test_the_build_job_fails_without_a_digest(gcl: GitlabCiLocal) -> None:
    result, dotenv, called = _build_job(
        gcl, {"ALOPS_IMAGE_BUILD": "r.example/g/p/job:deps-0123456789abcdef", "FAKE_DIGEST": "none"}
    )
    assert result.returncode != 0 and called, "it built, and found no digest"
    assert (
        "Error: no containerimage.digest in BuildKit's image.json: was the image pushed?"
        in result.stdout + result.stderr
    )
    assert dotenv == ""  # no ALOPS_JOB_IMAGE naming an image that was not pushed
