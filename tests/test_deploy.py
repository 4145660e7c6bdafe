"""alops.deploy against the real things: git tags (LocalTags), the local registry, `alops serve` over real HTTP.

Each project is a real git repository whose versions are real packages (a decision
tree on scikit-learn's digits, served by the skeleton's predictor), uploaded to a
LocalRegistry and registered with annotated GTO tags. Every service a test starts is
stopped by the ``services`` fixture, whatever the test's outcome.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alops import deploy as deploys
from alops import deploy_local
from alops.deploy import Deployment
from alops.errors import ConfigError, DataError, StepError, ToolError
from alops.sections import Environment, Release

ROOT = Path(__file__).resolve().parents[1]
PREDICTOR = ROOT / "examples" / "project-skeleton" / "src" / "predict.py"
MODEL = "digits"
BROKEN = 'def load(model_dir):\n    raise RuntimeError("model.pkl is corrupt (a broken release)")\n'
HANGS = "import time\n\n\ndef load(model_dir):\n    time.sleep(300)\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback test server
        return json.loads(response.read())


def predict(url: str, instances: list[Any]) -> list[Any]:
    request = urllib.request.Request(
        f"{url}/v1/models/{MODEL}:predict",
        data=json.dumps({"instances": instances}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return list(json.loads(response.read())["predictions"])


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def digits() -> tuple[Any, Any]:
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


class Project:
    """A git repository that releases versions of ``digits`` the way `alops release` does (package, registry, tag)."""

    def __init__(self, root: Path, digits: tuple[Any, Any], environments: dict[str, Environment]) -> None:
        from alops.release.registry import LocalRegistry
        from alops.release.tags import LocalTags

        self.root, self.digits = root, digits
        self.env = dict(os.environ)
        root.mkdir(parents=True)
        git(root, "init", "-q", "-b", "main")
        (root / "src").mkdir()
        (root / "models" / "full").mkdir(parents=True)
        self.release = Release(MODEL, "models/{dataset}", "patch", "src/predict.py", ("scikit-learn",), environments)
        self.registry = LocalRegistry(root / ".alops" / "registry")
        self.tags = LocalTags(root, self.env)
        self.state = root / ".alops" / "deploy"
        self.lines: list[str] = []
        self.models: dict[str, Any] = {}

    def register(self, version: str, *, depth: int = 4, broken: bool = False, predictor: str | None = None) -> str:
        """Commit a model of ``version``, package and upload it, tag it ``digits@vVERSION``; its commit."""
        from sklearn.tree import DecisionTreeClassifier

        from alops.release.package import build
        from alops.release.tags import registration_message, registration_tag
        from alops.release.version import Version

        x, y = self.digits
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(x[:600], y[:600])
        self.models[version] = model
        (self.root / "models" / "full" / "model.pkl").write_bytes(pickle.dumps(model))
        if broken or predictor:
            (self.root / "src" / "predict.py").write_text(predictor or BROKEN)
        else:
            shutil.copy(PREDICTOR, self.root / "src" / "predict.py")
        git(self.root, "add", "-A")
        git(self.root, "-c", "commit.gpgsign=false", "commit", "-q", "-m", f"model {version}")
        commit = git(self.root, "rev-parse", "HEAD")
        manifest = {"dataset": "full", "commit": commit, "metrics": {"accuracy": 0.9}, "created": "2026-01-01"}
        package = build(self.root, self.release, manifest, version, self.root.parent / "build")
        manifest_file = self.root.parent / "build" / "alops-manifest.json"
        manifest_file.write_text(json.dumps(manifest))
        self.registry.upload(package, manifest_file)
        v = Version.parse(version)
        self.tags.create(registration_tag(MODEL, v), commit, registration_message(MODEL, v))
        return commit

    def deploy(self, version: str | None = None, *, rollback: bool = False, environment: str = "staging") -> Deployment:
        self.lines = []
        return deploys.deploy(
            self.root,
            self.release,
            environment,
            version,
            rollback=rollback,
            registry=self.registry,
            tags=self.tags,
            env=self.env,
            state_dir=self.state,
            progress=self.lines.append,
        )

    def stage_tags(self, stage: str = "staging") -> list[tuple[str, str, str]]:
        """(name, object type, commit) of each ``digits#STAGE#N`` tag git has."""
        names = git(self.root, "tag", "-l", f"{MODEL}#{stage}#*").split()
        return [
            (n, git(self.root, "cat-file", "-t", f"refs/tags/{n}"), git(self.root, "rev-parse", f"{n}^{{commit}}"))
            for n in sorted(names)
        ]

    def expected(self, version: str, rows: Any) -> list[int]:
        return [int(d) for d in self.models[version].predict(rows)]


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[deploy_local.Service]]:
    """Every service deploy_local starts in the test (recorded, not replaced), stopped at the end."""
    started: list[deploy_local.Service] = []
    real = deploy_local.start

    def recorded(*args: Any, **kwargs: Any) -> deploy_local.Service:
        service = real(*args, **kwargs)
        started.append(service)
        return service

    monkeypatch.setattr(deploy_local, "start", recorded)
    yield started
    for service in started:
        deploy_local.stop(service, grace=5)


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def project(tmp_path: Path, digits: tuple[Any, Any], port: int, services: list[deploy_local.Service]) -> Project:
    staging = Environment("staging", f"http://127.0.0.1:{port}", None, 60.0)
    return Project(tmp_path / "repo", digits, {"staging": staging})


