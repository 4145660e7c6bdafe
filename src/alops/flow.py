"""Which role a pipeline has, and the plan that follows from it.

Everything here is a pure function of the configuration and GitLab's
predefined variables, so that ``alops flow`` gives the same answer on a
developer's machine (with ``--branch``) as in a CI job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from alops import env as variables
from alops.config import Config, compile_pattern
from alops.errors import ConfigError
from alops.roles import AL_JOBS, AL_STEPS, JOBS, PATTERN_ROLES
from alops.text import quote

#: Values written to the dotenv report are limited to these characters, so no
#: consumer (GitLab's dotenv parser, a shell's ``source``) can misread them.
_DOTENV_SAFE = re.compile(r"[A-Za-z0-9_.,@:/+=-]*\Z")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\Z")
_NOT_SLUG = re.compile(r"[^a-z0-9]")
#: The template's job-prefix input (its own regex there).
_PREFIX = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
#: The jobs that pull, train and evaluate: one CI job (``<prefix>-run``) unless
#: the template's split-jobs input makes them three.
RUN_STEPS = ("data", "train", "evaluate")
#: Jobs that exist without protected variables or runners in any pipeline.
_UNPROTECTED_JOBS = ("plan", "validate")


@dataclass(frozen=True)
class Context:
    """The pipeline as GitLab describes it in its predefined variables."""

    branch: str | None
    tag: str | None
    source: str
    default_branch: str
    merge_request_iid: str | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        branch: str | None = None,
        default_branch: str | None = None,
        git_branch: str | None = None,
        git_default: str | None = None,
    ) -> Context:
        """Read ``CI_*`` variables; ``branch``/``default_branch`` override them (local use).

        ``git_branch`` and ``git_default`` are what the local git checkout says;
        they are used only when neither an override nor GitLab gives a value.
        """
        source = env.get(variables.CI_PIPELINE_SOURCE) or ("push" if env.get(variables.CI) else "local")
        iid = env.get(variables.CI_MERGE_REQUEST_IID) or None
        tag = None
        if branch is None:
            if source == "merge_request_event":
                branch = env.get(variables.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME) or None
            else:
                branch = env.get(variables.CI_COMMIT_BRANCH) or None
                tag = env.get(variables.CI_COMMIT_TAG) or None
            if branch is None and tag is None:
                branch = git_branch
        if branch is None and tag is None:
            raise ConfigError(
                "cannot tell which branch this pipeline is for: pass --branch NAME "
                "(or set CI_COMMIT_BRANCH), or check out a branch"
            )
        # No ALOPS_DEFAULT_BRANCH: in CI the template's rules compare with
        # $CI_DEFAULT_BRANCH, and the plan must agree with them.
        default = default_branch or env.get(variables.CI_DEFAULT_BRANCH) or git_default
        return cls(branch, tag, source, default or "main", iid)


@dataclass(frozen=True)
class Plan:
    """What a pipeline of a given role does."""

    role: str
    reason: str
    ref: str
    ref_kind: str  # "branch" or "tag"
    ref_slug: str
    source: str
    merge_request_iid: str | None
    default_branch: str
    dataset: str
    targets: tuple[str, ...]
    remote: str | None
    runner: str
    runner_tags: tuple[str, ...]
    jobs: tuple[str, ...]
    push: bool
    train_stages: tuple[str, ...]
    evaluate_stages: tuple[str, ...]
    #: The template's job names this pipeline gets (``alops-plan``, ``alops-run-gpu``, ...).
    ci_jobs: tuple[str, ...] = ()
    #: Jobs of the role this pipeline leaves out, and why (None: none left out).
    skipped: str | None = None
    #: The active-learning role's step (query, ingest or train); None for the other roles.
    al_step: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def patterns(config: Config, env: Mapping[str, str]) -> dict[str, str]:
    """Branch patterns: ``ALOPS_<ROLE>_BRANCHES`` (set by the CI template) over ``alops.yaml``."""
    return {role: env.get(variables.branches(role)) or config.branches[role] for role in PATTERN_ROLES}


def role_of(ctx: Context, pats: Mapping[str, str]) -> tuple[str, str]:
    """The role of the pipeline and a sentence saying why."""
    if ctx.tag is not None:
        return "tag", "a tag pipeline"
    assert ctx.branch is not None
    name = f"branch {quote(ctx.branch)!s}"
    if ctx.source == "schedule":
        if compile_pattern(pats["al"]).search(ctx.branch):
            return "al", f"a scheduled pipeline on {name}, which matches {pats['al']}"
        return "schedule", "a scheduled pipeline"
    if ctx.branch == ctx.default_branch:
        return "default", f"{name} is the default branch"
    for role in PATTERN_ROLES:
        if compile_pattern(pats[role]).search(ctx.branch):
            return role, f"{name} matches {pats[role]}"
    return "other", f"{name} matches no pattern"


def make_plan(config: Config, ctx: Context, env: Mapping[str, str], *, role: str | None = None) -> Plan:
    """The plan for ``ctx`` under ``config``; ``env`` supplies the template's overrides.

    ``role`` forces a role instead of the one the branch has (``alops run --flow``).
    """
    if role is None:
        role, reason = role_of(ctx, patterns(config, env))
    elif role not in config.flows:
        raise ConfigError(f"unknown flow {role!r}: use one of {', '.join(config.flows)}")
    else:
        reason = "chosen with --flow"
    flow = config.flows[role]
    dataset = config.datasets[flow.dataset]
    tags = runner_tags(env.get(variables.tags(flow.runner)), config.runners[flow.runner])
    split = (env.get(variables.SPLIT_JOBS) or "").strip() == "true"  # the template's split-jobs input
    step = al_step(ctx, env) if role == "al" else None
    jobs = al_jobs(step, flow.jobs, env) if step else flow.jobs
    jobs = tuple(j for j in jobs if not _disabled(j, split, env))
    skipped = None
    if flow.runner == "gpu" and ctx.source == "merge_request_event" and set(jobs) - set(_UNPROTECTED_JOBS):
        # GitLab gives merge-request pipelines neither protected variables nor
        # protected runners (https://docs.gitlab.com/ci/pipelines/merge_request_pipelines/;
        # 18.1+ only when the project opts in and both branches are protected,
        # gitlab-org/gitlab!188008): the template's GPU jobs are never created
        # there, workflow.yml keeps the branch pipeline.
        jobs = tuple(j for j in jobs if j in _UNPROTECTED_JOBS)
        skipped = (
            "merge-request pipelines get no protected variables or runners, so the GPU jobs run in the "
            f"branch pipeline of {quote(ctx.branch or '')} (ci-templates/workflow.yml keeps it)"
        )
    ref = ctx.tag if ctx.tag is not None else ctx.branch
    assert ref is not None
    return Plan(
        role=role,
        reason=reason,
        ref=ref,
        ref_kind="tag" if ctx.tag is not None else "branch",
        ref_slug=slugify(ref),
        source=ctx.source,
        merge_request_iid=ctx.merge_request_iid,
        default_branch=ctx.default_branch,
        dataset=flow.dataset,
        targets=dataset.targets,
        remote=dataset.remote,
        runner=flow.runner,
        runner_tags=tags,
        jobs=jobs,
        push=flow.push,
        train_stages=config.pipeline.stages("train", dataset=flow.dataset, role=role),
        evaluate_stages=config.pipeline.stages("evaluate", dataset=flow.dataset, role=role),
        ci_jobs=ci_jobs(jobs, flow.runner, split=split, prefix=_prefix(env)),
        skipped=skipped,
        al_step=step,
    )


def al_step(ctx: Context, env: Mapping[str, str]) -> str:
    """What a pipeline of an active-learning branch does: ``ALOPS_AL_STEP``, else by the pipeline's source.

    Schedules and triggers set ALOPS_AL_STEP; without it a scheduled pipeline
    starts a round (query) and any other (a push, Run pipeline) trains.
    """
    step = (env.get(variables.AL_STEP) or "").strip()
    if not step:
        return "query" if ctx.source == "schedule" else "train"
    if step not in AL_STEPS:
        raise ConfigError(
            f"{variables.AL_STEP}={quote(step)} is not a step of an active-learning branch: use "
            f"{', '.join(AL_STEPS)}, or leave it empty (a scheduled pipeline then queries, any other trains)"
        )
    return step


def al_jobs(step: str, trains: tuple[str, ...], env: Mapping[str, str]) -> tuple[str, ...]:
    """The al role's jobs for ``step``: ``trains`` (the role's pull/train/evaluate jobs) and the loop's own.

    The ingest job is in every step's pipeline: it runs by itself in the
    ingest step and waits to be started by hand (manual) in the others.
    """
    if step == "query":
        export = ("al-export",) if env.get(variables.LABEL_STUDIO_URL) else ()
        return ("plan", "validate", "al-query", *export, "al-ingest")
    if step == "ingest":
        return ("plan", "validate", "al-ingest")
    return (*trains, "al-record", "al-ingest")


def _disabled(job: str, split: bool, env: Mapping[str, str]) -> bool:
    """The template's opt-outs: ALOPS_<JOB>_DISABLED; one ALOPS_RUN_DISABLED for the one-job shape."""
    if job in RUN_STEPS and not split:
        return bool(env.get(variables.disabled("run")))
    return bool(env.get(variables.disabled(job)))


