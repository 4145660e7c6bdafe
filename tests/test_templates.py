"""The GitLab CI templates (ci-templates/): GitLab's schema, their inputs, and
which jobs each branch role gets, evaluated by gitlab-ci-local's rules engine.

Expected jobs come from alops.roles.ROLE_DEFAULTS and are checked against
`alops flow`, so the templates, the library and the docs cannot drift apart.
"""

from __future__ import annotations

import json
import re
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
from alops.roles import DEFAULT_PATTERNS, JOBS, PATTERN_ROLES, ROLE_DEFAULTS, ROLES

from ci.gitlab_ci_local import (
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
GITLAB_SCHEMA = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "gitlab-ci.json"

#: Jobs that exist in a CPU and a GPU variant (the GPU one named <prefix>-<job>-gpu).
RUNNER_JOBS = ("data", "train", "evaluate")
#: Jobs of the dev set's upkeep: not part of any role, they follow the pipeline's kind.
DEVSET_JOBS = ("devset-check", "devset-refresh")
GPU_TAGS = ["gpu-a100", "cuda"]  # given through the include's inputs, as users do
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


def template_jobs(jobs: list[str] | tuple[str, ...], runner: str, prefix: str = "alops") -> set[str]:
    """The template's job names for a role's jobs on a runner class."""
    return {f"{prefix}-{job}-gpu" if runner == "gpu" and job in RUNNER_JOBS else f"{prefix}-{job}" for job in jobs}


def expected_jobs(role: str, prefix: str = "alops") -> set[str]:
    spec = ROLE_DEFAULTS[role]
    return template_jobs(spec.jobs, spec.runner, prefix)


def job_kind(name: str, prefix: str = "alops") -> str:
    """``alops-train-gpu`` -> ``train``."""
    return name.removeprefix(f"{prefix}-").removesuffix("-gpu")


def devset_jobs(scenario: Scenario, prefix: str = "alops") -> dict[str, str]:
    """The devset jobs a pipeline gets, with their ``when``: scheduled ones run, default-branch ones wait."""
    source = scenario.variables.get("CI_PIPELINE_SOURCE", "push")
    if "CI_COMMIT_TAG" in scenario.variables:
        return {}
    if source == "schedule":
        job = "devset-refresh" if scenario.variables.get("ALOPS_DEVSET_REFRESH") else "devset-check"
        return {f"{prefix}-{job}": "on_success"}
    if scenario.branch == DEFAULT_BRANCH and "CI_COMMIT_BRANCH" not in scenario.unset:
        return {f"{prefix}-{job}": "manual" for job in DEVSET_JOBS}
    return {}


def expected_pipeline(scenario: Scenario, prefix: str = "alops") -> set[str]:
    """Every job of a pipeline: its role's, and the devset jobs of its kind."""
    return expected_jobs(scenario.role, prefix) | set(devset_jobs(scenario, prefix))


def role_jobs(names: Mapping[str, Any] | set[str]) -> set[str]:
    """The jobs of ``names`` that belong to the role (what `alops flow` plans)."""
    return {n for n in names if job_kind(n) not in DEVSET_JOBS}


# --- the templates as files: GitLab's schema, inputs, guidelines --------------------------


@pytest.fixture(scope="module")
def gitlab_schema() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(GITLAB_SCHEMA.read_text()))


def _schema_errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_template_matches_gitlab_schema(path: Path, gitlab_schema: jsonschema.Draft7Validator) -> None:
    header, _ = documents(path)
    if header is not None:
        assert set(header) == {"spec"}, "the header document holds only spec:"
        assert _schema_errors(gitlab_schema, header) == []
    assert _schema_errors(gitlab_schema, rendered(path)) == []


