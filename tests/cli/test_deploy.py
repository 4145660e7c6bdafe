"""``alops deploy`` on a real project: alops.yaml's release section, the local registry, git tags, `alops serve`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_deploy import Project, digits, free_port, get, services  # noqa: F401 - fixtures

from alops import deploy_local
from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_FAILURE
from alops.sections import Environment

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
"""
RELEASE = """release:
  model: digits
  requirements: [scikit-learn]
  environments:
    staging: {{url: "http://127.0.0.1:{port}", timeout: 60}}
    prod: {{url: "http://localhost:{prod}"}}
"""


@pytest.fixture
def project(tmp_path: Path, digits: tuple[Any, Any], services: list[deploy_local.Service]) -> Project:  # noqa: F811
    port, prod = free_port(), free_port()
    environments = {
        "staging": Environment("staging", f"http://127.0.0.1:{port}", None, 60.0),
        "prod": Environment("prod", f"http://localhost:{prod}", None, 60.0),
    }
    project = Project(tmp_path / "repo", digits, environments)
    (project.root / "alops.yaml").write_text(CONFIG + RELEASE.format(port=port, prod=prod))
    return project


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "deploy", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def plain(text: str) -> str:
    """The output with what changes from run to run (pids, seconds, commits) as placeholders."""
    text = re.sub(r"pid \d+", "pid N", text)
    text = re.sub(r"\(\d+\.\d s\)", "(S s)", text)
    return re.sub(r"\b[0-9a-f]{12}\b", "COMMIT", text)


@pytest.mark.slow
def test_deploy_then_roll_back_and_stop(project: Project, services: list[deploy_local.Service]) -> None:  # noqa: F811
    project.register("0.1.0")
    project.register("0.2.0")
    url = project.release.environments["staging"].url
    state = project.root / ".alops" / "deploy"
    dotenv = project.root.parent / "deploy.env"

    code, out, err = invoke(project.root, "--environment", "staging", "--version", "0.1.0")
    assert (code, err) == (0, "")
    assert plain(out) == (
        "deploying digits 0.1.0 (commit COMMIT) to staging\n"
        f"package: {state}/staging/0.1.0 (from the local registry {project.root}/.alops/registry)\n"
        f"started alops serve (pid N, log {state}/staging.log); waiting for {url}/healthz\n"
        f"{url} serves digits 0.1.0 (S s)\n"
        "tag digits#staging#1 on COMMIT\n"
        f"deployed digits 0.1.0 to staging ({url}; first deploy; tag digits#staging#1)\n"
    )

    code, out, err = invoke(project.root, "-e", "staging", "--dotenv", str(dotenv))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"deployed digits 0.2.0 to staging ({url}; was 0.1.0; tag digits#staging#2)"
    assert dotenv.read_text() == f"ALOPS_DEPLOY_URL={url}\nALOPS_DEPLOY_VERSION=0.2.0\n"
    assert get(f"{url}/v1/models/digits")["version"] == "0.2.0"

    code, out, err = invoke(project.root, "-e", "staging", "--rollback")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"rolled back staging to digits 0.1.0 ({url}; was 0.2.0; tag digits#staging#3)"
    assert get(f"{url}/v1/models/digits")["version"] == "0.1.0"
    assert json.loads((state / "staging.json").read_text())["version"] == "0.1.0"

    code, out, err = invoke(project.root, "-e", "staging", "--stop")
    assert (code, out, err) == (0, f"stopped digits 0.1.0 in staging (pid {services[-1].pid})\n", "")
    assert not deploy_local.alive(services[-1].pid)
    assert invoke(project.root, "-e", "staging", "--stop") == (0, "staging has no service running here\n", "")


@pytest.mark.slow
def test_a_broken_version_fails_with_exit_1_and_its_log(project: Project) -> None:
    project.register("0.1.0")
    project.register("0.2.0", broken=True)
    assert invoke(project.root, "-e", "prod", "--version", "0.1.0")[0] == 0
    code, out, err = invoke(project.root, "-e", "prod")
    assert code == EXIT_FAILURE
    assert plain(err).startswith(
        "Error: digits 0.2.0 did not come up in prod: the service exited before it answered "
        f"{project.release.environments['prod'].url}/healthz"
    )
    assert "; prod serves digits 0.1.0 again (pid N)\nthe end of its log" in plain(err)
    assert "RuntimeError: model.pkl is corrupt (a broken release)" in err
    assert "Traceback" not in err.split("the end of its log", 1)[0]


def test_the_environment_comes_from_the_option_or_ci(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = invoke(project.root)
    assert (code, out, err) == (EXIT_CONFIG, "", "Error: give --environment: one of prod, staging\n")
    monkeypatch.setenv("CI_ENVIRONMENT_NAME", "review/x")  # not one of release.environments: still required
    assert invoke(project.root)[0] == EXIT_CONFIG
    monkeypatch.setenv("CI_ENVIRONMENT_NAME", "prod")
    code, out, err = invoke(project.root, "--stop")
    assert (code, out, err) == (0, "prod has no service running here\n", "")
    code, out, err = invoke(project.root, "-e", "qa")
    assert code == EXIT_CONFIG
    assert err == (
        f"Error: {project.root / 'alops.yaml'}:10: release.environments has no environment 'qa': use one of prod, "
        "staging, or add it there\n"
    )


def test_options_that_do_not_go_together(project: Project) -> None:
    code, _, err = invoke(project.root, "-e", "staging", "--version", "0.1.0", "--rollback")
    assert (code, err) == (
        EXIT_CONFIG,
        "Error: --rollback deploys the environment's previous version: give --version or --rollback\n",
    )
    code, _, err = invoke(project.root, "-e", "staging", "--stop", "--rollback")
    assert code == EXIT_CONFIG and "--stop" in err


def test_without_a_release_section(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(CONFIG)
    code, out, err = invoke(tmp_path, "-e", "prod")
    assert code == EXIT_CONFIG
    assert err.startswith(f"Error: {tmp_path / 'alops.yaml'} has no release: section: add one naming the model")


def test_in_ci_without_a_token_nothing_is_deployed(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.register("0.1.0")
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("CI_SERVER_URL", "https://gitlab.example.com")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-value")
    code, out, err = invoke(project.root, "-e", "staging")
    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith("Error: ALOPS_GITLAB_TOKEN is not set: alops deploy records each deploy as a GTO stage tag")
    assert "nothing was deployed" in err
    assert not (project.root / ".alops" / "deploy").exists()


@pytest.mark.slow
def test_from_the_project_folder_the_state_holds_absolute_paths(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.register("0.1.0")
    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(cli, ["deploy", "-e", "staging"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "package: .alops/deploy/staging/0.1.0 (from the local registry .alops/registry)\n" in result.stdout
    state = json.loads(Path(".alops/deploy/staging.json").read_text())
    assert state["package"] == str(project.root / ".alops" / "deploy" / "staging" / "0.1.0")
    assert state["log"] == str(project.root / ".alops" / "deploy" / "staging.log")
    monkeypatch.chdir(project.root.parent)  # elsewhere, the same service is found and stopped
    result = CliRunner().invoke(cli, ["-c", "repo/alops.yaml", "deploy", "-e", "staging", "--stop"])
    assert (result.exit_code, result.stdout) == (0, f"stopped digits 0.1.0 in staging (pid {state['pid']})\n")
