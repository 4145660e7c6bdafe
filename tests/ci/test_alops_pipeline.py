"""alops's own pipeline (.gitlab-ci.yml at the root): GitLab's CI schema, which jobs
each kind of pipeline gets (gitlab-ci-local's rules engine), and the wheel job's
check that a release tag is the package's version (run as a shell job)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from ci.gitlab_ci_local import GCL, REPO, SHELL_RUN, GitlabCiLocal, Scenario, init_repo, merge_request, push, tag

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


# workflow: rules are not enforced by gitlab-ci-local; the job rules are.
@pytest.mark.parametrize(
    ("scenario", "jobs"),
    [
        (push("branch", "feature", "feature/x"), {"lint", "test"}),
        (push("default", "default", "main"), {"lint", "test"}),
        (merge_request("mr", "feature", "feature/x"), {"lint", "test"}),
        (tag("release", VERSION), {"lint", "test", "wheel", "pypi", "release"}),
        (tag("v-release", f"v{VERSION}"), {"lint", "test", "wheel", "pypi"}),  # no catalog version with a v
        (tag("other-tag", "nightly-2026-01-01"), {"lint", "test"}),
        (tag("pre-release", f"{VERSION}-rc1"), {"lint", "test"}),
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