def ci_jobs(jobs: tuple[str, ...], runner: str, *, split: bool, prefix: str = "alops") -> tuple[str, ...]:
    """The template's job names for a role's ``jobs`` (alops.roles.JOBS) on a runner class.

    Without split-jobs, data, train and evaluate are one job, ``<prefix>-run``:
    one job start, one restore of the data, one GPU slot held once.
    """
    # In pipeline order; without split-jobs the first of the run steps stands for all three.
    first = next((j for j in jobs if j in RUN_STEPS), None)
    names = [("run" if j == first else None) if j in RUN_STEPS and not split else j for j in jobs]
    names = [n for n in names if n is not None]
    suffix = "-gpu" if runner == "gpu" else ""
    # The loop's jobs (al-query, ...) exist once, on the runners their own rules give them: no suffix.
    plain = (*_UNPROTECTED_JOBS, *AL_JOBS)
    return tuple(f"{prefix}-{n}{suffix if n not in plain else ''}" for n in names)


def _prefix(env: Mapping[str, str]) -> str:
    prefix = env.get(variables.JOB_PREFIX) or "alops"
    if not _PREFIX.match(prefix):
        raise ConfigError(
            f"job prefix {quote(prefix)} (ALOPS_JOB_PREFIX, the template's job-prefix input) is not allowed: "
            "use lowercase letters, digits, '-' and '_', starting with a letter or digit"
        )
    return prefix


