from __future__ import annotations

import json
from pathlib import Path

import pytest

from alops.config import load_config
from alops.errors import ConfigError
from alops.flow import Context, current_plan, make_plan, render, role_of, slugify
from alops.roles import DEFAULT_PATTERNS, ROLE_DEFAULTS
from alops.text import quote as printable

HERE = Path(__file__).parent
SKELETON_CONFIG = HERE.parent / "examples/project-skeleton/alops.yaml"
HOSTILE = json.loads((HERE / "data" / "hostile_branches.json").read_text())


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_config(SKELETON_CONFIG)


def ctx(branch: str | None = None, *, tag: str | None = None, source: str = "push") -> Context:
    return Context(branch, tag, source, "main")


@pytest.mark.parametrize(
    ("context", "role"),
    [
        (ctx("main"), "default"),
        (ctx("feature/x"), "feature"),
        (ctx("experiment/lr"), "experiment"),
        (ctx("release/1.2"), "release"),
        (ctx("al/round-3"), "al"),
        (ctx("hotfix/x"), "other"),
        (ctx(tag="v1.0.0"), "tag"),
        (ctx("al/nightly", source="schedule"), "al"),
        (ctx("main", source="schedule"), "schedule"),
        (ctx("experiment/x", source="schedule"), "schedule"),
        (ctx("feature/x", source="merge_request_event"), "feature"),
    ],
)
def test_roles(context: Context, role: str) -> None:
    assert role_of(context, DEFAULT_PATTERNS)[0] == role


@pytest.mark.parametrize("case", HOSTILE["cases"], ids=lambda c: ascii(c["branch"])[:40])
def test_hostile_branch_roles(case: dict[str, str]) -> None:
    context = Context(case["branch"], None, "push", HOSTILE["default_branch"])
    assert role_of(context, DEFAULT_PATTERNS)[0] == case["role"]


def test_hostile_corpus_is_large_enough() -> None:
    assert len(HOSTILE["cases"]) >= 100


def test_context_from_gitlab_variables() -> None:
    env = {"CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature/a", "CI_DEFAULT_BRANCH": "trunk"}
    assert Context.from_env(env) == Context("feature/a", None, "push", "trunk", None)


def test_merge_request_takes_its_source_branch() -> None:
    env = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "experiment/b",
        "CI_MERGE_REQUEST_IID": "17",
        "CI_DEFAULT_BRANCH": "main",
    }
    context = Context.from_env(env)
    assert (context.branch, context.merge_request_iid, context.source) == ("experiment/b", "17", "merge_request_event")


def test_tag_pipeline() -> None:
    context = Context.from_env({"CI": "true", "CI_COMMIT_TAG": "v1.0.0"})
    assert (context.branch, context.tag) == (None, "v1.0.0")


def test_override_and_git_fallbacks() -> None:
    env = {"CI_COMMIT_BRANCH": "feature/a"}
    assert Context.from_env(env, branch="al/x").branch == "al/x"
    local = Context.from_env({}, git_branch="experiment/z", git_default="develop")
    assert (local.branch, local.default_branch, local.source) == ("experiment/z", "develop", "local")
    assert Context.from_env({}, git_branch="x").default_branch == "main"
    assert Context.from_env({"CI_DEFAULT_BRANCH": "main"}, branch="x", default_branch="prod").default_branch == "prod"


def test_no_branch_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="pass --branch NAME"):
        Context.from_env({})


def test_plan_follows_role_defaults(config) -> None:  # type: ignore[no-untyped-def]
    for role, branch in [("feature", "feature/a"), ("experiment", "experiment/a"), ("other", "fix/a")]:
        plan = make_plan(config, ctx(branch), {})
        defaults = ROLE_DEFAULTS[role]
        assert (plan.role, plan.dataset, plan.runner, plan.jobs, plan.push) == (
            role,
            defaults.dataset,
            defaults.runner,
            defaults.jobs,
            defaults.push,
        )
        assert plan.targets == config.datasets[defaults.dataset].targets
        assert plan.train_stages == (f"prepare@{plan.dataset}", f"train@{plan.dataset}")


