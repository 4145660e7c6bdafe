"""The GitLab CI templates (templates/, copied to ci-templates/): GitLab's schema,
their inputs, and which jobs each branch role gets, evaluated by gitlab-ci-local's
rules engine, included as files and as a CI/CD component.

Expected jobs come from alops.roles.ROLE_DEFAULTS and are checked against
`alops flow`, so the templates, the library and the docs cannot drift apart.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import check_jsonschema
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from alops import __version__
from alops.cli import cli
from alops.flow import RUN_STEPS
from alops.roles import AL_JOBS, DEFAULT_PATTERNS, JOBS, PATTERN_ROLES, ROLE_DEFAULTS, ROLES

from ci.gitlab_ci_local import (
    COMPONENTS,
    DEFAULT_BRANCH,
    GCL,
    REPO,  # noqa: E402
    SCENARIOS,
    SCHEMA_IGNORED,
    SHELL_RUN,
    SKELETON,
    TEMPLATES,
    GitlabCiLocal,
    Scenario,
    component_file,
    include_file,
    init_repo,
    merge_request,
    push,
    schedule,
    tag,
)

ALOPS = TEMPLATES / "alops.yml"
WORKFLOW = TEMPLATES / "workflow.yml"
README = TEMPLATES / "README.md"
TEMPLATE_FILES = (ALOPS, WORKFLOW)
#: The component layout (templates/<name>.yml), the source of the ci-templates/ copies.
COMPONENT_FILES = (COMPONENTS / "alops.yml", COMPONENTS / "workflow.yml")
GITLAB_SCHEMA = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "gitlab-ci.json"

#: Jobs that exist in a CPU and a GPU variant (the GPU one named <prefix>-<job>-gpu).
RUNNER_JOBS = ("run", *RUN_STEPS)
#: Jobs of the dev set's upkeep: not part of any role, they follow the pipeline's kind.
DEVSET_JOBS = ("devset-check", "devset-refresh")
#: Jobs after the run job (issue 9): the gate where a run job runs, the report where merge requests
#: compare experiments. Not in `alops flow`'s plan of a role (ALOPS_CI_JOBS): they follow the run job.
QUALITY_JOBS = ("gate", "report")
#: With the matrix input: the child pipeline of parameter combinations, on feature branches.
MATRIX_JOBS = ("matrix", "matrix-pipeline")
#: With the release input: shipping on release branches, then the serving image and the deploys on version tags.
RELEASE_JOBS = ("release", "package", "serve-image", "deploy-staging", "deploy-production")
#: With the job-dockerfile input: the job image's build, after the plan (issue 11).
IMAGE_JOBS = ("job-image",)
#: Jobs that run in BuildKit's image, not the template's: they extend nothing of the base job.
BUILDKIT_JOBS = ("alops-serve-image", "alops-job-image")
#: Jobs of a pipeline that are not its role's (what `alops flow` plans).
EXTRA_JOBS = (*DEVSET_JOBS, *QUALITY_JOBS, *MATRIX_JOBS, *RELEASE_JOBS, *IMAGE_JOBS)
#: The GPU jobs: `alops doctor` is their first script line, before the data pull (issue 11).
GPU_JOBS = ("alops-run-gpu", "alops-data-gpu", "alops-train-gpu", "alops-evaluate-gpu", "alops-al-query")
#: That first line: the doctor, unless ALOPS_DOCTOR_DISABLED is set (the tests' CPU hosts, tests/ci/gitlab_ci_local.py).
DOCTOR = 'if [ -z "$ALOPS_DOCTOR_DISABLED" ]; then alops doctor; else echo "alops doctor skipped: ALOPS_DOCTOR_DISABLED is set"; fi'
#: The jobs that run the project's DVC stages (or pull for them): in the job image, after the plan and its build.
JOB_IMAGE_JOBS = (
    "alops-run",
    "alops-run-gpu",
    "alops-data",
    "alops-data-gpu",
    "alops-train",
    "alops-train-gpu",
    "alops-evaluate",
    "alops-evaluate-gpu",
    "alops-al-query",
)
#: The tags whose pipelines deploy: GTO's registration tags, MODEL@vX.Y.Z.
VERSION_TAG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?@v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
#: Roles whose pipelines get the report (merge requests that compare experiments).
REPORT_ROLES = ("feature", "other", "experiment")
#: Jobs that write the full data: on protected runners (protected-tags).
PROTECTED_JOBS = (*DEVSET_JOBS, "al-ingest")
#: Jobs that push to git: never cancelled halfway.
NOT_INTERRUPTIBLE = {
    "alops-devset-refresh",
    "alops-al-ingest",
    "alops-al-record",
    "alops-release",  # creates the tag and the Release
    "alops-deploy-staging",  # changes a running service and writes a stage tag
    "alops-deploy-production",
}
GPU_TAGS = ["gpu-a100", "cuda"]  # given through the include's inputs, as users do
PROTECTED_TAGS = ["gpu"]  # the protected-tags default: runners/ defines `gpu` as the protected runners
#: Keywords that would change the including project's whole pipeline.
GLOBAL_KEYWORDS = {
    "default",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "variables",
    "stages",
    "workflow",
    "include",
}
#: Predefined variables that hold text users choose (branch and tag names, MR and commit titles).
USER_TEXT = re.compile(
    r"\$\{?(CI_COMMIT_(REF_NAME|BRANCH|TAG|TITLE|MESSAGE|DESCRIPTION|TAG_MESSAGE)"
    r"|CI_MERGE_REQUEST_(TITLE|DESCRIPTION|SOURCE_BRANCH_NAME|TARGET_BRANCH_NAME|LABELS)"
    r"|CI_EXTERNAL_PULL_REQUEST_\w+)\b"
)
BLOCK = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


# --- reading the templates ------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Accepts GitLab's !reference tag (as the list it is written as)."""


_Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def documents(path: Path) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(header, body): a template with a ``spec:`` header is two YAML documents."""
    docs = list(yaml.load_all(path.read_text(), Loader=_Loader))
    if len(docs) == 2:
        return docs[0], docs[1]
    assert len(docs) == 1, f"{path.name}: expected a body, or a spec header then ---, then a body"
    return None, docs[0]


def inputs_of(path: Path) -> dict[str, dict[str, Any]]:
    header, _ = documents(path)
    return dict((header or {}).get("spec", {}).get("inputs") or {})


def defaults(path: Path) -> dict[str, Any]:
    return {name: spec.get("default") for name, spec in inputs_of(path).items()}


def interpolate(node: Any, values: Mapping[str, Any]) -> Any:
    """GitLab's interpolation: a string that is exactly one block becomes the input's
    value (an array stays an array); blocks inside longer strings become text, an
    array as its JSON-like rendering."""
    if isinstance(node, dict):
        return {interpolate(k, values): interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, values) for v in node]
    if isinstance(node, str):
        whole = BLOCK.fullmatch(node.strip())
        if whole and node == node.strip():
            return values[whole.group(1)]
        return BLOCK.sub(lambda m: _text(values[m.group(1)]), node)
    return node


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list) else str(value)


def rendered(path: Path, **inputs: Any) -> dict[str, Any]:
    _, body = documents(path)
    return interpolate(body, {**defaults(path), **inputs})  # type: ignore[no-any-return]


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, (*path, i))


def template_jobs(
    jobs: list[str] | tuple[str, ...], runner: str, prefix: str = "alops", *, split: bool = False
) -> set[str]:
    """The template's job names for a role's jobs on a runner class (written out here, not alops.flow's)."""
    if not split and set(jobs) & set(RUN_STEPS):
        jobs = [*(j for j in jobs if j not in RUN_STEPS), "run"]
    return {f"{prefix}-{job}-gpu" if runner == "gpu" and job in RUNNER_JOBS else f"{prefix}-{job}" for job in jobs}


def expected_jobs(
    role: str,
    prefix: str = "alops",
    *,
    split: bool = False,
    source: str = "push",
    variables: Mapping[str, str] | None = None,
) -> set[str]:
    spec = ROLE_DEFAULTS[role]
    jobs = spec.jobs
    if spec.runner == "gpu" and source == "merge_request_event":
        jobs = ("plan", "validate")  # no protected variables or runners in an MR pipeline
    elif role == "al":
        return al_jobs(al_step_of(source, variables or {}), prefix, split=split, variables=variables or {})
    return template_jobs(jobs, spec.runner, prefix, split=split)


def al_step_of(source: str, variables: Mapping[str, str]) -> str:
    """An al branch's step: ALOPS_AL_STEP, else query in a scheduled pipeline and train in any other."""
    return variables.get("ALOPS_AL_STEP") or ("query" if source == "schedule" else "train")


def al_jobs(step: str, prefix: str = "alops", *, split: bool = False, variables: Mapping[str, str]) -> set[str]:
    """The jobs of an al branch's pipeline for ``step`` (written out here, not alops.flow's)."""
    loop = {
        "query": ["al-query", *(["al-export"] if variables.get("ALOPS_LABEL_STUDIO_URL") else []), "al-ingest"],
        "ingest": ["al-ingest"],
        "train": ["al-record", "al-ingest"],  # al-ingest waits as a manual job
    }[step]
    trains = template_jobs(ROLE_DEFAULTS["al"].jobs, "gpu", prefix, split=split) if step == "train" else set()
    return {f"{prefix}-plan", f"{prefix}-validate", *trains, *(f"{prefix}-{j}" for j in loop)}


def job_kind(name: str, prefix: str = "alops") -> str:
    """``alops-train-gpu`` -> ``train``."""
    return name.removeprefix(f"{prefix}-").removesuffix("-gpu")


def devset_jobs(scenario: Scenario, prefix: str = "alops") -> dict[str, str]:
    """The devset jobs a pipeline gets, with their ``when``: scheduled ones run, default-branch ones wait."""
    source = scenario.variables.get("CI_PIPELINE_SOURCE", "push")
    if "CI_COMMIT_TAG" in scenario.variables or scenario.variables.get("ALOPS_AL_STEP"):
        return {}  # a pipeline of the active-learning loop does its step only
    if source == "schedule":
        job = "devset-refresh" if scenario.variables.get("ALOPS_DEVSET_REFRESH") else "devset-check"
        return {f"{prefix}-{job}": "on_success"}
    if scenario.branch == DEFAULT_BRANCH and "CI_COMMIT_BRANCH" not in scenario.unset:
        return {f"{prefix}-{job}": "manual" for job in DEVSET_JOBS}
    return {}


def expected_pipeline(
    scenario: Scenario,
    prefix: str = "alops",
    *,
    split: bool = False,
    gate: bool = True,
    matrix: bool = False,
    releases: bool = True,
    disabled: tuple[str, ...] = (),
) -> set[str]:
    """Every job of a pipeline: its role's, the devset jobs of its kind, and those after its run job.

    ``disabled``: the job kinds whose ALOPS_<JOB>_DISABLED is set.
    """
    return set(
        extra_jobs(scenario, prefix, split=split, gate=gate, matrix=matrix, releases=releases, disabled=disabled)
    ) | {
        name
        for name in expected_jobs(
            scenario.role, prefix, split=split, source=_source(scenario), variables=scenario.variables
        )
        if not _opted_out(job_kind(name, prefix), split, disabled)
    }


def _source(scenario: Scenario) -> str:
    return scenario.variables.get("CI_PIPELINE_SOURCE", "push")


def _opted_out(kind: str, split: bool, disabled: tuple[str, ...]) -> bool:
    """The template's opt-outs: ALOPS_RUN_DISABLED for the one-job shape, each split job's own with split-jobs."""
    if kind in RUN_STEPS:
        return split and kind in disabled
    if kind == "run":
        return not split and "run" in disabled
    if kind == "matrix-pipeline":
        return "matrix" in disabled  # one opt-out for both matrix jobs
    return kind in disabled


def extra_jobs(
    scenario: Scenario,
    prefix: str = "alops",
    *,
    split: bool = False,
    gate: bool = True,
    matrix: bool = False,
    releases: bool = True,
    disabled: tuple[str, ...] = (),
) -> dict[str, str]:
    """The jobs of a pipeline that are not its role's, with their ``when`` (written out here, not alops.flow's)."""
    jobs = dict(devset_jobs(scenario, prefix))
    role = {
        job_kind(name, prefix)
        for name in expected_jobs(
            scenario.role, prefix, split=split, source=_source(scenario), variables=scenario.variables
        )
    }
    # the job whose metrics they read: the run job, or with split-jobs the evaluate job
    measured = ("evaluate" if split else "run") in role and not _opted_out(
        "evaluate" if split else "run", split, disabled
    )
    if measured and gate:
        jobs[f"{prefix}-gate"] = "on_success"
    if measured and scenario.role in REPORT_ROLES:
        jobs[f"{prefix}-report"] = "always"  # also after a failed gate
    if matrix and scenario.role == "feature":
        jobs |= {f"{prefix}-{job}": "on_success" for job in MATRIX_JOBS}
    if releases and measured and scenario.role == "release" and _source(scenario) == "push":
        jobs[f"{prefix}-release"] = "on_success"  # after the gate: `alops release` checks it again
    if releases and VERSION_TAG.match(scenario.variables.get("CI_COMMIT_TAG", "")):
        jobs |= {f"{prefix}-{job}": "on_success" for job in RELEASE_JOBS[1:-1]}
        jobs[f"{prefix}-deploy-production"] = "manual"  # by hand, after staging
    return {name: when for name, when in jobs.items() if not _opted_out(job_kind(name, prefix), split, disabled)}


def role_jobs(names: Mapping[str, Any] | set[str]) -> set[str]:
    """The jobs of ``names`` that belong to the role (what `alops flow` plans)."""
    return {n for n in names if job_kind(n) not in EXTRA_JOBS}


# --- the templates as files: GitLab's schema, inputs, guidelines --------------------------


@pytest.fixture(scope="module")
def gitlab_schema() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(GITLAB_SCHEMA.read_text()))