def current_plan(
    config: Config,
    env: Mapping[str, str],
    *,
    branch: str | None = None,
    default_branch: str | None = None,
    role: str | None = None,
) -> Plan:
    """The plan for this pipeline, or for this checkout when run outside CI.

    GitLab's variables are used when set; otherwise the local git checkout
    says which branch this is and which is the default.
    """
    git_branch = git_default = None
    if branch is None and not any(env.get(v) for v in _REF_VARIABLES):
        from alops import git

        # A forced role needs no branch: a detached checkout still runs as "HEAD".
        git_branch = git.current_branch(config.root) or ("HEAD" if role is not None else None)
    if not (default_branch or env.get(variables.CI_DEFAULT_BRANCH)):
        from alops import git

        git_default = git.default_branch(config.root)
    ctx = Context.from_env(
        env, branch=branch, default_branch=default_branch, git_branch=git_branch, git_default=git_default
    )
    return make_plan(config, ctx, env, role=role)


_REF_VARIABLES = (variables.CI_COMMIT_BRANCH, variables.CI_COMMIT_TAG, variables.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME)


def runner_tags(from_env: str | None, configured: tuple[str, ...]) -> tuple[str, ...]:
    """Runner tags from ``ALOPS_<RUNNER>_TAGS`` (the template's array input, or a comma list), else ``configured``."""
    if not from_env:
        return configured
    text = from_env.strip()
    if text.startswith("["):  # an array input rendered by GitLab: ["a", "b"]
        try:
            items = json.loads(text)
        except ValueError:
            items = [t.strip(" '\"") for t in text[1:-1].split(",")]
    else:
        items = text.split(",")
    tags = tuple(str(t).strip() for t in items if str(t).strip())
    for tag in tags:
        if not _TAG.match(tag):
            raise ConfigError(
                f"runner tag {quote(tag)} (from the template's *-tags input) is not allowed: "
                "use letters, digits, '_', '.', ':' and '-'"
            )
    return tags