def test_template_variables_win_over_alops_yaml(config) -> None:  # type: ignore[no-untyped-def]
    env = {
        "ALOPS_EXPERIMENT_BRANCHES": r"/^exp\//",
        "ALOPS_GPU_TAGS": '["gpu-a100", "cuda"]',
        "ALOPS_CPU_TAGS": "small,linux",
        "ALOPS_EVALUATE_DISABLED": "true",
    }
    plan = make_plan(config, ctx("exp/x"), env)
    assert plan.role == "experiment" and plan.runner_tags == ("gpu-a100", "cuda")
    # the one-job shape has one opt-out, ALOPS_RUN_DISABLED; the split jobs' apply with split-jobs
    assert plan.jobs == ROLE_DEFAULTS["experiment"].jobs
    split = make_plan(config, ctx("exp/x"), {**env, "ALOPS_SPLIT_JOBS": " true"})
    assert "evaluate" not in split.jobs
    assert split.ci_jobs == ("alops-plan", "alops-validate", "alops-data-gpu", "alops-train-gpu")
    off = make_plan(config, ctx("exp/x"), {**env, "ALOPS_RUN_DISABLED": "1"})
    assert (off.jobs, off.ci_jobs) == (("plan", "validate"), ("alops-plan", "alops-validate"))
    assert make_plan(config, ctx("feature/y"), env).runner_tags == ("small", "linux")
    assert make_plan(config, ctx("experiment/x"), env).role == "other"


def test_bad_tag_from_template_is_a_config_error(config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="runner tag 'gpu a100'"):
        make_plan(config, ctx("experiment/x"), {"ALOPS_GPU_TAGS": "gpu a100"})


def test_forced_role(config) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(config, ctx("feature/x"), {}, role="experiment")
    assert (plan.role, plan.dataset, plan.reason) == ("experiment", "full", "chosen with --flow")
    with pytest.raises(ConfigError, match="unknown flow 'nightly'"):
        make_plan(config, ctx("feature/x"), {}, role="nightly")


def test_current_plan_reads_the_git_checkout(tmp_path: Path) -> None:
    import shutil
    import subprocess

    shutil.copy(SKELETON_CONFIG, tmp_path / "alops.yaml")
    subprocess.run(["git", "init", "-q", "-b", "experiment/local", str(tmp_path)], check=True)
    plan = current_plan(load_config(tmp_path / "alops.yaml"), {})
    assert (plan.role, plan.ref, plan.default_branch) == ("experiment", "experiment/local", "main")


@pytest.mark.parametrize(
    ("ref", "slug"),
    [
        ("feature/Add-Thing", "feature-add-thing"),
        ("ünï/x", "-n--x".strip("-")),
        ("---", ""),
        ("a" * 100, "a" * 63),
        ("x__y", "x--y"),
        ("feature/foo--bar", "feature-foo--bar"),
        ("experiment/LR 0.1", "experiment-lr-0-1"),
        # truncated to 63 first, then stripped: the cut leaves a trailing '-'
        ("a" * 62 + "/b", "a" * 62),
        ("/" * 5 + "x" + "/" * 100, "x"),
        # lowercasing İ gives two characters (i and a combining dot), as in Ruby
        ("\u0130x", "i-x"),
        ("ß/Σ", "--".strip("-")),
        ("release/2026.12", "release-2026-12"),
        ("-leading/and-trailing-", "leading-and-trailing"),
        ("日本語/ブランチ", ""),
        ("x" * 63 + "-", "x" * 63),
        ("x" * 64, "x" * 63),
    ],
)
def test_slugify(ref: str, slug: str) -> None:
    assert slugify(ref) == slug


def test_printable_escapes_control_characters() -> None:
    assert printable("a\nb\x1b[31m'\\") == "'a\\nb\\x1b[31m\\'\\\\'"
    assert printable("ünï 🚀") == "'ünï 🚀'"


def test_render_formats(config) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(config, ctx("feature/x"), {})
    assert json.loads(render(plan, "json"))["targets"] == ["data/dev.dvc"]
    assert render(plan, "dotenv").splitlines()[0] == "ALOPS_ROLE=feature"
    text = render(plan, "text")
    assert "role      feature  (branch 'feature/x' matches /^feature\\//)" in text
    assert "push      no: outputs stay in the job" in text


def test_forced_role_on_a_detached_checkout(tmp_path: Path) -> None:
    import shutil
    import subprocess

    shutil.copy(SKELETON_CONFIG, tmp_path / "alops.yaml")
    run = dict(cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)
    subprocess.run(["git", "add", "alops.yaml"], **run)
    subprocess.run(["git", "commit", "-q", "-m", "x"], **run)
    subprocess.run(["git", "checkout", "-q", "--detach"], **run)
    config = load_config(tmp_path / "alops.yaml")
    with pytest.raises(ConfigError, match="pass --branch"):
        current_plan(config, {})
    plan = current_plan(config, {}, role="feature")
    assert (plan.role, plan.ref, plan.dataset) == ("feature", "HEAD", "dev")


