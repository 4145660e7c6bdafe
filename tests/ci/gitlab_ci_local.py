"""Run the CI templates under gitlab-ci-local on a throw-away git repository.

Used by tests/test_templates.py, tests/test_pipeline.py and
benchmarks/feature_pipeline.py. Quirks of gitlab-ci-local 4.73.0 handled here:

- it prints some warnings (e.g. "Avoid overriding predefined variables") on
  stdout, before --list-json's JSON: we pass --ignore-predefined-vars for every
  variable we set and parse from the first line that opens the JSON;
- it reads options from ``GCL_*`` environment variables: we drop those;
- its bundled CI schema (newer than check-jsonschema's copy) wants at least one
  runner tag, while GitLab accepts ``tags: []`` (the default of the cpu-tags
  input), so schema validation ignores that one rule;
- it does not enforce ``workflow: rules:``; see test_templates.py for how those
  are tested;
- it drops ``cache:fallback_keys`` (--preview shows none), and it interpolates
  inputs inside ``!reference [...]``, which GitLab does not;
- ``--input k=v`` applies to every include and wins over the include's own
  ``inputs:``; a job run by the shell executor inherits our environment.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from helpers import NOT_PASSED as _NOT_PASSED

if TYPE_CHECKING:
    pass

REPO = Path(__file__).resolve().parents[2]
GCL = REPO / "node_modules" / ".bin" / "gitlab-ci-local"
TEMPLATES = REPO / "ci-templates"
#: The CI/CD component layout: the source of ci-templates/ (ci-templates/sync.py).
COMPONENTS = REPO / "templates"
SKELETON = REPO / "examples" / "project-skeleton"
ORIGIN = "git@gitlab.example.com:grp/proj.git"
DEFAULT_BRANCH = "main"
#: GitLab accepts an empty ``tags:`` list; gitlab-ci-local's bundled schema does not.
SCHEMA_IGNORED = ("#/definitions/tags/minItems",)
#: Options that make gitlab-ci-local run jobs as local shell scripts, each job
#: in its own copy of the git-tracked files, without copying artifacts back.
SHELL_RUN = ("--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source")

InputValue = str | bool | Sequence[str]
#: Skips `alops doctor` at the start of the template's GPU jobs (see job_env).
DOCTOR_DISABLED = "ALOPS_DOCTOR_DISABLED"


def git(repo: Path, *args: str) -> str:
    # No user or system git config: module-scoped fixtures run before conftest's clean_env.
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    out = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def commit(repo: Path, message: str) -> None:
    git(repo, "-c", "user.name=alops tests", "-c", "user.email=tests@alops.invalid", "commit", "-q", "-m", message)


def set_origin(repo: Path, branch: str = DEFAULT_BRANCH) -> None:
    """An origin whose HEAD is ``branch``: gitlab-ci-local takes CI_DEFAULT_BRANCH and the project path from it."""
    remotes = git(repo, "remote").split()
    if "origin" not in remotes:
        git(repo, "remote", "add", "origin", ORIGIN)
    git(repo, "update-ref", f"refs/remotes/origin/{branch}", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", f"refs/remotes/origin/{branch}")


def init_repo(dest: Path, files: Mapping[str, str | Path]) -> Path:
    """A git repository at ``dest`` with ``files`` (text, or a file to copy) committed on main."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q", "-b", DEFAULT_BRANCH)
    write_files(dest, files)
    git(dest, "add", "-A")
    commit(dest, "project")
    set_origin(dest)
    return dest


def write_files(repo: Path, files: Mapping[str, str | Path]) -> None:
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(content)


def include_file(template: str = "alops.yml", inputs: Mapping[str, Any] | None = None, extra: str = "") -> str:
    """A .gitlab-ci.yml that includes ``ci-templates/<template>`` with ``local:``, as a user would."""
    entry: dict[str, Any] = {"local": f"ci-templates/{template}"}
    if inputs:
        entry["inputs"] = dict(inputs)
    return yaml.safe_dump({"include": [entry]}, sort_keys=False) + extra