def test_alops_template_with_other_inputs_matches_gitlab_schema(gitlab_schema: jsonschema.Draft7Validator) -> None:
    body = rendered(
        ALOPS, **{"job-prefix": "ml", "cpu-tags": ["docker", "linux"], "gpu-tags": GPU_TAGS, "stage-plan": "plan"}
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
    assert {job_kind(name) for name in visible} == {*JOBS, *DEVSET_JOBS}
    for name, job in visible.items():
        variable = f"$ALOPS_{job_kind(name).upper().replace('-', '_')}_DISABLED"
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


@pytest.mark.parametrize("readme", [README, REPO / "README.md"], ids=["ci-templates", "top"])
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
    return json.dumps(value) if isinstance(value, list) else str(value)


# --- the templates under gitlab-ci-local ---------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository like a user's: alops.yaml, a .gitlab-ci.yml including the template."""
    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    probe = {"workflow-probe": {"script": ["true"], "rules": rendered(WORKFLOW)["workflow"]["rules"]}}
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
            "alops.yaml": SKELETON / "alops.yaml",
            "params.yaml": SKELETON / "params.yaml",
        },
    )


@pytest.fixture(scope="module")
def gcl(project: Path) -> GitlabCiLocal:
    return GitlabCiLocal(project)


@pytest.fixture(scope="module")
def preview(gcl: GitlabCiLocal) -> dict[str, Any]:
    return gcl.preview()


def test_scenarios_cover_every_role() -> None:
    assert {s.role for s in SCENARIOS} == set(ROLES)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_jobs_of_each_role(gcl: GitlabCiLocal, scenario: Scenario) -> None:
    jobs = gcl.jobs(scenario)
    assert set(jobs) == expected_pipeline(scenario)
    assert {name: jobs[name]["when"] for name in jobs if name not in role_jobs(jobs)} == devset_jobs(scenario)


def test_gpu_jobs_carry_gpu_tags_and_the_others_cpu_tags(gcl: GitlabCiLocal, preview: dict[str, Any]) -> None:
    jobs = {name: job for name, job in preview.items() if name.startswith("alops-")}
    assert jobs, preview
    for name, job in jobs.items():
        assert job["tags"] == (GPU_TAGS if name.endswith("-gpu") else []), name
    with_cpu_tags = gcl.preview(inputs={"cpu-tags": ["docker", "linux"]})
    for name in jobs:
        assert with_cpu_tags[name]["tags"] == (GPU_TAGS if name.endswith("-gpu") else ["docker", "linux"]), name


def test_jobs_are_interruptible_and_get_the_inputs_as_variables(preview: dict[str, Any]) -> None:
    for name, job in preview.items():
        if name.startswith("alops-"):
            # all but the refresh, which pushes a branch and opens a merge request
            assert job["interruptible"] is (name != "alops-devset-refresh"), name
            variables = job["variables"]
            assert variables["ALOPS_CONFIG"] == "alops.yaml"
            assert json.loads(variables["ALOPS_GPU_TAGS"]) == GPU_TAGS
            assert json.loads(variables["ALOPS_CPU_TAGS"]) == []
            for role in PATTERN_ROLES:
                assert variables[f"ALOPS_{role.upper()}_BRANCHES"] == DEFAULT_PATTERNS[role]


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
        if name.startswith("alops-") and name != "alops-plan" and name != "alops-validate":
            (cache,) = job["cache"]
            assert cache["paths"] == [".dvc/cache"], name
            caches[name] = (cache["key"]["prefix"], cache["key"]["files"], cache["policy"])
    dev, full = ("alops-dvc-dev", ["data/dev.dvc"]), ("alops-dvc-full", ["data/full.dvc"])
    assert caches == {
        "alops-data": (*dev, "pull-push"),
        "alops-train": (*dev, "pull-push"),
        "alops-evaluate": (*dev, "pull"),
        "alops-data-gpu": (*full, "pull-push"),
        "alops-train-gpu": (*full, "pull-push"),
        "alops-evaluate-gpu": (*full, "pull"),
        "alops-devset-check": (*full, "pull"),
        "alops-devset-refresh": (*full, "pull"),
    }


def test_dvc_file_inputs_change_the_cache_keys(gcl: GitlabCiLocal) -> None:
    files = {"dev-dvc-files": ["dev/a.dvc", "dev/b.dvc"], "full-dvc-files": ["full.dvc"]}
    jobs = gcl.preview(inputs=files)
    assert jobs["alops-train"]["cache"][0]["key"]["files"] == ["dev/a.dvc", "dev/b.dvc"]
    assert jobs["alops-data-gpu"]["cache"][0]["key"]["files"] == ["full.dvc"]