@pytest.mark.slow
def test_deploy_upgrade_and_rollback(project: Project, services: list[deploy_local.Service]) -> None:
    x, _ = project.digits
    rows = x[600:640]
    first = project.register("0.1.0", depth=2)
    url = project.release.environments["staging"].url

    done = project.deploy("0.1.0")
    assert done == Deployment("staging", "0.1.0", None, url, "digits#staging#1", False)
    assert predict(url, rows.tolist()) == project.expected("0.1.0", rows)
    assert project.lines[-1] == f"tag digits#staging#1 on {first[:12]}"

    second = project.register("0.2.0", depth=8)
    assert project.expected("0.1.0", rows) != project.expected("0.2.0", rows)  # the versions tell apart
    done = project.deploy()  # the latest registered
    assert done == Deployment("staging", "0.2.0", "0.1.0", url, "digits#staging#2", False)
    assert get(f"{url}/v1/models/{MODEL}")["version"] == "0.2.0"
    assert predict(url, rows.tolist()) == project.expected("0.2.0", rows)
    assert not deploy_local.alive(services[0].pid)  # the old one was stopped, not left beside

    done = project.deploy(rollback=True)
    assert done == Deployment("staging", "0.1.0", "0.2.0", url, "digits#staging#3", True)
    assert get(f"{url}/v1/models/{MODEL}")["version"] == "0.1.0"
    assert predict(url, rows.tolist()) == project.expected("0.1.0", rows)
    assert f"package: {project.state / 'staging' / '0.1.0'} (extracted before)" in project.lines

    assert project.stage_tags() == [
        ("digits#staging#1", "tag", first),
        ("digits#staging#2", "tag", second),
        ("digits#staging#3", "tag", first),
    ]
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "gto"), "show", "--json"],
        cwd=project.root,
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(shown.stdout)[MODEL]["stage"] == {"staging": "v0.1.0"}  # GTO reads the rollback too
    state = json.loads((project.state / "staging.json").read_text())
    assert (state["version"], state["port"], state["pid"]) == ("0.1.0", services[-1].port, services[-1].pid)

    # A second rollback goes back to 0.2.0: the environment's previous version, from the tags.
    assert project.deploy(rollback=True).version == "0.2.0"


@pytest.mark.slow
def test_a_version_that_does_not_come_up_leaves_the_old_one_serving(
    project: Project, services: list[deploy_local.Service]
) -> None:
    x, _ = project.digits
    url = project.release.environments["staging"].url
    project.register("0.1.0")
    project.deploy()
    project.register("0.2.0", broken=True)

    with pytest.raises(StepError) as caught:
        project.deploy("0.2.0")

    message = str(caught.value)
    assert message.startswith("digits 0.2.0 did not come up in staging: the service exited before it answered")
    assert "; staging serves digits 0.1.0 again (pid " in message
    assert "model.pkl is corrupt (a broken release)" in message  # the end of its log
    assert get(f"{url}/v1/models/{MODEL}")["version"] == "0.1.0"
    assert predict(url, x[:5].tolist()) == project.expected("0.1.0", x[:5])
    assert [t[0] for t in project.stage_tags()] == ["digits#staging#1"]
    assert json.loads((project.state / "staging.json").read_text())["pid"] == services[-1].pid
    assert not deploy_local.alive(services[1].pid)  # the broken one is gone