def _schema_errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("path", TEMPLATE_FILES + COMPONENT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_template_matches_gitlab_schema(path: Path, gitlab_schema: jsonschema.Draft7Validator) -> None:
    header, _ = documents(path)
    if header is not None:
        assert set(header) == {"spec"}, "the header document holds only spec:"
        assert _schema_errors(gitlab_schema, header) == []
    assert _schema_errors(gitlab_schema, rendered(path)) == []


def test_alops_template_with_other_inputs_matches_gitlab_schema(gitlab_schema: jsonschema.Draft7Validator) -> None:
    body = rendered(
        ALOPS,
        **{
            "job-prefix": "ml",
            "cpu-tags": ["docker", "linux"],
            "gpu-tags": GPU_TAGS,
            "stage-plan": "plan",
            "split-jobs": True,
        },
    )
    assert _schema_errors(gitlab_schema, body) == []


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_every_input_has_a_default_and_a_description(path: Path) -> None:
    python_type: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "array": list,
        "boolean": bool,
        "number": (int, float),
    }
    for name, spec in inputs_of(path).items():
        assert "default" in spec, f"input {name} has no default: every input must be optional"
        assert spec.get("description", "").strip(), f"input {name} has no description"
        kind = spec.get("type", "string")
        assert isinstance(spec["default"], python_type[kind]), f"input {name}: default is not a {kind}"
        if "options" in spec:
            assert spec["default"] in spec["options"], name
        if "regex" in spec:
            assert re.search(spec["regex"], str(spec["default"])), f"input {name}: default does not match its regex"


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_inputs_used_are_declared_and_declared_are_used(path: Path) -> None:
    text = path.read_text()
    body = text[text.index("\n---\n") :] if "\n---\n" in text else text
    assert set(BLOCK.findall(body)) == set(inputs_of(path))
    # every block in the file has the form the checks above understand
    assert body.count("$[[") == len(BLOCK.findall(body))


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_no_input_inside_a_reference_tag(path: Path) -> None:
    # GitLab interpolates strings, arrays and hashes, but not the operands of a
    # !reference tag (Yaml::Tags::Reference): such a reference would name no job.
    # gitlab-ci-local interpolates them, so only this check catches it.
    for line in path.read_text().splitlines():
        if not line.lstrip().startswith("#"):
            assert not ("!reference" in line and "$[[" in line), line


def test_alops_template_has_only_jobs_no_global_keywords() -> None:
    _, body = documents(ALOPS)
    for key in body:
        assert key not in GLOBAL_KEYWORDS, f"global keyword {key!r} would change the including project's pipeline"
        assert key.startswith(("$[[ inputs.job-prefix ]]-", ".$[[ inputs.job-prefix ]]-")), key


def test_workflow_template_has_only_workflow() -> None:
    _, body = documents(WORKFLOW)
    assert set(body) == {"workflow"}


def test_workflow_branch_inputs_are_alops_yml_s() -> None:
    # Same names, defaults and regex, so one set of values fits both includes.
    alops = inputs_of(ALOPS)
    for name, spec in inputs_of(WORKFLOW).items():
        if name.endswith("-branches"):
            assert (spec["default"], spec["regex"]) == (alops[name]["default"], alops[name]["regex"]), name


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_rules_only_and_default_branch_by_variable(path: Path) -> None:
    for where, node in walk(rendered(path)):
        if where and where[-1] in ("only", "except"):
            pytest.fail(f"{'.'.join(map(str, where))}: use rules:, not only/except")
        if where and where[-1] == "if":
            assert not re.search(r"\b(main|master)\b", node), f"{node!r}: compare with $CI_DEFAULT_BRANCH"


def test_every_job_starts_with_its_opt_out_rule() -> None:
    body = rendered(ALOPS)
    visible = {name: job for name, job in body.items() if not name.startswith(".")}
    kinds = {*JOBS, "run", *DEVSET_JOBS, *AL_JOBS, *QUALITY_JOBS, *MATRIX_JOBS, *RELEASE_JOBS, *IMAGE_JOBS}
    assert {job_kind(name) for name in visible} == kinds
    for name, job in visible.items():
        kind = "matrix" if job_kind(name) == "matrix-pipeline" else job_kind(name)  # one opt-out for both
        variable = f"$ALOPS_{kind.upper().replace('-', '_')}_DISABLED"
        assert job["rules"][0] == {"if": variable, "when": "never"}, name


def test_scripts_never_eval_or_expand_user_text_unquoted() -> None:
    for where, node in walk(rendered(ALOPS)):
        if len(where) >= 2 and where[-2] in ("script", "before_script", "after_script") and isinstance(node, str):
            assert not re.search(r"\beval\b", node), node
            unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', node)
            assert not USER_TEXT.search(unquoted), f"{node!r}: quote user text"


def test_image_default_is_this_version() -> None:
    assert defaults(ALOPS)["image"].endswith(f":{__version__}")


def test_branch_pattern_defaults_are_alops_defaults_and_the_examples() -> None:
    values = defaults(ALOPS)
    assert {role: values[f"{role}-branches"] for role in PATTERN_ROLES} == DEFAULT_PATTERNS
    example = yaml.safe_load((SKELETON / "alops.yaml").read_text())
    assert example["branches"] == DEFAULT_PATTERNS


def test_artifact_path_defaults_match_the_example_project() -> None:
    values = defaults(ALOPS)
    example = yaml.safe_load((SKELETON / "alops.yaml").read_text())
    assert all(m.startswith(values["metrics-path"]) for m in example["pipeline"]["metrics"])
    dvc = yaml.safe_load((SKELETON / "dvc.yaml").read_text())
    outs = [o if isinstance(o, str) else next(iter(o)) for o in dvc["stages"]["train"]["do"]["outs"]]
    assert outs and all(o.startswith(values["model-path"]) for o in outs)


@pytest.mark.parametrize(
    "readme",
    [
        README,
        REPO / "README.md",
    ],
    ids=["ci-templates", "top"],
)
@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_readme_documents_every_input_with_its_default(path: Path, readme: Path) -> None:
    rows = {}
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 4 and cells[0].startswith("`"):
            rows[(cells[0].strip("`"))] = (cells[1], cells[2])
    for name, spec in inputs_of(path).items():
        assert name in rows, f"README.md has no row for input {name}"
        kind, default = rows[name]
        assert kind == spec.get("type", "string"), name
        assert default == f"`{_readme_value(spec['default'])}`", name


def test_readme_roles_table_matches_role_defaults() -> None:
    rows = {}
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].strip("`") in ROLES:
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(ROLES)
    for role, (_, data, jobs, tags) in rows.items():
        spec = ROLE_DEFAULTS[role]
        assert {j.strip() for j in jobs.split(",")} == expected_jobs(role), role
        assert tags == f"`{spec.runner}-tags`", role
        assert data == (spec.dataset if "data" in spec.jobs else "—"), role


def _readme_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, bool)) else str(value)


# --- the templates under gitlab-ci-local ---------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository like a user's: alops.yaml, a .gitlab-ci.yml including the template."""
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    probe = {"workflow-probe": {"script": ["true"], "rules": _job_rules(rendered(WORKFLOW)["workflow"]["rules"])}}
    both = (
        "include:\n"
        f"  - local: ci-templates/alops.yml\n    inputs: {{gpu-tags: {json.dumps(GPU_TAGS)}}}\n"
        "  - local: ci-templates/workflow.yml\n"
    )
    return init_repo(
        tmp_path_factory.mktemp("templates") / "project",
        {
            ".gitlab-ci.yml": include_file("alops.yml", {"gpu-tags": GPU_TAGS}),
            "both.gitlab-ci.yml": both,
            "workflow-probe.yml": yaml.safe_dump(probe),
            "ci-templates/alops.yml": ALOPS,
            "ci-templates/workflow.yml": WORKFLOW,
            "templates/alops.yml": COMPONENTS / "alops.yml",
            "templates/workflow.yml": COMPONENTS / "workflow.yml",
            "component.gitlab-ci.yml": component_file({"gpu-tags": GPU_TAGS}, workflow=True),
            "split.gitlab-ci.yml": include_file("alops.yml", {"gpu-tags": GPU_TAGS, "split-jobs": True}),
            "alops.yaml": SKELETON / "alops.yaml",
            "params.yaml": SKELETON / "params.yaml",
        },
    )