def test_dvc_file_input_defaults_are_the_example_project_s_targets() -> None:
    values = defaults(ALOPS)
    example = yaml.safe_load((SKELETON / "alops.yaml").read_text())
    assert values["dev-dvc-files"] == example["datasets"]["dev"]["targets"]
    assert values["full-dvc-files"] == example["datasets"]["full"]["targets"]


def test_data_jobs_pull_the_role_s_dataset_and_devset_jobs_both(preview: dict[str, Any]) -> None:
    for name in ("alops-data", "alops-data-gpu"):
        assert preview[name]["script"] == ["alops data pull --dataset auto"]
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
    assert preview["alops-plan"]["artifacts"]["reports"]["dotenv"] == "alops.env"
    for name in ("alops-devset-check", "alops-devset-refresh"):
        assert preview[name]["artifacts"] == {"when": "always", "paths": ["devset-check/"], "expire_in": "30 days"}
    for variant in ("", "-gpu"):
        assert preview[f"alops-train{variant}"]["artifacts"]["paths"] == ["models/", "dvc.lock"]
        assert preview[f"alops-evaluate{variant}"]["artifacts"]["paths"] == ["metrics/", "dvc.lock"]


def test_job_prefix_input_renames_jobs(gcl: GitlabCiLocal) -> None:
    feature = push("feature", "feature", "feature/x")
    assert set(gcl.jobs(feature, inputs={"job-prefix": "ml"})) == expected_jobs("feature", prefix="ml")
    renamed = gcl.preview(inputs={"job-prefix": "ml"})
    assert renamed["ml-train"]["needs"][1]["job"] == "ml-data"
    assert renamed["ml-data"]["cache"][0]["key"]["prefix"] == "ml-dvc-dev"
    assert renamed["ml-devset-refresh"]["resource_group"] == "ml-devset-refresh"


def test_stage_inputs_set_stages(gcl: GitlabCiLocal) -> None:
    jobs = gcl.jobs(inputs={"stage-train": "deploy", "stage-evaluate": ".post"})
    assert {name: job["stage"] for name, job in jobs.items()} == {
        "alops-plan": ".pre",
        "alops-validate": "build",
        "alops-data-gpu": "build",
        "alops-train-gpu": "deploy",
        "alops-evaluate-gpu": ".post",
        "alops-devset-check": "test",
        "alops-devset-refresh": "test",
    }
    jobs = gcl.jobs(inputs={"stage-devset": ".post"})
    assert (jobs["alops-devset-check"]["stage"], jobs["alops-devset-refresh"]["stage"]) == (".post", ".post")


OPT_OUT_CASES = (
    [(SCENARIOS[0], job) for job in (*JOBS, *DEVSET_JOBS)]
    + [(SCENARIOS[1], job) for job in RUNNER_JOBS]
    + [(s, "devset-check") for s in SCENARIOS if s.id == "schedule-default"]
    + [(s, "devset-refresh") for s in SCENARIOS if s.id == "schedule-refresh"]
)


@pytest.mark.parametrize(("scenario", "job"), OPT_OUT_CASES, ids=[f"{s.id}-{j}" for s, j in OPT_OUT_CASES])
def test_opt_out_variable_removes_its_job(gcl: GitlabCiLocal, scenario: Scenario, job: str) -> None:
    jobs = gcl.jobs(scenario, variables={f"ALOPS_{job.upper().replace('-', '_')}_DISABLED": "1"})
    assert set(jobs) == {name for name in expected_pipeline(scenario) if job_kind(name) != job}


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
    assert set(gcl.jobs(scenario, inputs=CUSTOM_PATTERNS)) == expected_jobs(role)
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
    for name in listed:
        if job_kind(name) in RUNNER_JOBS:
            assert plan["runner_tags"] == preview[name]["tags"], name
    if plan["runner"] == "cpu":
        assert plan["runner_tags"] == preview["alops-plan"]["tags"]


def read_dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


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


def test_gitlab_ci_local_schema_accepts_the_expanded_config(gcl: GitlabCiLocal) -> None:
    ignored = [arg for path in SCHEMA_IGNORED for arg in ("--ignore-schema-paths", path)]
    assert "alops-train-gpu" in gcl("--list", *ignored).stdout
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
        (merge_request("merge-request", "feature", "feature/x"), True),
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