@pytest.mark.slow
def test_an_interrupted_deploy_puts_the_old_version_back(
    project: Project, services: list[deploy_local.Service]
) -> None:
    import _thread
    import threading

    url = project.release.environments["staging"].url
    project.register("0.1.0")
    project.deploy()
    project.register("0.2.0", predictor=HANGS)

    def progress(line: str) -> None:  # Ctrl-C (or SIGTERM, a cancelled job) while the new one loads
        if line.startswith("started alops serve"):
            threading.Timer(0.5, _thread.interrupt_main).start()

    with pytest.raises(KeyboardInterrupt):
        deploys.deploy(
            project.root,
            project.release,
            "staging",
            "0.2.0",
            rollback=False,
            registry=project.registry,
            tags=project.tags,
            env=project.env,
            state_dir=project.state,
            progress=progress,
        )
    assert get(f"{url}/v1/models/{MODEL}")["version"] == "0.1.0"
    assert len(services) == 3 and not deploy_local.alive(services[1].pid)
    assert json.loads((project.state / "staging.json").read_text())["pid"] == services[2].pid
    assert [t[0] for t in project.stage_tags()] == ["digits#staging#1"]


@pytest.mark.slow
def test_the_same_version_again_changes_nothing(project: Project, services: list[deploy_local.Service]) -> None:
    project.register("0.1.0")
    project.deploy()
    again = project.deploy("0.1.0")
    assert again.tag == "digits#staging#1"
    assert len(services) == 1
    assert project.lines[-2:] == [
        f"staging already serves digits 0.1.0 (pid {services[0].pid})",
        "tag digits#staging#1 already says staging has digits 0.1.0",
    ]


@pytest.mark.slow
def test_a_stale_state_file_is_ignored(project: Project, services: list[deploy_local.Service]) -> None:
    project.register("0.1.0")
    project.state.mkdir(parents=True)
    stale = {"pid": os.getpid(), "port": 1, "version": "0.0.9", "package": "/nowhere", "started": "", "log": ""}
    (project.state / "staging.json").write_text(json.dumps(stale))  # our own pid: alive, but no alops serve

    assert project.deploy().version == "0.1.0"
    assert f"state: {project.state / 'staging.json'} names no running service (ignored)" in project.lines
    assert json.loads((project.state / "staging.json").read_text())["pid"] == services[0].pid


@pytest.mark.slow
def test_a_service_whose_state_folder_is_gone_is_replaced(
    project: Project, services: list[deploy_local.Service]
) -> None:
    project.register("0.1.0")
    project.deploy()
    shutil.rmtree(project.state)  # a CI job's clone, cleaned between jobs: the service it started runs on
    project.register("0.2.0")

    assert project.deploy().version == "0.2.0"
    first = services[0]
    assert f"found alops serve of digits 0.1.0 on port {first.port} (pid {first.pid}) without a state file" in (
        project.lines
    )
    assert not deploy_local.alive(first.pid)
    shutil.rmtree(project.state)
    stopped = deploys.stop(project.state, "staging", first.port, MODEL)
    assert stopped is not None and (stopped.pid, stopped.version) == (services[1].pid, "0.2.0")
    assert not deploy_local.alive(services[1].pid)


@pytest.mark.slow
def test_another_model_s_service_on_the_port_is_left_alone(
    project: Project, services: list[deploy_local.Service], port: int, tmp_path: Path
) -> None:
    from dataclasses import replace

    from alops.release.package import build, extract

    commit = project.register("0.1.0")
    other = replace(project.release, model="other")
    archive = build(project.root, other, {"dataset": "full", "commit": commit}, "3.0.0", tmp_path / "other").archive
    served = extract(archive, tmp_path / "other-package")
    theirs = deploy_local.start(tmp_path / "other-state", "x", served, "3.0.0", "127.0.0.1", port, project.env)
    deploy_local.wait_until_serving(f"http://127.0.0.1:{port}", "other", "3.0.0", 60)

    with pytest.raises(ToolError, match=f"^port {port} .* is in use by another program"):
        project.deploy()
    assert deploy_local.alive(theirs.pid)
    assert len(services) == 1


def test_a_port_in_use_by_another_program_is_refused_before_anything_starts(
    project: Project, services: list[deploy_local.Service], port: int
) -> None:
    project.register("0.1.0")
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        with pytest.raises(ToolError, match=rf"^port {port} of http://127.0.0.1:{port} \(release.environments"):
            project.deploy()
    assert services == []
    assert project.stage_tags() == []