def component_file(inputs: Mapping[str, Any] | None = None, *, workflow: bool = False) -> str:
    """A .gitlab-ci.yml that includes the alops component of this very project at this commit.

    GitLab's own way to test a component in its project; gitlab-ci-local
    resolves it from the working tree when the path is the origin's and the
    version is HEAD's SHA (https://docs.gitlab.com/ci/components/#test-the-component).
    """
    here = "$CI_SERVER_FQDN/$CI_PROJECT_PATH"
    entry: dict[str, Any] = {"component": f"{here}/alops@$CI_COMMIT_SHA"}
    if inputs:
        entry["inputs"] = dict(inputs)
    entries = [entry] + ([{"component": f"{here}/workflow@$CI_COMMIT_SHA"}] if workflow else [])
    return yaml.safe_dump({"include": entries}, sort_keys=False)


def skeleton_inputs() -> dict[str, Any]:
    """The inputs the example project's .gitlab-ci.yml gives the alops component (its runner tags)."""
    ci = yaml.safe_load((SKELETON / ".gitlab-ci.yml").read_text())
    (entry,) = [e for e in ci["include"] if str(e.get("component", "")).split("@")[0].endswith("/alops")]
    return dict(entry.get("inputs") or {})


def example_project(tmp: Path, files: Mapping[str, str | Path] | None = None) -> Path:
    """alops.demo's example project (data on a local DVC remote) including the template with ``local:``.

    The project is ``tmp/project``, its DVC remote ``tmp/remote``; ``files`` are
    committed too.
    """
    from alops.demo import prepare_project

    project: Path = prepare_project(tmp / "project", tmp / "remote", env=dict(os.environ))
    ci: dict[str, str | Path] = {
        # the example project's own inputs: its runner tags are alops.yaml's runners
        ".gitlab-ci.yml": include_file("alops.yml", skeleton_inputs()),
        "ci-templates/alops.yml": TEMPLATES / "alops.yml",
    }
    write_files(project, {**ci, **(files or {})})
    git(project, "add", "-A")
    commit(project, "CI: the alops template, included locally")
    set_origin(project)
    return project


@dataclass(frozen=True)
class Scenario:
    """A pipeline: which branch is checked out and which variables GitLab would set on top."""

    id: str
    role: str
    branch: str
    variables: Mapping[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()

    def env(self) -> dict[str, str]:
        """The predefined variables a job of this pipeline sees (the ones alops reads)."""
        env = {
            "CI": "true",
            "CI_COMMIT_BRANCH": self.branch,
            "CI_COMMIT_REF_NAME": self.branch,
            "CI_DEFAULT_BRANCH": DEFAULT_BRANCH,
            "CI_PIPELINE_SOURCE": "push",
            **self.variables,
        }
        for key in self.unset:
            env.pop(key, None)
        return env


def push(id: str, role: str, branch: str) -> Scenario:
    return Scenario(id, role, branch)


def schedule(id: str, role: str, branch: str) -> Scenario:
    return Scenario(id, role, branch, {"CI_PIPELINE_SOURCE": "schedule"})


def merge_request(id: str, role: str, branch: str, iid: str = "7") -> Scenario:
    """A merge-request pipeline: GitLab sets no CI_COMMIT_BRANCH there; the ref is the source branch."""
    variables = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": iid,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": DEFAULT_BRANCH,
        "CI_OPEN_MERGE_REQUESTS": f"grp/proj!{iid}",
    }
    return Scenario(id, role, branch, variables, unset=("CI_COMMIT_BRANCH",))