def slugify(ref: str) -> str:
    """GitLab's ``CI_COMMIT_REF_SLUG`` of ``ref``, character for character.

    GitLab (``Gitlab::Utils.slugify``) lowercases, replaces *each* character outside
    ``a-z0-9`` by ``-`` (so ``foo--bar`` keeps both), keeps the first 63 characters and
    only then strips ``-`` from both ends: a ref of nothing but punctuation has an empty
    slug. https://docs.gitlab.com/ci/variables/predefined_variables/ (CI_COMMIT_REF_SLUG)
    """
    return _NOT_SLUG.sub("-", ref.lower())[:63].strip("-")


def render(plan: Plan, fmt: str) -> str:
    """The plan as ``text`` (people), ``json`` (programs) or ``dotenv`` (GitLab's dotenv report)."""
    if fmt == "json":
        return json.dumps(plan.to_dict(), indent=2) + "\n"
    if fmt == "dotenv":
        return _dotenv(plan)
    tags = ", ".join(plan.runner_tags) or "(untagged)"
    rows = [
        ("role", f"{plan.role}  ({plan.reason})"),
        ("ref", f"{plan.ref_kind} {quote(plan.ref)}"),
        (
            "pipeline",
            plan.source + (f", merge request !{quote(plan.merge_request_iid)[1:-1]}" if plan.merge_request_iid else ""),
        ),
        (
            "dataset",
            f"{plan.dataset}  ({', '.join(plan.targets)}" + (f" from remote {plan.remote})" if plan.remote else ")"),
        ),
        ("runner", f"{plan.runner}  (tags: {tags})"),
        *([("al step", _AL_STEP_TEXT[plan.al_step])] if plan.al_step else []),
        ("jobs", ", ".join(plan.ci_jobs) or "(none)"),
        *([("skipped", plan.skipped)] if plan.skipped else []),
        ("train", " → ".join(plan.train_stages) if "train" in plan.jobs else "(not run)"),
        (
            "evaluate",
            " → ".join(plan.evaluate_stages) if "evaluate" in plan.jobs and plan.evaluate_stages else "(not run)",
        ),
        (
            "push",
            "no: no job of this pipeline runs the stages"
            if "train" not in plan.jobs
            else "yes: outputs and run-cache go to the DVC remote"
            if plan.push
            else "no: outputs stay in the job",
        ),
    ]
    return "".join(f"{k:<9} {v}\n" for k, v in rows)


_AL_STEP_TEXT = {
    "query": "query: score the pool, choose a batch, send it to labelling",
    "ingest": "ingest: the labels as a new data version, then retrain if enough arrived",
    "train": "train: train and evaluate on the full data, record the model on the branch",
}


def _dotenv(plan: Plan) -> str:
    values = {
        variables.ROLE: plan.role,
        variables.REF_SLUG: plan.ref_slug,
        variables.DATASET: plan.dataset,
        variables.RUNNER: plan.runner,
        variables.RUNNER_TAGS: ",".join(plan.runner_tags),
        variables.JOBS: ",".join(plan.jobs),
        variables.CI_JOBS: ",".join(plan.ci_jobs),
        variables.PUSH: "true" if plan.push else "false",
        variables.TRAIN_STAGES: ",".join(plan.train_stages),
        variables.EVALUATE_STAGES: ",".join(plan.evaluate_stages),
    }
    for key, value in values.items():
        # Every value comes from validated config or a fixed vocabulary; the
        # branch name itself never goes in (GitLab already gives it to jobs).
        if not _DOTENV_SAFE.match(value):
            raise AssertionError(f"unsafe dotenv value for {key}: {value!r}")
    return "".join(f"{k}={v}\n" for k, v in values.items())


__all__ = [
    "AL_JOBS",
    "AL_STEPS",
    "JOBS",
    "RUN_STEPS",
    "Context",
    "Plan",
    "al_jobs",
    "al_step",
    "ci_jobs",
    "current_plan",
    "make_plan",
    "render",
    "role_of",
    "runner_tags",
    "slugify",
]