def _job_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Workflow rules as job rules: without workflow-only keys (auto_cancel)."""
    return [{k: v for k, v in rule.items() if k != "auto_cancel"} for rule in rules]


@pytest.fixture(scope="module")
def gcl(project: Path) -> GitlabCiLocal:
    return GitlabCiLocal(project)


@pytest.fixture(scope="module")
def split(project: Path) -> GitlabCiLocal:
    """The template with split-jobs: true (data, train and evaluate as three jobs)."""
    return GitlabCiLocal(project, file="split.gitlab-ci.yml")


@pytest.fixture(scope="module")
def preview(gcl: GitlabCiLocal) -> dict[str, Any]:
    return gcl.preview()


def test_scenarios_cover_every_role() -> None:
    assert {s.role for s in SCENARIOS} == set(ROLES)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_jobs_of_each_role(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    jobs = gcl.jobs(scenario)
    assert set(jobs) == expected_pipeline(scenario)
    assert {name: jobs[name]["when"] for name in jobs if name not in role_jobs(jobs)} == extra_jobs(scenario)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_jobs_of_each_role_with_split_jobs(split: GitlabCiLocal, scenario: Scenario) -> None:
    assert set(split.jobs(scenario)) == expected_pipeline(scenario, split=True)


def test_no_gpu_job_in_a_merge_request_pipeline(gcl: GitlabCiLocal, split: GitlabCiLocal) -> None:
    # MR pipelines get no protected variables or runners: a GPU job there could never run.
    for role, branch in [("experiment", "experiment/lr"), ("release", "release/1.0"), ("al", "al/r1")]:
        scenario = merge_request(f"mr-{role}", role, branch)
        for engine in (gcl, split):
            names = set(engine.jobs(scenario))
            assert names == {"alops-plan", "alops-validate"}, (role, names)


def first_rule(engine: GitlabCiLocal, rules: list[dict[str, Any]], scenario: Scenario, tmp: str) -> int | None:
    """The index of the rule GitLab applies (the first whose if matches), by gitlab-ci-local's rules engine.

    Probe k has the rules before k as `when: never` and rule k's condition alone:
    it is listed exactly when rule k is the first that matches.
    """
    probes = {}
    for k, rule in enumerate(rules):
        before = [{**{key: r[key] for key in ("if",) if key in r}, "when": "never"} for r in rules[:k]]
        here = {"if": rule["if"]} if "if" in rule else {"when": "on_success"}
        probes[f"probe-{k}"] = {"script": ["true"], "rules": [*before, here]}
    path = engine.repo / tmp
    path.write_text(yaml.safe_dump(probes))
    listed = GitlabCiLocal(engine.repo, file=tmp).jobs(scenario)
    (hit,) = [int(name.split("-")[1]) for name in listed] or [None]
    return hit


SCHEDULES = [s for s in SCENARIOS if s.variables.get("CI_PIPELINE_SOURCE") == "schedule"]


@pytest.mark.parametrize("scenario", SCHEDULES, ids=lambda s: s.id)
def test_scheduled_pipelines_run_to_the_end(
    gcl: GitlabCiLocal, split: GitlabCiLocal, preview: dict[str, Any], scenario: Scenario
) -> None:
    # A job that has started and is not interruptible stops auto-cancel: every job
    # of a scheduled pipeline is made `interruptible: false` by the rule that adds it.
    shapes = [(gcl, preview), (split, split.preview())]
    for engine, config in shapes:
        for name in engine.jobs(scenario):
            rules = config[name]["rules"]
            hit = first_rule(engine, rules, scenario, f"probe-{name}.yml")
            assert hit is not None, name
            interruptible = rules[hit].get("interruptible", config[name].get("interruptible"))
            assert interruptible is False, f"{name} in {scenario.id}: rule {rules[hit]} leaves it interruptible"
    # and workflow.yml's rule for schedules turns auto-cancel off for the whole pipeline
    workflow = rendered(WORKFLOW)["workflow"]["rules"]
    hit = first_rule(gcl, _job_rules(workflow), scenario, "probe-workflow.yml")
    assert hit is not None and workflow[hit]["auto_cancel"] == {"on_new_commit": "none"}


def test_pushes_stay_interruptible(gcl: GitlabCiLocal, preview: dict[str, Any]) -> None:
    for scenario in (SCENARIOS[0], SCENARIOS[1], SCENARIOS[2]):
        for name in gcl.jobs(scenario):
            rules = preview[name]["rules"]
            hit = first_rule(gcl, rules, scenario, f"probe-{name}.yml")
            assert hit is not None
            want = name not in NOT_INTERRUPTIBLE
            assert rules[hit].get("interruptible", preview[name]["interruptible"]) is want, name


def _tags_of(name: str, cpu: list[str]) -> list[str]:
    if name.endswith("-gpu") or name == "alops-al-query":  # scoring runs the model over the whole pool
        return GPU_TAGS
    return PROTECTED_TAGS if job_kind(name) in PROTECTED_JOBS else cpu


def test_gpu_jobs_carry_gpu_tags_devset_jobs_protected_tags_the_others_cpu_tags(
    gcl: GitlabCiLocal, preview: dict[str, Any]
) -> None:
    jobs = {name: job for name, job in preview.items() if name.startswith("alops-") and "trigger" not in job}
    assert jobs, preview
    for name, job in jobs.items():
        assert job["tags"] == _tags_of(name, []), name
    with_cpu_tags = gcl.preview(inputs={"cpu-tags": ["docker", "linux"], "protected-tags": ["gpu", "protected"]})
    for name in jobs:
        want = ["gpu", "protected"] if job_kind(name) in PROTECTED_JOBS else _tags_of(name, ["docker", "linux"])
        assert with_cpu_tags[name]["tags"] == want, name


def test_jobs_are_interruptible_and_get_the_inputs_as_variables(preview: dict[str, Any]) -> None:
    for name, job in preview.items():
        # a trigger job takes no variables of the base job, and the image build runs in BuildKit's image
        if name.startswith("alops-") and "trigger" not in job and name not in BUILDKIT_JOBS:
            # all but those that push to git (the refresh opens a merge request; ingest and record push the al branch)
            assert job["interruptible"] is (name not in NOT_INTERRUPTIBLE), name
            variables = job["variables"]
            assert variables["ALOPS_CONFIG"] == "alops.yaml"
            assert variables["ALOPS_SPLIT_JOBS"].strip() == "false"
            assert json.loads(variables["ALOPS_GPU_TAGS"]) == GPU_TAGS
            assert json.loads(variables["ALOPS_CPU_TAGS"]) == []
            for role in PATTERN_ROLES:
                assert variables[f"ALOPS_{role.upper()}_BRANCHES"] == DEFAULT_PATTERNS[role]


def test_the_base_job_sets_only_variables_alops_reads() -> None:
    """A variable of an input that nothing reads would be a documented setting that does nothing."""
    from alops import env

    for path in (ALOPS, COMPONENTS / "alops.yml"):
        base = documents(path)[1][".$[[ inputs.job-prefix ]]-base"]["variables"]
        read = (
            {s.name for s in env.SETTINGS}
            | {env.branches(r) for r in PATTERN_ROLES}
            | {env.tags(r) for r in ("cpu", "gpu")}
        )
        assert {name for name in base if name.startswith("ALOPS_")} <= read, path
        assert {env.CONFIG, env.JOB_PREFIX, env.SPLIT_JOBS, env.tags("gpu"), env.branches("feature")} <= set(base)


def test_needs_name_jobs_of_the_template(preview: dict[str, Any]) -> None:
    jobs = {name for name in preview if name.startswith("alops-")}
    for name in jobs:
        for need in preview[name].get("needs") or []:
            assert need["job"] in jobs, f"{name} needs unknown job {need['job']}"
            # a job needed by one that can run without it is optional
            assert need.get("optional") is True, f"{name}: needs {need['job']} must be optional (opt-outs)"


def test_dvc_cache_is_keyed_by_the_dataset_s_dvc_files(preview: dict[str, Any]) -> None:
    caches = {}
    for name, job in preview.items():
        if name.startswith("alops-") and name not in ("alops-plan", "alops-validate", *NO_DVC):
            (cache,) = job["cache"]
            assert cache["paths"] == [".dvc/cache"], name
            caches[name] = (cache["key"]["prefix"], cache["key"]["files"], cache["policy"])
    dev, full = ("alops-dvc-dev", ["data/dev.dvc"]), ("alops-dvc-full", ["data/full.dvc"])
    assert caches == {
        "alops-run": (*dev, "pull-push"),
        "alops-run-gpu": (*full, "pull-push"),
        "alops-data": (*dev, "pull-push"),
        "alops-train": (*dev, "pull-push"),
        "alops-evaluate": (*dev, "pull"),
        "alops-data-gpu": (*full, "pull-push"),
        "alops-train-gpu": (*full, "pull-push"),
        "alops-evaluate-gpu": (*full, "pull"),
        "alops-devset-check": (*full, "pull"),
        "alops-devset-refresh": (*full, "pull"),
        "alops-al-query": (*full, "pull-push"),
        "alops-al-ingest": (*full, "pull"),
    }
    assert all("cache" not in preview[name] for name in NO_DVC)


#: Jobs that run no DVC: export reads the query job's artifacts, record commits the training's; the gate
#: and the report read the run job's artifacts; matrix reads alops.yaml, and its trigger job runs nothing.
NO_DVC = (
    "alops-al-export",
    "alops-al-record",
    "alops-gate",
    "alops-report",
    "alops-matrix",
    "alops-matrix-pipeline",
    # the release reads the run job's artifacts; the tag pipeline's jobs read the package registry
    "alops-release",
    "alops-package",
    "alops-serve-image",
    "alops-job-image",  # builds the image from the Dockerfile: no data
    "alops-deploy-staging",
    "alops-deploy-production",
)


def test_dvc_file_inputs_change_the_cache_keys(gcl: GitlabCiLocal) -> None:
    files = {"dev-dvc-files": ["dev/a.dvc", "dev/b.dvc"], "full-dvc-files": ["full.dvc"]}
    jobs = gcl.preview(inputs=files)
    assert jobs["alops-train"]["cache"][0]["key"]["files"] == ["dev/a.dvc", "dev/b.dvc"]
    assert jobs["alops-run"]["cache"][0]["key"]["files"] == ["dev/a.dvc", "dev/b.dvc"]
    assert jobs["alops-data-gpu"]["cache"][0]["key"]["files"] == ["full.dvc"]
    assert jobs["alops-run-gpu"]["cache"][0]["key"]["files"] == ["full.dvc"]


def test_dvc_file_input_defaults_are_the_example_project_s_targets() -> None:
    values = defaults(ALOPS)
    example = yaml.safe_load((SKELETON / "alops.yaml").read_text())
    assert values["dev-dvc-files"] == example["datasets"]["dev"]["targets"]
    assert values["full-dvc-files"] == example["datasets"]["full"]["targets"][:1]  # labels.dvc changes with it


def test_data_jobs_pull_the_role_s_dataset_and_devset_jobs_both(preview: dict[str, Any]) -> None:
    for name in ("alops-run", "alops-run-gpu"):
        # one job: pull (the counted one-line summary), then train and evaluate without pulling again
        doctor = [DOCTOR] if name in GPU_JOBS else []
        assert preview[name]["script"] == [*doctor, "alops data pull --dataset auto", "alops run --no-pull --job all"]
        # one job after the plan (and the job image's build, when there is one)
        assert [n["job"] for n in preview[name]["needs"]] == ["alops-plan", "alops-job-image"]
    assert preview["alops-run-gpu"]["tags"] == GPU_TAGS
    assert preview["alops-data"]["script"] == ["alops data pull --dataset auto"]
    assert preview["alops-data-gpu"]["script"] == [DOCTOR, "alops data pull --dataset auto"]
    pulls = ["alops data pull --dataset full", "alops data pull --dataset dev"]
    assert preview["alops-devset-check"]["script"] == [*pulls, "alops devset check --report-dir devset-check"]
    assert preview["alops-devset-refresh"]["script"] == [*pulls, "alops devset refresh --report-dir devset-check"]
    assert preview["alops-data-gpu"]["tags"] == GPU_TAGS
    assert preview["alops-train-gpu"]["needs"][1]["job"] == "alops-data-gpu"


def test_a_drifted_dev_set_fails_the_check_job_as_allowed_only(preview: dict[str, Any]) -> None:
    check = preview["alops-devset-check"]
    assert check["allow_failure"] == {"exit_codes": [5]}  # alops.errors.EXIT_NOT_REPRESENTATIVE
    manual = [rule for rule in check["rules"] if rule.get("when") == "manual"]
    assert manual == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual", "allow_failure": True}]
    refresh = preview["alops-devset-refresh"]
    assert (refresh["interruptible"], refresh["resource_group"]) == (False, "alops-devset-refresh")
    assert check["needs"] == refresh["needs"] == []


def test_artifacts(preview: dict[str, Any]) -> None:
    # the plan's dotenv, and the job image's tag or digest (empty without job-dockerfile)
    assert preview["alops-plan"]["artifacts"]["reports"]["dotenv"] == ["alops.env", "alops-image.env"]
    for name in ("alops-devset-check", "alops-devset-refresh"):
        assert preview[name]["artifacts"] == {"when": "always", "paths": ["devset-check/"], "expire_in": "30 days"}
    manifest = "alops-manifest.json"  # alops.manifest.FILE: what `alops run` wrote, for the gate, report, reproduce
    for variant in ("", "-gpu"):
        assert preview[f"alops-run{variant}"]["artifacts"]["paths"] == ["models/", "metrics/", "dvc.lock", manifest]
        assert preview[f"alops-train{variant}"]["artifacts"]["paths"] == ["models/", "dvc.lock", manifest]
        assert preview[f"alops-evaluate{variant}"]["artifacts"]["paths"] == ["metrics/", "dvc.lock", manifest]
    assert preview["alops-gate"]["artifacts"] == {
        "when": "always",
        "reports": {"junit": "alops-gate.xml", "metrics": "alops-metrics.txt"},
    }
    assert preview["alops-matrix"]["artifacts"] == {"paths": ["alops-matrix.yml"], "expire_in": "7 days"}


def test_job_prefix_input_renames_jobs(gcl: GitlabCiLocal) -> None:
    feature = push("feature", "feature", "feature/x")
    assert set(gcl.jobs(feature, inputs={"job-prefix": "ml"})) == expected_pipeline(feature, prefix="ml")
    renamed = gcl.preview(inputs={"job-prefix": "ml"})
    assert renamed["ml-run"]["needs"][0]["job"] == "ml-plan"
    assert renamed["ml-train"]["needs"][1]["job"] == "ml-data"
    assert renamed["ml-data"]["cache"][0]["key"]["prefix"] == "ml-dvc-dev"
    assert renamed["ml-devset-refresh"]["resource_group"] == "ml-devset-refresh"


def test_stage_inputs_set_stages(gcl: GitlabCiLocal) -> None:
    jobs = gcl.jobs(inputs={"stage-run": "deploy", "stage-gate": "deploy"})
    assert {name: job["stage"] for name, job in jobs.items()} == {
        "alops-plan": ".pre",
        "alops-validate": "build",
        "alops-run-gpu": "deploy",
        "alops-gate": "deploy",
        "alops-devset-check": "test",
        "alops-devset-refresh": "test",
    }
    inputs = {
        "split-jobs": True,
        "stage-train": "deploy",
        "stage-evaluate": ".post",
        "stage-gate": ".post",
        "stage-release": ".post",
    }
    jobs = gcl.jobs(inputs=inputs)
    assert {name: job["stage"] for name, job in jobs.items()} == {
        "alops-plan": ".pre",
        "alops-validate": "build",
        "alops-data-gpu": "build",
        "alops-train-gpu": "deploy",
        "alops-evaluate-gpu": ".post",
        "alops-gate": ".post",
        "alops-devset-check": "test",
        "alops-devset-refresh": "test",
    }
    feature = push("feature", "feature", "feature/x")
    jobs = gcl.jobs(feature, inputs={"stage-gate": "deploy", "stage-run": "build", "matrix": True})
    assert {name: job["stage"] for name, job in jobs.items() if job_kind(name) in (*QUALITY_JOBS, *MATRIX_JOBS)} == {
        "alops-gate": "deploy",
        "alops-report": "deploy",
        "alops-matrix": "build",
        "alops-matrix-pipeline": "build",
    }
    jobs = gcl.jobs(inputs={"stage-devset": ".post"})
    assert (jobs["alops-devset-check"]["stage"], jobs["alops-devset-refresh"]["stage"]) == (".post", ".post")


OPT_OUT_CASES = (
    [(SCENARIOS[0], job) for job in ("plan", "validate", "run", *DEVSET_JOBS, "gate")]
    + [(SCENARIOS[1], job) for job in ("run", "gate", "report")]
    + [(s, "devset-check") for s in SCENARIOS if s.id == "schedule-default"]
    + [(s, "devset-refresh") for s in SCENARIOS if s.id == "schedule-refresh"]
)


@pytest.mark.parametrize(("scenario", "job"), OPT_OUT_CASES, ids=[f"{s.id}-{j}" for s, j in OPT_OUT_CASES])
def test_opt_out_variable_removes_its_job(gcl: GitlabCiLocal, scenario: Scenario, job: str) -> None:
    jobs = gcl.jobs(scenario, variables={f"ALOPS_{job.upper().replace('-', '_')}_DISABLED": "1"})
    assert set(jobs) == expected_pipeline(scenario, disabled=(job,))
    assert not any(job_kind(name) == job for name in jobs)
    if job == "run":  # no run job, no metrics: neither gate nor report
        assert not any(job_kind(name) in QUALITY_JOBS for name in jobs)


@pytest.mark.parametrize("scenario", SCENARIOS[:2], ids=lambda s: s.id)
@pytest.mark.parametrize("job", RUN_STEPS)
def test_split_jobs_opt_out_variable_removes_its_job(split: GitlabCiLocal, scenario: Scenario, job: str) -> None:
    jobs = split.jobs(scenario, variables={f"ALOPS_{job.upper()}_DISABLED": "1"})
    assert set(jobs) == expected_pipeline(scenario, split=True, disabled=(job,))
    assert not any(job_kind(name) == job for name in jobs)
    # the one-job shape ignores the split jobs' opt-outs, as `alops flow` does
    assert set(split.jobs(scenario, variables={"ALOPS_RUN_DISABLED": "1"})) == expected_pipeline(scenario, split=True)


def test_empty_opt_out_variable_keeps_the_job(gcl: GitlabCiLocal) -> None:
    jobs = gcl.jobs(variables={"ALOPS_TRAIN_DISABLED": ""})
    assert set(jobs) == expected_pipeline(SCENARIOS[0])


CUSTOM_PATTERNS = {
    "feature-branches": "/^feat-/",
    "experiment-branches": "/^exp-/",
    "release-branches": "/^rel-/",
    "al-branches": "/^label-/",
}


@pytest.mark.parametrize(
    ("branch", "role"),
    [
        ("exp-1", "experiment"),
        ("rel-2", "release"),
        ("label-3", "al"),
        ("feat-4", "feature"),
        ("experiment/lr", "other"),
        ("release/1.0", "other"),
    ],
)
def test_branch_pattern_inputs_change_roles(gcl: GitlabCiLocal, branch: str, role: str) -> None:
    scenario = push(branch, role, branch)
    assert set(gcl.jobs(scenario, inputs=CUSTOM_PATTERNS)) == expected_pipeline(scenario)
    variables = gcl.preview(inputs=CUSTOM_PATTERNS)["alops-plan"]["variables"]
    assert flow_plan(gcl.repo, {**scenario.env(), **variables})["role"] == role


# --- the library agrees with the template ----------------------------------------------


def flow_plan(repo: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """`alops flow --format json` as a job with ``env`` would print it."""
    result = CliRunner().invoke(
        cli, ["--config", str(repo / "alops.yaml"), "flow", "--format", "json"], env=dict(env), catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_alops_flow_agrees_with_the_template(gcl: GitlabCiLocal, preview: dict[str, Any], scenario: Scenario) -> None:
    plan = flow_plan(gcl.repo, {**scenario.env(), **preview["alops-plan"]["variables"]})
    listed = role_jobs(gcl.jobs(scenario))
    assert plan["role"] == scenario.role
    assert template_jobs(plan["jobs"], plan["runner"]) == set(listed)
    assert set(plan["ci_jobs"]) == set(listed)
    if scenario.variables.get("CI_PIPELINE_SOURCE") == "merge_request_event" and plan["runner"] == "gpu":
        assert "protected variables or runners" in plan["skipped"]
    else:
        assert plan["skipped"] is None
    for name in listed:
        if job_kind(name) in RUNNER_JOBS:
            assert plan["runner_tags"] == preview[name]["tags"], name
    if plan["runner"] == "cpu":
        assert plan["runner_tags"] == preview["alops-plan"]["tags"]


def read_dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_alops_flow_agrees_with_the_template_with_split_jobs(split: GitlabCiLocal, scenario: Scenario) -> None:
    variables = split.preview()["alops-plan"]["variables"]
    assert variables["ALOPS_SPLIT_JOBS"].strip() == "true"
    plan = flow_plan(split.repo, {**scenario.env(), **variables})
    assert set(plan["ci_jobs"]) == role_jobs(split.jobs(scenario))


@pytest.mark.parametrize(
    "scenario",
    [merge_request("mr-experiment", "experiment", "experiment/lr"), tag("tag", "v1.0.0")],
    ids=lambda s: s.id,
)
def test_plan_job_reports_the_jobs_gitlab_ci_local_lists(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    # Naming the job runs it whatever its rules say: its own env is what matters here.
    gcl("alops-plan", *SHELL_RUN, "--no-json-schema-validation", scenario=scenario)
    report = read_dotenv(
        gcl.repo / ".gitlab-ci-local" / "artifacts" / "alops-plan" / ".gitlab-ci-reports" / "dotenv" / "alops.env"
    )
    assert report["ALOPS_ROLE"] == scenario.role
    runner = ROLE_DEFAULTS[scenario.role].runner
    assert report["ALOPS_RUNNER"] == runner
    assert report["ALOPS_RUNNER_TAGS"] == (",".join(GPU_TAGS) if runner == "gpu" else "")
    assert template_jobs(report["ALOPS_JOBS"].split(","), runner) == role_jobs(gcl.jobs(scenario))
    assert set(report["ALOPS_CI_JOBS"].split(",")) == role_jobs(gcl.jobs(scenario))


def test_gitlab_ci_local_schema_accepts_the_expanded_config(gcl: GitlabCiLocal) -> None:
    ignored = [arg for path in SCHEMA_IGNORED for arg in ("--ignore-schema-paths", path)]
    assert "alops-run-gpu" in gcl("--list", *ignored).stdout
    both = GitlabCiLocal(gcl.repo, file="both.gitlab-ci.yml")
    assert set(both.jobs()) == expected_pipeline(SCENARIOS[0])
    both("--list", *ignored)


# --- workflow.yml: gitlab-ci-local does not enforce workflow:rules, so the same
# rules go on a probe job and its rules engine evaluates them ---------------------------

OPEN_MR = {"CI_OPEN_MERGE_REQUESTS": "grp/proj!7"}


@pytest.mark.parametrize(
    ("scenario", "runs"),
    [
        (push("push", "feature", "feature/x"), True),
        (push("push-default", "default", DEFAULT_BRANCH), True),
        (Scenario("push-with-open-mr", "feature", "feature/x", OPEN_MR), False),
        (Scenario("push-other-with-open-mr", "other", "fix-typo", OPEN_MR), False),
        (merge_request("merge-request", "feature", "feature/x"), True),
        (merge_request("merge-request-other", "other", "fix-typo"), True),
        # Branches of the full-data roles keep their branch pipeline (protected
        # variables and runners) and get no merge-request pipeline.
        (Scenario("push-experiment-with-open-mr", "experiment", "experiment/lr", OPEN_MR), True),
        (Scenario("push-release-with-open-mr", "release", "release/1.0", OPEN_MR), True),
        (Scenario("push-al-with-open-mr", "al", "al/r1", OPEN_MR), True),
        (Scenario("push-default-with-open-mr", "default", DEFAULT_BRANCH, OPEN_MR), True),
        (merge_request("merge-request-experiment", "experiment", "experiment/lr"), False),
        (merge_request("merge-request-release", "release", "release/1.0"), False),
        (merge_request("merge-request-al", "al", "al/r1"), False),
        (merge_request("merge-request-default", "default", DEFAULT_BRANCH), False),
        (tag("tag", "v1.0.0"), True),
        (schedule("schedule", "schedule", DEFAULT_BRANCH), True),
        (Scenario("schedule-with-open-mr", "schedule", "al/x", {"CI_PIPELINE_SOURCE": "schedule", **OPEN_MR}), True),
        (Scenario("web-with-open-mr", "feature", "feature/x", {"CI_PIPELINE_SOURCE": "web", **OPEN_MR}), True),
        (Scenario("api", "feature", "feature/x", {"CI_PIPELINE_SOURCE": "api"}), True),
        (Scenario("trigger", "feature", "feature/x", {"CI_PIPELINE_SOURCE": "trigger"}), True),
        (Scenario("chat", "feature", "feature/x", {"CI_PIPELINE_SOURCE": "chat"}), False),
        (Scenario("external-pr", "feature", "feature/x", {"CI_PIPELINE_SOURCE": "external_pull_request_event"}), False),
    ],
    ids=lambda v: v.id if isinstance(v, Scenario) else "",
)
def test_workflow_rules(project: Path, scenario: Scenario, runs: bool) -> None:
    probe = GitlabCiLocal(project, file="workflow-probe.yml")
    assert ("workflow-probe" in probe.jobs(scenario)) is runs


def test_workflow_rules_with_custom_patterns(project: Path) -> None:
    patterns = {"experiment-branches": "/^exp-/", "release-branches": "/^rel-/", "al-branches": "/^label-/"}
    rules = _job_rules(rendered(WORKFLOW, **patterns)["workflow"]["rules"])
    (project / "workflow-custom.yml").write_text(yaml.safe_dump({"probe": {"script": ["true"], "rules": rules}}))
    probe = GitlabCiLocal(project, file="workflow-custom.yml")
    assert "probe" in probe.jobs(Scenario("exp", "experiment", "exp-1", OPEN_MR))
    assert "probe" not in probe.jobs(merge_request("mr-exp", "experiment", "exp-1"))
    assert "probe" not in probe.jobs(Scenario("old", "other", "experiment/lr", OPEN_MR))


# --- branch-pattern inputs: GitLab checks each value against the input's regex (RE2) ------

BRANCH_INPUTS = [name for name in inputs_of(ALOPS) if name.endswith("-branches")]
HOSTILE_PATTERNS = sorted(
    {
        p
        for case in json.loads((REPO / "tests/data/hostile_branches.json").read_text())["pattern_cases"]
        for p in case["patterns"].values()
    }
)
ACCEPTED = [
    "/^feature\\//",
    "/^feat-/",
    "/^(feature|feat)\\//i",
    "/^release\\/[0-9]+\\.[0-9]+$/",
    "/xy/",
    "/a\\/b/",
    "/^Feature\\//im",
    "/\\d/",  # two characters between the slashes: GitLab's lexer takes it
]
REFUSED = [
    "/^release//",  # "/^release\\//" in double quotes: YAML made the escaped slash a bare one
    "feature/",  # no slashes around it
    "^feature/",
    "/^feature/g",  # flags: i, s, m, U only
    "/x/",  # GitLab's lexer wants two characters or more between the slashes
    "//",
    "/^feature\\/",  # the closing slash is escaped: no end
    "/a/\n/b/",
    "",
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_branch_input_regex_accepts_rules_regexes(value: str) -> None:
    re2 = pytest.importorskip("re2")  # GitLab evaluates input regexes with RE2
    for path in (ALOPS, WORKFLOW):
        for name, spec in inputs_of(path).items():
            if name.endswith("-branches"):
                assert re2.search(spec["regex"], value), (path.name, name, value)
    from alops.config import compile_pattern

    compile_pattern(value)  # and alops reads every accepted value


@pytest.mark.parametrize("value", REFUSED)
def test_branch_input_regex_refuses_what_breaks_rules(value: str) -> None:
    re2 = pytest.importorskip("re2")
    for path in (ALOPS, WORKFLOW):
        for name, spec in inputs_of(path).items():
            if name.endswith("-branches"):
                assert not re2.search(spec["regex"], value), (path.name, name, value)


def test_every_branch_input_has_the_regex() -> None:
    assert BRANCH_INPUTS == ["feature-branches", "experiment-branches", "release-branches", "al-branches"]
    assert {inputs_of(ALOPS)[name]["regex"] for name in BRANCH_INPUTS} == {
        r"^/(?:(?:[^/\n]|\\/)+[^\\/\n]|(?:[^/\n]|\\/)*\\/)/[ismU]*$"
    }


@pytest.mark.parametrize("value", ACCEPTED + REFUSED + HOSTILE_PATTERNS)
def test_branch_input_regex_is_gitlabs_lexer(value: str) -> None:
    """The input regex accepts exactly the /regex/flags tokens GitLab's rules lexer reads (alops.patterns)."""
    re2 = pytest.importorskip("re2")
    from alops.patterns import lexes

    assert bool(re2.search(inputs_of(ALOPS)["feature-branches"]["regex"], value)) == (
        lexes(value) and "\n" not in value
    )