def test_rollback_needs_a_previous_version(project: Project) -> None:
    project.register("0.1.0")
    with pytest.raises(DataError, match="^staging has no deploy: there is nothing to roll back to"):
        project.deploy(rollback=True)


@pytest.mark.slow
def test_rollback_after_one_version_only(project: Project) -> None:
    project.register("0.1.0")
    project.register("0.2.0")
    project.deploy("0.1.0")
    project.deploy("0.1.0")
    with pytest.raises(DataError, match="^staging has had only digits 0.1.0: there is nothing to roll back to"):
        project.deploy(rollback=True)


def test_versions_that_are_not_registered(project: Project) -> None:
    with pytest.raises(DataError, match=r"^digits has no registered version \(no digits@vX.Y.Z tag\)"):
        project.deploy()
    project.register("0.1.0")
    with pytest.raises(DataError, match=r"^digits 0.3.0 is not registered \(no tag digits@v0.3.0\): registered"):
        project.deploy("0.3.0")
    with pytest.raises(ConfigError, match="is not a version"):
        project.deploy("0.3")
    with pytest.raises(ConfigError, match="^--rollback puts back"):
        project.deploy("0.1.0", rollback=True)


def test_a_registered_version_without_a_package(project: Project) -> None:
    from alops.release.tags import registration_message, registration_tag
    from alops.release.version import Version

    project.register("0.1.0")
    commit = git(project.root, "rev-parse", "HEAD")
    project.tags.create(
        registration_tag(MODEL, Version(0, 2, 0)), commit, registration_message(MODEL, Version(0, 2, 0))
    )
    with pytest.raises(DataError):
        project.deploy()
    assert project.stage_tags() == []


def test_unknown_environments_and_remote_urls(project: Project) -> None:
    with pytest.raises(ConfigError, match=r"^alops.yaml: release.environments has no environment 'prod': use one"):
        project.deploy(environment="prod")
    remote = Environment("prod", "http://10.0.0.8:8080", None, 5.0)
    with pytest.raises(ConfigError, match="is not on this machine"):
        deploys.local_address(remote)
    with pytest.raises(ConfigError, match="drop the path"):
        deploys.local_address(Environment("prod", "http://127.0.0.1:8080/api", None, 5.0))
    assert deploys.local_address(Environment("prod", "http://localhost:8082", None, 5.0)) == ("127.0.0.1", 8082)


DEPLOY_SCRIPT = """\
import json, os, subprocess, sys

out, port = sys.argv[1], sys.argv[2]
with open(out + ".json", "w") as fh:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("ALOPS_DEPLOY_")}, fh)
if os.path.exists(out + ".pid"):  # the previous one: a real deploy command replaces it
    import signal, time
    pid = int(open(out + ".pid").read())
    os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode:
            break
        time.sleep(0.1)
alops = os.path.join(os.path.dirname(sys.executable), "alops")
with open(out + ".log", "a") as log:
    child = subprocess.Popen(
        [alops, "serve", "--package", os.environ["ALOPS_DEPLOY_PACKAGE"], "--port", port],
        start_new_session=True, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
    )
with open(out + ".pid", "w") as fh:
    fh.write(str(child.pid))
print("deployed", os.environ["ALOPS_DEPLOY_VERSION"])
"""


@pytest.fixture
def command_project(tmp_path: Path, digits: tuple[Any, Any], port: int) -> Iterator[Project]:
    """An environment whose command starts `alops serve` itself (as kubectl or docker would elsewhere)."""
    script = tmp_path / "deploy_service.py"
    script.write_text(DEPLOY_SCRIPT)
    out = tmp_path / "deployed"
    command = (sys.executable, str(script), str(out), str(port))
    staging = Environment("staging", f"http://127.0.0.1:{port}", command, 60.0)
    project = Project(tmp_path / "repo", digits, {"staging": staging})
    yield project
    pid_file = tmp_path / "deployed.pid"
    if pid_file.exists():  # the script's service: its own process group, as the script started it
        pid = int(pid_file.read_text())
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _running(pid):
                time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat


@pytest.mark.slow
def test_a_command_environment(command_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = command_project
    project.env["CI_REGISTRY_IMAGE"] = "registry.example.com/grp/proj"
    project.register("0.1.0")

    done = project.deploy()

    assert done.tag == "digits#staging#1"
    seen = json.loads((tmp_path / "deployed.json").read_text())
    assert seen == {
        "ALOPS_DEPLOY_VERSION": "0.1.0",
        "ALOPS_DEPLOY_IMAGE": "registry.example.com/grp/proj/digits:0.1.0",
        "ALOPS_DEPLOY_PACKAGE": str(project.state / "staging" / "0.1.0"),
        "ALOPS_DEPLOY_ENVIRONMENT": "staging",
    }
    assert get(f"{done.url}/v1/models/{MODEL}")["version"] == "0.1.0"

    project.env["ALOPS_SERVE_IMAGE"] = "registry.example.com/digits-serving@sha256:abc"
    project.register("0.2.0")
    assert project.deploy().version == "0.2.0"
    seen = json.loads((tmp_path / "deployed.json").read_text())
    assert seen["ALOPS_DEPLOY_IMAGE"] == "registry.example.com/digits-serving@sha256:abc"
    assert get(f"{done.url}/v1/models/{MODEL}")["version"] == "0.2.0"


def test_a_failing_command_writes_no_tag(tmp_path: Path, digits: tuple[Any, Any]) -> None:
    fail = (sys.executable, "-c", "import sys; print('kubectl: no cluster here', file=sys.stderr); sys.exit(3)")
    staging = Environment("staging", f"http://127.0.0.1:{free_port()}", fail, 5.0)
    project = Project(tmp_path / "repo", digits, {"staging": staging})
    project.register("0.1.0")
    with pytest.raises(StepError) as caught:
        project.deploy()
    assert str(caught.value) == (
        "the deploy command of staging (alops.yaml: release.environments.staging.command) failed with exit code 3; "
        "the tags still say staging has no version yet:\nkubectl: no cluster here"
    )
    assert project.stage_tags() == []


def test_a_command_whose_service_never_answers(tmp_path: Path, digits: tuple[Any, Any]) -> None:
    port = free_port()
    staging = Environment("staging", f"http://127.0.0.1:{port}", (sys.executable, "-c", "pass"), 0.5)
    project = Project(tmp_path / "repo", digits, {"staging": staging})
    project.register("0.1.0")
    with pytest.raises(StepError, match=rf"^staging's command ran but http://127.0.0.1:{port} did not serve digits"):
        project.deploy()
    assert project.stage_tags() == []


def test_deploy_variables_without_an_image(project: Project) -> None:
    got = deploys.deploy_variables(project.release, "prod", "1.2.0", Path("/srv/p"), {})
    assert got == {
        "ALOPS_DEPLOY_VERSION": "1.2.0",
        "ALOPS_DEPLOY_IMAGE": "",
        "ALOPS_DEPLOY_PACKAGE": "/srv/p",
        "ALOPS_DEPLOY_ENVIRONMENT": "prod",
    }


def test_dotenv() -> None:
    done = Deployment("prod", "1.2.0", "1.1.0", "http://127.0.0.1:8082", "digits#prod#4", False)
    assert deploys.dotenv(done) == "ALOPS_DEPLOY_URL=http://127.0.0.1:8082\nALOPS_DEPLOY_VERSION=1.2.0\n"
    with pytest.raises(ConfigError):
        deploys.dotenv(Deployment("prod", "1.2.0", None, "http://x\nEVIL=1", "t", False))


@pytest.mark.slow
def test_stop(project: Project, services: list[deploy_local.Service]) -> None:
    assert deploys.stop(project.state, "staging") is None
    project.register("0.1.0")
    project.deploy()
    stopped = deploys.stop(project.state, "staging")
    assert stopped is not None and stopped.pid == services[0].pid
    assert not deploy_local.alive(services[0].pid)
    assert not (project.state / "staging.json").exists()
    assert deploy_local.port_free("127.0.0.1", services[0].port)


GITLAB = "https://gitlab.example.com"
CI = {"CI_PROJECT_ID": "42", "CI_SERVER_URL": GITLAB, "CI_JOB_TOKEN": "job-token-value"}


def test_in_ci_the_job_token_is_not_enough() -> None:
    with pytest.raises(DataError) as caught:
        deploys.tag_store(Path("."), CI)
    assert str(caught.value).startswith(
        "ALOPS_GITLAB_TOKEN is not set: alops deploy records each deploy as a GTO stage tag (MODEL#ENVIRONMENT#N), "
        "created through GitLab's API, which CI_JOB_TOKEN cannot do: create a project access token with the api scope"
    )


@pytest.mark.slow
def test_in_ci_the_stage_tag_is_created_through_gitlab(project: Project) -> None:
    import responses
    from responses import matchers

    from alops.release.tags import GitLabTags

    commit = project.register("0.1.0")
    env = {**project.env, **CI, "ALOPS_GITLAB_TOKEN": "glpat-secret-value"}
    tags = deploys.tag_store(project.root, env)
    assert isinstance(tags, GitLabTags)
    listed = [
        # as GitLab lists annotated tags: a message, and the tag object as the target
        {"name": "digits@v0.1.0", "message": "Registering", "target": "1" * 40, "commit": {"id": commit}},
        {"name": "digits#prod#6", "message": "Assigning", "target": "2" * 40, "commit": {"id": commit}},
    ]
    api = f"{GITLAB}/api/v4/projects/42/repository/tags"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(
            api,
            json=listed,
            match=[
                matchers.query_param_matcher({"search": "^digits", "per_page": "100"}),
                matchers.header_matcher({"PRIVATE-TOKEN": "glpat-secret-value"}),
            ],
        )
        created = rsps.post(
            api,
            status=201,
            json={"name": "digits#staging#7", "target": "3" * 40, "commit": {"id": commit}},
            match=[
                matchers.json_params_matcher(
                    {
                        "tag_name": "digits#staging#7",
                        "ref": commit,
                        "message": "Assigning stage staging to artifact digits version v0.1.0",
                    }
                )
            ],
        )
        done = deploys.deploy(
            project.root,
            project.release,
            "staging",
            None,
            rollback=False,
            registry=project.registry,
            tags=tags,
            env=env,
            state_dir=project.state,
        )
    assert done.tag == "digits#staging#7"
    assert created.call_count == 1
    pid = json.loads((project.state / "staging.json").read_text())["pid"]
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"CI_PROJECT_ID=42" in environ
    assert not [v for v in environ if v.startswith((b"ALOPS_GITLAB_TOKEN=", b"CI_JOB_TOKEN="))]  # no secrets
    assert project.stage_tags() == []  # nothing local: the tag is GitLab's (a CI job's clone is thrown away)
    assert get(f"{done.url}/v1/models/{MODEL}")["version"] == "0.1.0"


def test_one_deploy_of_an_environment_at_a_time(project: Project) -> None:
    project.register("0.1.0")
    with deploy_local.locked(project.state, "staging"):
        with pytest.raises(ToolError, match="^another alops deploy of staging is running here"):
            project.deploy()
        project.state.joinpath("staging.json").write_text("{}")
        with pytest.raises(ToolError, match="^another alops deploy of staging is running here"):
            deploys.stop(project.state, "staging")


def test_old_extractions_are_removed(tmp_path: Path) -> None:
    for name in ("0.1.0", "0.2.0", "0.3.0", ".download-x", "notes"):
        (tmp_path / name).mkdir()
    deploy_local._prune(tmp_path, keep={"0.3.0", "0.1.0"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".download-x", "0.1.0", "0.3.0", "notes"]


@pytest.mark.slow
def test_a_refused_stage_tag_says_the_service_is_up_but_untagged(project: Project) -> None:
    import responses
    from responses import matchers

    commit = project.register("0.1.0")
    env = {**project.env, **CI, "ALOPS_GITLAB_TOKEN": "glpat-secret-value"}
    api = f"{GITLAB}/api/v4/projects/42/repository/tags"
    listed = [{"name": "digits@v0.1.0", "message": "Registering", "target": "1" * 40, "commit": {"id": commit}}]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(api, json=listed, match=[matchers.query_param_matcher({"search": "^digits", "per_page": "100"})])
        rsps.post(api, status=403, json={"message": "403 Forbidden"})
        with pytest.raises(DataError) as caught:
            deploys.deploy(
                project.root,
                project.release,
                "staging",
                "0.1.0",
                rollback=False,
                registry=project.registry,
                tags=deploys.tag_store(project.root, env),
                env=env,
                state_dir=project.state,
            )
    message = str(caught.value)
    assert message.startswith("digits 0.1.0 serves in staging, but its stage tag digits#staging#1 was not written: ")
    assert message.endswith("; run the same alops deploy again to write it")
    assert "glpat-secret-value" not in message
    assert get(f"{project.release.environments['staging'].url}/v1/models/{MODEL}")["version"] == "0.1.0"