@pytest.mark.parametrize(
    ("branch", "source", "ci"),
    [
        ("feature/a", "push", ("alops-plan", "alops-validate", "alops-run")),
        ("feature/a", "merge_request_event", ("alops-plan", "alops-validate", "alops-run")),
        ("experiment/a", "push", ("alops-plan", "alops-validate", "alops-run-gpu")),
        ("experiment/a", "merge_request_event", ("alops-plan", "alops-validate")),
        ("main", "merge_request_event", ("alops-plan", "alops-validate")),
        ("release/1", "schedule", ("alops-plan", "alops-validate", "alops-run-gpu")),
    ],
)
def test_ci_jobs_follow_the_template_s_shape(config, branch: str, source: str, ci: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(config, Context(branch, None, source, "main"), {})
    assert plan.ci_jobs == ci
    mr_gpu = source == "merge_request_event" and plan.runner == "gpu"
    assert (plan.skipped is not None) is mr_gpu
    if mr_gpu:
        assert plan.jobs == ("plan", "validate") and "protected variables or runners" in str(plan.skipped)


def test_ci_jobs_of_a_tag_pipeline(config) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(config, Context(None, "v1.0.0", "push", "main"), {})
    assert plan.ci_jobs == ("alops-plan", "alops-validate")


# --- the active-learning role: one step of the loop per pipeline ------------------------------

LS_URL = {"ALOPS_LABEL_STUDIO_URL": "http://label-studio.example"}


@pytest.mark.parametrize(
    ("source", "env", "step", "ci"),
    [
        ("push", {}, "train", ("alops-plan", "alops-validate", "alops-run-gpu", "alops-al-record", "alops-al-ingest")),
        ("web", {}, "train", ("alops-plan", "alops-validate", "alops-run-gpu", "alops-al-record", "alops-al-ingest")),
        ("schedule", {}, "query", ("alops-plan", "alops-validate", "alops-al-query", "alops-al-ingest")),
        (
            "schedule",
            LS_URL,
            "query",
            ("alops-plan", "alops-validate", "alops-al-query", "alops-al-export", "alops-al-ingest"),
        ),
        (
            "api",
            {"ALOPS_AL_STEP": "query"},
            "query",
            ("alops-plan", "alops-validate", "alops-al-query", "alops-al-ingest"),
        ),
        ("schedule", {"ALOPS_AL_STEP": "ingest"}, "ingest", ("alops-plan", "alops-validate", "alops-al-ingest")),
        (
            "pipeline",
            {"ALOPS_AL_STEP": " train "},
            "train",
            ("alops-plan", "alops-validate", "alops-run-gpu", "alops-al-record", "alops-al-ingest"),
        ),
        ("merge_request_event", {"ALOPS_AL_STEP": "query"}, "query", ("alops-plan", "alops-validate")),
    ],
)
def test_al_steps(config, source: str, env: dict[str, str], step: str, ci: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(config, Context("al/digits", None, source, "main"), env)
    assert (plan.role, plan.al_step, plan.dataset, plan.runner) == ("al", step, "full", "gpu")
    assert plan.ci_jobs == ci
    assert f"al step   {step}: " in render(plan, "text")


def test_al_jobs_split_and_opt_outs(config) -> None:  # type: ignore[no-untyped-def]
    env = {"ALOPS_SPLIT_JOBS": " true", "ALOPS_AL_INGEST_DISABLED": "1"}
    plan = make_plan(config, Context("al/digits", None, "push", "main"), env)
    assert plan.ci_jobs == (
        "alops-plan",
        "alops-validate",
        "alops-data-gpu",
        "alops-train-gpu",
        "alops-evaluate-gpu",
        "alops-al-record",
    )
    # `alops run` on an al branch trains as before: the train step has the train and evaluate jobs
    assert {"train", "evaluate"} <= set(plan.jobs)


def test_only_the_al_role_has_a_step(config) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(config, ctx("experiment/lr"), {"ALOPS_AL_STEP": "query"})
    assert (plan.al_step, plan.ci_jobs) == (None, ("alops-plan", "alops-validate", "alops-run-gpu"))
    assert "al step" not in render(plan, "text") and "ALOPS_AL_STEP" not in render(plan, "dotenv")


def test_an_unknown_al_step_is_a_config_error(config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as err:
        make_plan(config, ctx("al/digits"), {"ALOPS_AL_STEP": "label"})
    assert str(err.value) == (
        "ALOPS_AL_STEP='label' is not a step of an active-learning branch: use query, ingest, train, "
        "or leave it empty (a scheduled pipeline then queries, any other trains)"
    )