def tag(id: str, name: str) -> Scenario:
    """A tag pipeline: CI_COMMIT_TAG set, no CI_COMMIT_BRANCH, the ref is the tag."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    variables = {"CI_COMMIT_TAG": name, "CI_COMMIT_REF_NAME": name, "CI_COMMIT_REF_SLUG": slug}
    return Scenario(id, "tag", DEFAULT_BRANCH, variables, unset=("CI_COMMIT_BRANCH",))


#: One pipeline per case of alops.flow.role_of's precedence.
SCENARIOS = (
    push("default", "default", DEFAULT_BRANCH),
    push("feature", "feature", "feature/x"),
    push("experiment", "experiment", "experiment/lr"),
    push("release", "release", "release/1.0"),
    push("al", "al", "al/round-1"),
    schedule("al-schedule", "al", "al/round-1"),
    schedule("schedule-default", "schedule", DEFAULT_BRANCH),
    schedule("schedule-feature", "schedule", "feature/x"),
    # A schedule that also asks for the dev set's refresh (ALOPS_DEVSET_REFRESH in the schedule's variables).
    Scenario(
        "schedule-refresh", "schedule", DEFAULT_BRANCH, {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_DEVSET_REFRESH": "1"}
    ),
    Scenario(
        "al-schedule-refresh", "al", "al/round-1", {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_DEVSET_REFRESH": "1"}
    ),
    push("other", "other", "fix-typo"),
    merge_request("mr-feature", "feature", "feature/x"),
    merge_request("mr-experiment", "experiment", "experiment/lr"),
    tag("tag", "v1.0.0"),
    # The GTO registration tag `alops release` makes: its pipeline builds the serving image and deploys.
    tag("version-tag", "digits@v1.2.0"),
)


class GitlabCiLocal:
    """gitlab-ci-local in one repository; each call checks out the scenario's branch first."""

    def __init__(self, repo: Path, *, file: str = ".gitlab-ci.yml") -> None:
        self.repo = repo
        self.file = file
        # Listing is a pure function of the repository's files and the arguments:
        # remember answers, each call costs ~0.3 s of node start-up.
        self._memo: dict[str, Any] = {}

    def checkout(self, branch: str) -> None:
        git(self.repo, "checkout", "-q", "-B", branch)

    def __call__(
        self,
        *args: str,
        scenario: Scenario | None = None,
        variables: Mapping[str, str] | None = None,
        inputs: Mapping[str, InputValue] | None = None,
        check: bool = True,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        scenario = scenario or push("default", "default", DEFAULT_BRANCH)
        self.checkout(scenario.branch)
        # --home: never the user's ~/.gitlab-ci-local/variables.yml
        home = self.repo.parent / "gitlab-ci-local-home"
        cmd = [str(GCL), "--file", self.file, "--home", str(home), "--no-color", *args]
        overrides = {**scenario.variables, **(variables or {})}
        for key, value in overrides.items():
            cmd += ["--variable", f"{key}={value}"]
        for key in scenario.unset:
            cmd += ["--unset-variable", key]
        if overrides or scenario.unset:
            cmd += ["--ignore-predefined-vars", ",".join([*overrides, *scenario.unset])]
        for name, given in (inputs or {}).items():
            value = given if isinstance(given, str) else json.dumps(given if isinstance(given, bool) else list(given))
            cmd += ["--input", f"{name}={value}"]
        result = subprocess.run(cmd, cwd=self.repo, env=job_env(), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def jobs(self, scenario: Scenario | None = None, **kw: Any) -> dict[str, dict[str, Any]]:
        """The jobs the pipeline would run (``when`` other than never), by name."""
        key = _key("jobs", scenario, kw)
        if key not in self._memo:
            out = self("--list-json", "--no-json-schema-validation", scenario=scenario, **kw).stdout
            self._memo[key] = {job["name"]: job for job in _json_after_warnings(out) if job["when"] != "never"}
        return copy.deepcopy(self._memo[key])

    def preview(self, *, inputs: Mapping[str, InputValue] | None = None) -> dict[str, Any]:
        """The configuration with includes, inputs, extends and !reference resolved (rules not evaluated)."""
        key = _key("preview", None, {"inputs": inputs})
        if key not in self._memo:
            out = self("--preview", "--no-json-schema-validation", inputs=inputs).stdout
            data = yaml.safe_load(out[out.find("---") :])
            assert isinstance(data, dict), out
            self._memo[key] = data
        return copy.deepcopy(self._memo[key])


def _key(kind: str, scenario: Scenario | None, kw: Mapping[str, Any]) -> str:
    return json.dumps(
        [kind, scenario and [scenario.branch, dict(scenario.variables), scenario.unset], kw], sort_keys=True
    )


def job_env() -> dict[str, str]:
    """The environment for gitlab-ci-local: ours without CI context or GCL_* options, this venv's tools first on PATH."""
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith(_NOT_PASSED)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # The GPU jobs start with `alops doctor`, which fails (exit 8) on a host without a GPU, such as
    # the machines the tests run on: the shell executor runs "GPU runner" jobs here, so skip it
    # (no fake GPU). tests/ci/test_job_image_pipeline.py runs it for real (the variable set empty).
    env[DOCTOR_DISABLED] = "the tests' shell executor has no GPU"
    return env


def _json_after_warnings(stdout: str) -> Any:
    start = 0 if stdout.startswith("[") else stdout.find("\n[") + 1
    if stdout[start : start + 1] != "[":
        raise AssertionError(f"no JSON in gitlab-ci-local's output:\n{stdout}")
    return json.JSONDecoder().raw_decode(stdout, start)[0]