# --- one source: templates/ (the component) and the ci-templates/ copies -----------------


def test_ci_templates_are_current_copies_of_the_component_templates() -> None:
    sync = subprocess.run(
        [sys.executable, str(TEMPLATES / "sync.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert sync.returncode == 0, sync.stderr
    for source, copy in zip(COMPONENT_FILES, TEMPLATE_FILES, strict=True):
        head, _, rest = copy.read_text().partition("\n")
        assert rest == source.read_text() and "edit that file" in head, copy
        assert not copy.is_symlink() and not source.is_symlink(), "GitLab does not follow symlinks in includes"


def test_component_project_layout() -> None:
    # https://docs.gitlab.com/ci/components/#directory-structure: templates/<name>.yml,
    # a README.md at the project root, at most 30 components.
    names = sorted(p.name for p in COMPONENTS.iterdir())
    assert names == ["alops.yml", "workflow.yml"]
    assert (REPO / "README.md").is_file()
    for path in COMPONENT_FILES:
        header, body = documents(path)
        assert header is not None and set(header) == {"spec"}, path
        assert not set(body) & (GLOBAL_KEYWORDS - {"workflow"}), path


def test_readme_shows_the_component_include_first() -> None:
    text = README.read_text()
    first = text.index("```yaml\ninclude:\n")
    assert text[first:].split("\n")[2].strip().startswith("- component: $CI_SERVER_FQDN/mlops/alops/alops@")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_the_component_gives_the_same_jobs(project: Path, scenario: Scenario) -> None:
    component = GitlabCiLocal(project, file="component.gitlab-ci.yml")
    assert set(component.jobs(scenario)) == expected_pipeline(scenario)


def test_the_component_passes_gitlab_ci_local_s_schema(project: Path) -> None:
    ignored = [arg for path in SCHEMA_IGNORED for arg in ("--ignore-schema-paths", path)]
    component = GitlabCiLocal(project, file="component.gitlab-ci.yml")
    assert "alops-run-gpu" in component("--list", *ignored).stdout
    assert component.preview()["alops-run-gpu"]["tags"] == GPU_TAGS


# --- full-data credentials: protected runners, an environment per tier -----------------

TIERS = {
    "default": "default",
    "experiment": "experiment",
    "release": "release",
    "al": "al",
    "al-schedule": "schedule",
    "schedule-default": "schedule",
    "schedule-feature": "schedule",
}


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.id in TIERS and s.id != "al-schedule"], ids=lambda s: s.id
)
def test_full_data_jobs_run_in_their_tier_s_environment(
    gcl: GitlabCiLocal, preview: dict[str, Any], scenario: Scenario
) -> None:
    # gitlab-ci-local does not apply rules:variables to environment:name; GitLab
    # does (they become job variables when the pipeline is created). So: which rule
    # applies, and which tier it sets.
    job = preview["alops-run-gpu"]
    assert job["environment"] == {"name": "alops/$ALOPS_TIER", "action": "prepare"}
    hit = first_rule(gcl, job["rules"], scenario, "probe-tier.yml")
    assert hit is not None
    assert job["rules"][hit]["variables"] == {"ALOPS_TIER": TIERS[scenario.id]}


def test_devset_jobs_run_in_the_devset_environment_on_protected_runners(preview: dict[str, Any]) -> None:
    for name in ("alops-devset-check", "alops-devset-refresh"):
        job = preview[name]
        assert job["variables"]["ALOPS_TIER"] == "devset"
        assert job["environment"] == {"name": "alops/$ALOPS_TIER", "action": "prepare"}
        assert job["tags"] == PROTECTED_TAGS
    cpu = {name for name, job in preview.items() if name.startswith("alops-") and "environment" not in job}
    deploys = {"alops-deploy-staging", "alops-deploy-production"}  # in their own environments (a release test checks)
    assert (
        cpu
        == {"alops-plan", "alops-validate", "alops-run", "alops-data", "alops-train", "alops-evaluate", *NO_DVC}
        - deploys
    )
    # a job of the user's that extends the full-data cache gets a valid environment of its own
    assert preview["alops-run-gpu"]["variables"]["ALOPS_TIER"] == "full"


def test_the_example_project_s_ci_file_as_a_local_component(project: Path) -> None:
    # examples/project-skeleton/.gitlab-ci.yml with its component paths pointed at this project
    text = (SKELETON / ".gitlab-ci.yml").read_text()
    assert text.count("$CI_SERVER_FQDN/mlops/alops/") == 2 and text.count(f"@{__version__}\n") == 2
    local = text.replace("$CI_SERVER_FQDN/mlops/alops/", "$CI_SERVER_FQDN/$CI_PROJECT_PATH/")
    (project / "skeleton.gitlab-ci.yml").write_text(local.replace(f"@{__version__}", "@$CI_COMMIT_SHA"))
    skeleton = GitlabCiLocal(project, file="skeleton.gitlab-ci.yml")
    feature = skeleton.preview()
    assert feature["alops-run"]["tags"] == ["docker"] and feature["alops-run-gpu"]["tags"] == ["gpu"]
    assert feature["workflow"]["rules"] == rendered(WORKFLOW)["workflow"]["rules"], "the skeleton includes workflow"
    assert set(skeleton.jobs(SCENARIOS[1])) == expected_pipeline(SCENARIOS[1])


# --- the active-learning loop: which jobs each step of an al branch's pipeline gets --------
# Job names (tests/ci and the skeleton's round under gitlab-ci-local use them):
#   alops-al-query   score (alops al score) + alops al query, GPU runners, the batch exposed in the MR
#   alops-al-export  alops al export --to label-studio, when ALOPS_LABEL_STUDIO_URL is set
#   alops-al-ingest  alops al ingest --from label-studio --push, then alops al retrain --trigger
#   alops-al-record  alops al record after alops-run-gpu (or alops-evaluate-gpu)

LS = {"ALOPS_LABEL_STUDIO_URL": "http://label-studio.example"}
AL_SCENARIOS = (
    push("al-push-trains", "al", "al/digits"),
    Scenario("al-web-query", "al", "al/digits", {"CI_PIPELINE_SOURCE": "web", "ALOPS_AL_STEP": "query", **LS}),
    Scenario("al-api-query-no-ls", "al", "al/digits", {"CI_PIPELINE_SOURCE": "api", "ALOPS_AL_STEP": "query"}),
    Scenario("al-schedule-queries", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule", **LS}),
    Scenario("al-schedule-query-step", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_AL_STEP": "query"}),
    Scenario("al-schedule-ingest", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_AL_STEP": "ingest"}),
    Scenario("al-web-ingest", "al", "al/digits", {"CI_PIPELINE_SOURCE": "web", "ALOPS_AL_STEP": "ingest"}),
    Scenario("al-schedule-train", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_AL_STEP": "train"}),
    # `alops al retrain --trigger`: with ALOPS_GITLAB_TOKEN an API pipeline, with CI_JOB_TOKEN a `pipeline` one
    Scenario("al-retrain-api", "al", "al/digits", {"CI_PIPELINE_SOURCE": "api", "ALOPS_AL_STEP": "train"}),
    Scenario("al-retrain-job-token", "al", "al/digits", {"CI_PIPELINE_SOURCE": "pipeline", "ALOPS_AL_STEP": "train"}),
    merge_request("al-mr", "al", "al/digits"),
    # the step is the al role's only: an experiment branch ignores a stray ALOPS_AL_STEP
    Scenario("experiment-with-step", "experiment", "experiment/lr", {"ALOPS_AL_STEP": "query"}),
)


@pytest.mark.parametrize("scenario", AL_SCENARIOS, ids=lambda s: s.id)
def test_al_jobs_of_each_step_and_source(gcl: GitlabCiLocal, split: GitlabCiLocal, scenario: Scenario) -> None:
    assert set(gcl.jobs(scenario)) == expected_pipeline(scenario)
    assert set(split.jobs(scenario)) == expected_pipeline(scenario, split=True)


@pytest.mark.parametrize("scenario", AL_SCENARIOS, ids=lambda s: s.id)
def test_alops_flow_agrees_with_the_template_on_al_steps(
    gcl: GitlabCiLocal, preview: dict[str, Any], scenario: Scenario
) -> None:
    plan = flow_plan(gcl.repo, {**scenario.env(), **preview["alops-plan"]["variables"]})
    assert plan["role"] == scenario.role
    assert set(plan["ci_jobs"]) == role_jobs(gcl.jobs(scenario))
    source = scenario.variables.get("CI_PIPELINE_SOURCE", "push")
    assert plan["al_step"] == (al_step_of(source, scenario.variables) if scenario.role == "al" else None)


def test_ingest_runs_in_its_step_and_waits_by_hand_in_the_others(gcl: GitlabCiLocal) -> None:
    whens = {s.id: gcl.jobs(s).get("alops-al-ingest", {}).get("when") for s in AL_SCENARIOS}
    assert whens == {
        "al-push-trains": "manual",
        "al-web-query": "manual",
        "al-api-query-no-ls": "manual",
        "al-schedule-queries": "manual",
        "al-schedule-query-step": "manual",
        "al-schedule-ingest": "on_success",
        "al-web-ingest": "on_success",
        "al-schedule-train": "manual",
        "al-retrain-api": "manual",
        "al-retrain-job-token": "manual",
        "al-mr": None,
        "experiment-with-step": None,
    }
    # a manual job that could fail without being allowed to would block the pipeline
    rules = rendered(ALOPS)["alops-al-ingest"]["rules"]
    assert [r for r in rules if r.get("when") == "manual"] == [
        {"when": "manual", "allow_failure": True, "variables": {"ALOPS_TIER": "al"}}
    ]


def test_two_ingests_of_a_branch_never_run_at_once(gcl: GitlabCiLocal, preview: dict[str, Any]) -> None:
    # One resource group per al branch for both jobs that push it: ingest and record wait for each other.
    for name in ("alops-al-ingest", "alops-al-record"):
        assert preview[name]["resource_group"] == "alops-al-$CI_COMMIT_REF_SLUG", name
        assert preview[name]["interruptible"] is False
        assert preview[name]["variables"]["GIT_DEPTH"] == "0"  # retrain and record read the trailers
    renamed = gcl.preview(inputs={"job-prefix": "ml"})
    assert renamed["ml-al-ingest"]["resource_group"] == "ml-al-$CI_COMMIT_REF_SLUG"


def test_the_batch_is_an_artifact_exposed_in_the_merge_request(preview: dict[str, Any]) -> None:
    query = preview["alops-al-query"]
    artifacts = query["artifacts"]
    assert artifacts == {"expose_as": "al batch", "paths": [".alops/al/batch/"], "expire_in": "30 days"}
    # GitLab's expose_as: a name of letters, digits, spaces, - and _; paths a file or a folder ending in /,
    # without variables or wildcards.
    assert re.fullmatch(r"\w[-\w ]*", artifacts["expose_as"])
    (path,) = artifacts["paths"]
    assert path.endswith("/") and not set(path) & set("$*?[]{}")
    assert query["script"] == [DOCTOR, "alops al score", f"alops al query --out {path.rstrip('/')}"]
    assert preview["alops-al-export"]["script"] == [f"alops al export --to label-studio --batch {path.rstrip('/')}"]
    assert preview["alops-al-export"]["needs"] == [{"job": "alops-al-query", "artifacts": True, "optional": True}]


def test_the_loop_s_jobs_run_its_commands(preview: dict[str, Any]) -> None:
    assert preview["alops-al-ingest"]["script"] == [
        "alops data pull --dataset full",
        "alops al ingest --from label-studio --push",
        "alops al retrain --trigger",
    ]
    assert preview["alops-al-record"]["script"] == ["alops al record"]
    assert preview["alops-al-record"]["stage"] == ".post"  # after the training job of either shape
    assert {n["job"] for n in preview["alops-al-record"]["needs"]} == {"alops-run-gpu", "alops-evaluate-gpu"}


@pytest.mark.parametrize(
    "scenario", [s for s in AL_SCENARIOS if s.id in ("al-schedule-queries", "al-web-query")], ids=lambda s: s.id
)
def test_the_query_job_runs_in_the_al_tier(gcl: GitlabCiLocal, preview: dict[str, Any], scenario: Scenario) -> None:
    job = preview["alops-al-query"]
    assert job["environment"] == {"name": "alops/$ALOPS_TIER", "action": "prepare"}
    hit = first_rule(gcl, job["rules"], scenario, "probe-al-tier.yml")
    assert hit is not None and job["rules"][hit]["variables"] == {"ALOPS_TIER": "al"}


def test_the_header_says_which_token_each_al_job_needs() -> None:
    header = ALOPS.read_text().split("\nspec:\n", 1)[0]
    for needed in ("<prefix>-al-ingest", "<prefix>-al-record", "CI_JOB_TOKEN", "write_repository", "trigger API"):
        assert needed in header, needed


# --- experiments you can trust: the manifest, the gate, the report, the matrix (issue 9) ----
# Job names (tests/ci/test_experiment_pipeline.py and the README use them):
#   alops-gate             alops gate --junit alops-gate.xml --metrics-report alops-metrics.txt, after the run job
#   alops-report           alops report, after the gate (also a failed one), the page exposed in the MR
#   alops-matrix           alops matrix --output alops-matrix.yml, with the matrix input, on feature branches
#   alops-matrix-pipeline  the child pipeline of alops-matrix.yml (trigger, strategy: depend)

#: Which of the jobs after the run job each pipeline gets (written out: a reviewer reads the table).
QUALITY_BY_SCENARIO = {
    "default": {"alops-gate"},
    "feature": {"alops-gate", "alops-report"},
    "experiment": {"alops-gate", "alops-report"},
    "release": {"alops-gate"},
    "al": {"alops-gate"},  # a push trains
    "al-schedule": set(),  # a query round: no run job, no metrics
    "schedule-default": {"alops-gate"},
    "schedule-feature": {"alops-gate"},
    "schedule-refresh": {"alops-gate"},
    "al-schedule-refresh": set(),
    "other": {"alops-gate", "alops-report"},
    "mr-feature": {"alops-gate", "alops-report"},
    "mr-experiment": set(),  # no GPU job in an MR pipeline: both run in the branch pipeline
    "tag": set(),
    "version-tag": set(),
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_gate_and_report_of_each_pipeline(gcl: GitlabCiLocal, split: GitlabCiLocal, scenario: Scenario) -> None:
    for engine in (gcl, split):
        jobs = engine.jobs(scenario)
        quality = {name for name in jobs if job_kind(name) in QUALITY_JOBS}
        assert quality == QUALITY_BY_SCENARIO[scenario.id], engine.file
        assert {name: jobs[name]["when"] for name in quality} == {
            name: {"alops-gate": "on_success", "alops-report": "always"}[name] for name in quality
        }
    assert set(QUALITY_BY_SCENARIO) == {s.id for s in SCENARIOS}


@pytest.mark.parametrize("scenario", AL_SCENARIOS, ids=lambda s: s.id)
def test_the_gate_runs_in_the_al_train_step_only(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    source = scenario.variables.get("CI_PIPELINE_SOURCE", "push")
    trains = scenario.role != "al" or al_step_of(source, scenario.variables) == "train"
    trains = trains and not (scenario.role == "al" and source == "merge_request_event")
    assert ("alops-gate" in gcl.jobs(scenario)) is trains
    assert "alops-report" not in gcl.jobs(scenario) or scenario.role in REPORT_ROLES


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_gate_false_leaves_the_gate_out(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    # For projects without quality.thresholds: `alops gate` would fail with exit code 2 there.
    jobs = gcl.jobs(scenario, inputs={"gate": False})
    assert set(jobs) == expected_pipeline(scenario, gate=False)
    assert "alops-gate" not in jobs


MATRIX_SCENARIOS = [*SCENARIOS, merge_request("mr-other", "other", "fix-typo")]


@pytest.mark.parametrize("scenario", MATRIX_SCENARIOS, ids=lambda s: s.id)
def test_matrix_jobs_only_with_matrix_true_on_feature_branches(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    assert not {name for name in gcl.jobs(scenario) if job_kind(name) in MATRIX_JOBS}, "matrix: false is the default"
    jobs = gcl.jobs(scenario, inputs={"matrix": True})
    assert set(jobs) == expected_pipeline(scenario, matrix=True)
    on_feature = scenario.role == "feature"  # its push and its MR pipeline; never a schedule of a feature branch
    assert ({"alops-matrix", "alops-matrix-pipeline"} <= set(jobs)) is on_feature
    if on_feature:
        without = gcl.jobs(scenario, inputs={"matrix": True}, variables={"ALOPS_MATRIX_DISABLED": "1"})
        assert set(without) == expected_pipeline(scenario, matrix=True, disabled=("matrix",))


def test_matrix_job_writes_the_child_pipeline_the_trigger_job_runs(preview: dict[str, Any]) -> None:
    matrix = preview["alops-matrix"]
    # the child jobs run in the job image (the image input without job-dockerfile)
    assert matrix["script"] == ['alops matrix --output alops-matrix.yml --image "$ALOPS_JOB_IMAGE"']
    assert matrix["variables"]["ALOPS_JOB_IMAGE"] == "$CI_REGISTRY/mlops/alops:0.1.0"
    assert [n["job"] for n in matrix["needs"]] == ["alops-plan", "alops-job-image"] and matrix["tags"] == []
    trigger = preview["alops-matrix-pipeline"]
    assert trigger["trigger"] == {
        "include": [{"artifact": "alops-matrix.yml", "job": "alops-matrix"}],
        "strategy": "depend",
    }
    assert trigger["needs"] == [{"job": "alops-matrix", "artifacts": True, "optional": True}]
    # a trigger job takes no image, tags or script: it extends nothing of the base job
    assert not {"image", "tags", "script", "cache", "extends"} & set(trigger)


def test_the_gate_checks_after_the_run_job_of_either_shape(preview: dict[str, Any]) -> None:
    gate = preview["alops-gate"]
    assert gate["script"] == ["alops gate --junit alops-gate.xml --metrics-report alops-metrics.txt"]
    after = ["alops-run", "alops-run-gpu", "alops-evaluate", "alops-evaluate-gpu"]
    assert [(n["job"], n["artifacts"], n["optional"]) for n in gate["needs"]] == [(j, True, True) for j in after]
    assert "allow_failure" not in gate, "a failed gate (exit code 6) must fail the pipeline"
    report = preview["alops-report"]
    assert report["script"] == ["alops report"]
    assert [n["job"] for n in report["needs"]] == ["alops-gate", *after]
    assert report["needs"][0] == {"job": "alops-gate", "artifacts": False, "optional": True}
    assert (gate["tags"], report["tags"]) == ([], [])  # cpu-tags: no data, no GPU


def test_the_report_is_one_self_contained_file_exposed_in_the_merge_request(preview: dict[str, Any]) -> None:
    artifacts = preview["alops-report"]["artifacts"]
    assert artifacts == {
        "when": "always",
        "expose_as": "alops report",
        "paths": ["alops-report/index.html"],
        "expire_in": "30 days",
    }
    # https://docs.gitlab.com/ci/yaml/#artifactsexpose_as: the name holds letters, digits, spaces, - and _;
    # each path a file or a folder ending in /, without CI/CD variables, globs or a leading ./ (GitLab keeps
    # such artifacts but does not show them); at most 10 exposed per merge request.
    assert re.fullmatch(r"\w[-\w ]*", artifacts["expose_as"])
    for path in artifacts["paths"]:
        assert not set(path) & set("$*?[]{}") and not path.startswith("./")
    # GitLab's Ci::FindExposedArtifactsService (app/services/ci/find_exposed_artifacts_service.rb) links
    # to the file itself only when the paths hold exactly one file, else to the artifacts browser.
    (page,) = artifacts["paths"]
    assert page.endswith(".html") and not page.endswith("/")
    exposed = [n for n, job in preview.items() if isinstance(job, dict) and "expose_as" in job.get("artifacts", {})]
    assert sorted(exposed) == ["alops-al-query", "alops-report"]  # well under GitLab's 10 per merge request


@pytest.mark.parametrize("split_jobs", [False, True])
@pytest.mark.parametrize("scenario", [SCENARIOS[1], SCENARIOS[2], SCENARIOS[6]], ids=lambda s: s.id)
def test_the_baseline_job_is_the_one_that_writes_the_default_branch_s_manifest(
    gcl: GitlabCiLocal, split: GitlabCiLocal, scenario: Scenario, split_jobs: bool
) -> None:
    """ALOPS_BASELINE_JOB (alops.env.BASELINE_JOB): <prefix>-run-gpu, with split-jobs <prefix>-evaluate-gpu."""
    from alops import env

    engine = split if split_jobs else gcl
    config = engine.preview()
    want = "alops-evaluate-gpu" if split_jobs else "alops-run-gpu"
    assert want in config, "the default branch's job that writes alops-manifest.json"
    assert config["alops-plan"]["variables"][env.BASELINE_JOB] == "alops-run-gpu"  # the base job's
    for name in ("alops-gate", "alops-report"):
        if name not in engine.jobs(scenario):
            continue
        rules = config[name]["rules"]
        hit = first_rule(engine, rules, scenario, f"probe-baseline-{name}.yml")
        assert hit is not None, name
        got = (rules[hit].get("variables") or {}).get(env.BASELINE_JOB, config[name]["variables"][env.BASELINE_JOB])
        assert got == want, (name, rules[hit])


def test_quality_jobs_follow_the_job_prefix(gcl: GitlabCiLocal) -> None:
    renamed = gcl.preview(inputs={"job-prefix": "ml", "split-jobs": True})
    assert [n["job"] for n in renamed["ml-report"]["needs"]] == [
        "ml-gate",
        "ml-run",
        "ml-run-gpu",
        "ml-evaluate",
        "ml-evaluate-gpu",
    ]
    assert renamed["ml-plan"]["variables"]["ALOPS_BASELINE_JOB"] == "ml-run-gpu"
    split_rule = [r for r in renamed["ml-gate"]["rules"] if r.get("variables")]
    assert {r["variables"]["ALOPS_BASELINE_JOB"] for r in split_rule} == {"ml-evaluate-gpu"}
    assert renamed["ml-matrix-pipeline"]["trigger"]["include"] == [{"artifact": "alops-matrix.yml", "job": "ml-matrix"}]
    assert set(gcl.jobs(push("f", "feature", "feature/x"), inputs={"job-prefix": "ml", "matrix": True})) == (
        expected_pipeline(push("f", "feature", "feature/x"), "ml", matrix=True)
    )


def test_the_header_says_which_token_each_quality_job_needs() -> None:
    header = ALOPS.read_text().split("\nspec:\n", 1)[0]
    for needed in (
        "<prefix>-gate",
        "<prefix>-report",
        "<prefix>-matrix",
        "alops-manifest.json",
        "ALOPS_GITLAB_TOKEN (api",
        "with only CI_JOB_TOKEN, which\n#   cannot write notes, the note is skipped",
        "ALOPS_GATE_DISABLED",
        "ALOPS_REPORT_DISABLED",
        "ALOPS_MATRIX_DISABLED",
        "`gate: false`",
    ):
        assert needed in header, needed
    readme = README.read_text()
    for needed in ("`alops-gate`", "`alops-report`", "`alops-matrix-pipeline`", "`ALOPS_BASELINE_JOB`"):
        assert needed in readme, needed


# --- releases ----------------------------------------------------------------------------------


RELEASE_SCENARIOS = [s for s in SCENARIOS if s.id in ("release", "version-tag", "tag", "default")]


@pytest.mark.parametrize("scenario", RELEASE_SCENARIOS, ids=lambda s: s.id)
def test_releases_false_leaves_every_release_job_out(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    jobs = gcl.jobs(scenario, inputs={"releases": False})
    assert not {name for name in jobs if job_kind(name) in RELEASE_JOBS}
    assert set(jobs) == expected_pipeline(scenario, releases=False)


def test_a_hand_made_tag_that_is_not_a_version_deploys_nothing(gcl: GitlabCiLocal) -> None:
    for name in ("v1.2.0", "digits@v1.2", "digits@v01.2.0", "Digits@v1.2.0", "digits@v1.2.0-rc1"):
        jobs = gcl.jobs(tag("odd-tag", name))
        assert not {job for job in jobs if job_kind(job) in RELEASE_JOBS}, name


def test_deploys_run_in_their_environment_one_at_a_time(preview: dict[str, Any]) -> None:
    staging, production = preview["alops-deploy-staging"], preview["alops-deploy-production"]
    assert staging["environment"] == {"name": "staging", "deployment_tier": "staging", "url": "$ALOPS_DEPLOY_URL"}
    assert production["environment"] == {"name": "prod", "deployment_tier": "production", "url": "$ALOPS_DEPLOY_URL"}
    assert staging["resource_group"] == "alops-deploy-staging"
    assert production["resource_group"] == "alops-deploy-prod"
    assert preview["alops-release"]["resource_group"] == "alops-release"
    assert production["rules"][-1]["when"] == "manual"  # production by hand, after staging
    assert [n["job"] for n in production["needs"]] == ["alops-package", "alops-deploy-staging"]
    for job in (staging, production):
        assert job["script"] == ['alops deploy --environment "$ALOPS_DEPLOY_TO" --dotenv alops-deploy.env']
        assert job["artifacts"]["reports"]["dotenv"] == "alops-deploy.env"


def test_environment_inputs_name_the_deploys_environments(gcl: GitlabCiLocal) -> None:
    jobs = gcl.preview(inputs={"staging-environment": "qa", "production-environment": "live"})
    assert jobs["alops-deploy-staging"]["environment"]["name"] == "qa"
    assert jobs["alops-deploy-staging"]["variables"]["ALOPS_DEPLOY_TO"] == "qa"
    assert jobs["alops-deploy-production"]["environment"]["name"] == "live"
    assert jobs["alops-deploy-production"]["resource_group"] == "alops-deploy-live"


def test_the_release_ships_after_the_gate_with_the_run_job_s_artifacts(preview: dict[str, Any]) -> None:
    job = preview["alops-release"]
    needs = [(n["job"], n.get("artifacts", True)) for n in job["needs"]]
    assert needs[0] == ("alops-gate", False)
    # split-jobs: evaluate's manifest (with the metrics) is extracted after train's
    assert [n for n, _ in needs[1:]] == ["alops-run-gpu", "alops-train-gpu", "alops-evaluate-gpu"]
    assert job["script"] == ["alops release --dotenv alops-release.env"]
    assert job["artifacts"]["reports"]["dotenv"] == "alops-release.env"


def test_the_serving_image_is_built_by_buildkit_rootless(preview: dict[str, Any]) -> None:
    job = preview["alops-serve-image"]
    assert job["image"] == {"name": "moby/buildkit:v0.19.0-rootless", "entrypoint": [""]}
    assert job["variables"]["BUILDKITD_FLAGS"] == "--oci-worker-no-process-sandbox"
    build = job["script"][-1]
    assert build.startswith("buildctl-daemonless.sh build --frontend dockerfile.v0 --local context=alops-serve")
    assert '"type=image,name=$ALOPS_SERVE_IMAGE,push=true"' in build
    package = preview["alops-package"]
    assert package["artifacts"]["reports"]["dotenv"] == "alops-serve.env"
    assert package["artifacts"]["paths"] == ["alops-serve/"]


def test_the_header_says_which_token_each_release_job_needs() -> None:
    header = ALOPS.read_text().split("\nspec:")[0]
    said = " ".join(line.lstrip("# ") for line in header.splitlines())
    for job, token in (
        ("<prefix>-release", "CI_JOB_TOKEN"),
        ("<prefix>-package", "CI_JOB_TOKEN"),
        ("<prefix>-serve-image", "CI_REGISTRY_PASSWORD"),
        ("<prefix>-deploy-production", "ALOPS_GITLAB_TOKEN"),
    ):
        assert job in said and token in said.split(job, 1)[1][:400], job


# --- job images by digest, and the doctor first on GPU runners (issue 11) -------------------

JOB_IMAGE_INPUTS = {"job-dockerfile": "runners/image/Dockerfile.gpu", "job-image-inputs": ["uv.lock", "src/"]}


@pytest.mark.parametrize("scenario", [SCENARIOS[0], SCENARIOS[1], SCENARIOS[2], SCENARIOS[5]], ids=lambda s: s.id)
def test_the_job_image_job_exists_only_with_job_dockerfile(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    without = set(gcl.jobs(scenario))
    assert "alops-job-image" not in without
    assert set(gcl.jobs(scenario, inputs=JOB_IMAGE_INPUTS)) == without | {"alops-job-image"}
    opted_out = gcl.jobs(scenario, inputs=JOB_IMAGE_INPUTS, variables={"ALOPS_JOB_IMAGE_DISABLED": "1"})
    assert set(opted_out) == without


def test_the_job_image_job_builds_with_buildkit_after_the_plan(preview: dict[str, Any]) -> None:
    job = preview["alops-job-image"]
    assert job["image"] == {"name": "moby/buildkit:v0.19.0-rootless", "entrypoint": [""]}
    assert (job["stage"], job["tags"]) == ("build", [])  # stage-validate, cpu-tags
    assert job["needs"] == [{"job": "alops-plan", "artifacts": True, "optional": True}]
    assert job["rules"][1] == {"if": '"" == ""', "when": "never"}  # no job-dockerfile, no job
    script = "\n".join(job["script"])
    # nothing to build when the plan found the tag in the registry: an empty dotenv, exit 0
    assert script.index('if [ -z "$ALOPS_IMAGE_BUILD" ]') < script.index("buildctl-daemonless.sh")
    build = next(line for line in job["script"] if line.startswith("buildctl-daemonless.sh"))
    assert '"type=image,name=$ALOPS_IMAGE_BUILD,push=true"' in build and "--metadata-file alops-job-image.json" in build
    assert '--opt filename="$(basename "$JOB_DOCKERFILE")"' in build and "--local context=." in build
    assert 'echo "ALOPS_JOB_IMAGE=${ALOPS_IMAGE_BUILD%:*}@$digest" > alops-job-image.env' in script
    assert job["artifacts"] == {"reports": {"dotenv": "alops-job-image.env"}}


def test_the_job_image_job_takes_the_digest_from_buildkit_s_metadata(tmp_path: Path) -> None:
    # The job's own lines, run by sh on a metadata file as BuildKit writes it (containerimage.digest).
    body = rendered(ALOPS, **{"job-dockerfile": "Dockerfile"})
    script = body["alops-job-image"]["script"]
    digest = "sha256:" + "ab" * 32
    (tmp_path / "alops-job-image.json").write_text(
        json.dumps({"containerimage.config.digest": "sha256:" + "cd" * 32, "containerimage.digest": digest}, indent=2)
    )
    last = script[-1]  # the digest, then the dotenv
    env = {"PATH": "/usr/bin:/bin", "ALOPS_IMAGE_BUILD": "registry.example.com/g/p/alops-job:deps-0123456789abcdef"}
    done = subprocess.run(["sh", "-ec", last], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (
        tmp_path / "alops-job-image.env"
    ).read_text() == f"ALOPS_JOB_IMAGE=registry.example.com/g/p/alops-job@{digest}\n"
    (tmp_path / "alops-job-image.json").write_text("{}")
    done = subprocess.run(["sh", "-ec", last], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 3 and "no containerimage.digest" in done.stderr, done.stderr


def test_the_jobs_that_run_dvc_stages_run_in_the_job_image(preview: dict[str, Any]) -> None:
    body = rendered(ALOPS)
    for name, job in preview.items():
        if not name.startswith("alops-"):
            continue
        if name in JOB_IMAGE_JOBS:
            # the dotenv's NAME@sha256:... of a needed job wins over the job variable, the `image` input
            assert job["image"] == {"name": "$ALOPS_JOB_IMAGE"}, name  # gitlab-ci-local's normal form
            assert job["variables"]["ALOPS_JOB_IMAGE"] == "$CI_REGISTRY/mlops/alops:0.1.0", name
            needs = {n["job"]: n for n in job["needs"]}
            for need in ("alops-plan", "alops-job-image"):
                assert needs[need]["optional"] is True and needs[need]["artifacts"] is True, (name, need)
        elif name not in BUILDKIT_JOBS and "trigger" not in job:
            assert job["image"] == {"name": "$CI_REGISTRY/mlops/alops:0.1.0"}, name  # no DVC stage: the image input
    # as written: the job variable is the fallback, in the hidden job they all extend
    hidden = body[".alops-in-job-image"]
    assert hidden == {"image": "$ALOPS_JOB_IMAGE", "variables": {"ALOPS_JOB_IMAGE": "$CI_REGISTRY/mlops/alops:0.1.0"}}


def test_the_plan_resolves_the_job_image_only_with_job_dockerfile(preview: dict[str, Any]) -> None:
    plan = preview["alops-plan"]
    resolve = plan["script"][2]
    assert resolve.startswith(': > alops-image.env\nif [ -n "$JOB_DOCKERFILE" ]; then\n'), resolve
    assert 'alops image resolve "$@"' in resolve
    assert '--dockerfile "$JOB_DOCKERFILE" --name "$JOB_IMAGE_NAME" --dotenv alops-image.env' in resolve
    variables = rendered(ALOPS)["alops-plan"]["variables"]
    assert variables["JOB_DOCKERFILE"] == {"value": "", "expand": False}
    assert variables["JOB_IMAGE_INPUTS"] == {"value": ' ["uv.lock"]', "expand": False}  # the array as JSON
    assert variables["JOB_IMAGE_NAME"] == "$CI_REGISTRY_IMAGE/alops-job"


def test_the_plan_passes_each_image_input_as_one_option(tmp_path: Path) -> None:
    # The plan's resolve lines run by sh with a stand-in `alops` that prints its arguments: one
    # --input per array item, spaces kept, nothing run without job-dockerfile.
    body = rendered(ALOPS, **{"job-dockerfile": "docker/Dockerfile", "job-image-inputs": ["uv.lock", "my dir/"]})
    plan = body["alops-plan"]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "alops").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > args.txt\n')
    (tmp_path / "bin" / "alops").chmod(0o755)
    variables = plan["variables"]
    env = {
        "PATH": f"{tmp_path / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "JOB_DOCKERFILE": variables["JOB_DOCKERFILE"]["value"],
        "JOB_IMAGE_INPUTS": variables["JOB_IMAGE_INPUTS"]["value"],
        "JOB_IMAGE_NAME": "registry.example.com/g/p/alops-job",
    }
    done = subprocess.run(["sh", "-ec", plan["script"][2]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "args.txt").read_text().splitlines() == [
        "image",
        "resolve",
        "--dockerfile",
        "docker/Dockerfile",
        "--name",
        "registry.example.com/g/p/alops-job",
        "--dotenv",
        "alops-image.env",
        "--input",
        "uv.lock",
        "--input",
        "my dir/",
    ]
    (tmp_path / "args.txt").unlink()
    done = subprocess.run(
        ["sh", "-ec", plan["script"][2]],
        cwd=tmp_path,
        env={**env, "JOB_DOCKERFILE": ""},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and not (tmp_path / "args.txt").exists(), done.stderr
    assert (tmp_path / "alops-image.env").read_text() == ""  # an empty dotenv report


def test_gpu_jobs_run_the_doctor_first_and_no_other_job_does(preview: dict[str, Any]) -> None:
    for name, job in preview.items():
        if name.startswith("alops-") and "script" in job:
            if name in GPU_JOBS:
                assert job["script"][0] == DOCTOR, name
                assert job["tags"] == GPU_TAGS, name
            else:
                assert not any("alops doctor" in line for line in job["script"]), name


def test_the_doctor_line_runs_the_doctor_unless_skipped(tmp_path: Path) -> None:
    (tmp_path / "alops").write_text('#!/bin/sh\necho "doctor $*"\nexit 8\n')
    (tmp_path / "alops").chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    done = subprocess.run(["sh", "-ec", DOCTOR], env=env, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (8, "doctor doctor\n")  # exit 8 fails the job, before the pull
    done = subprocess.run(
        ["sh", "-ec", DOCTOR], env={**env, "ALOPS_DOCTOR_DISABLED": "1"}, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, "alops doctor skipped: ALOPS_DOCTOR_DISABLED is set\n")


def test_the_template_with_a_job_image_matches_gitlab_schema(gitlab_schema: jsonschema.Draft7Validator) -> None:
    for path in (ALOPS, COMPONENTS / "alops.yml"):
        assert _schema_errors(gitlab_schema, rendered(path, **JOB_IMAGE_INPUTS)) == [], path


def test_the_header_says_what_the_job_image_needs() -> None:
    header = ALOPS.read_text().split("\nspec:\n")[0]
    for needed in (
        "<prefix>-job-image",
        "CI_REGISTRY_PASSWORD",
        "CI_JOB_TOKEN",
        "user namespaces",
        "alops doctor",
        "ALOPS_DOCTOR_DISABLED",
        "ALOPS_JOB_IMAGE_DISABLED",
        "NAME@sha256:",
    ):
        assert needed in header, needed
