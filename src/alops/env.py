"""Every environment variable alops reads, in one place (as DVC keeps its own in ``dvc/env.py``).

Library code never reads ``os.environ``: the command line passes the
environment down as a mapping, and code looks variables up in it by the names
below. A name not defined here is not read by alops; the README's settings
table lists exactly the :data:`SETTINGS` (a test holds the two together).
"""

from __future__ import annotations

from dataclasses import dataclass

# alops's own settings.
CONFIG = "ALOPS_CONFIG"
DVC_CACHE_DIR = "ALOPS_DVC_CACHE_DIR"
S3_RETRIES = "ALOPS_S3_RETRIES"
S3_CONNECT_TIMEOUT = "ALOPS_S3_CONNECT_TIMEOUT"
S3_READ_TIMEOUT = "ALOPS_S3_READ_TIMEOUT"
GITLAB_URL = "ALOPS_GITLAB_URL"
GITLAB_TOKEN = "ALOPS_GITLAB_TOKEN"
GIT_PUSH_URL = "ALOPS_GIT_PUSH_URL"
DEVSET_FRACTION = "ALOPS_DEVSET_FRACTION"
DEVSET_COUNT = "ALOPS_DEVSET_COUNT"
DEVSET_SEED = "ALOPS_DEVSET_SEED"
DEVSET_THREADS = "ALOPS_DEVSET_THREADS"
DEVSET_REPORT_DIR = "ALOPS_DEVSET_REPORT_DIR"
LABEL_STUDIO_URL = "ALOPS_LABEL_STUDIO_URL"
LABEL_STUDIO_TOKEN = "ALOPS_LABEL_STUDIO_TOKEN"
LABEL_STUDIO_TIMEOUT = "ALOPS_LABEL_STUDIO_TIMEOUT"
LABEL_STUDIO_RETRIES = "ALOPS_LABEL_STUDIO_RETRIES"
# What a scheduled or triggered pipeline of an al branch runs: query, ingest or train.
AL_STEP = "ALOPS_AL_STEP"
# Experiments: where the baseline's run manifest is (alops metrics diff, report, experiments).
BASELINE_JOB = "ALOPS_BASELINE_JOB"
# Releases and deployment (alops release, alops package, alops deploy, alops serve).
REGISTRY_DIR = "ALOPS_REGISTRY_DIR"  # the local package registry when there is no GitLab (default .alops/registry)
SERVE_IMAGE = "ALOPS_SERVE_IMAGE"  # the serving image of a version (the template: $CI_REGISTRY_IMAGE/<model>:<version>)
# Written by alops release and alops package (their --dotenv), read by the jobs after them.
RELEASE_MODEL = "ALOPS_RELEASE_MODEL"
RELEASE_VERSION = "ALOPS_RELEASE_VERSION"
RELEASE_TAG = "ALOPS_RELEASE_TAG"
# Set by alops deploy for an environment's `command`; DEPLOY_URL and DEPLOY_VERSION also in its --dotenv.
DEPLOY_URL = "ALOPS_DEPLOY_URL"
DEPLOY_VERSION = "ALOPS_DEPLOY_VERSION"
DEPLOY_IMAGE = "ALOPS_DEPLOY_IMAGE"
DEPLOY_PACKAGE = "ALOPS_DEPLOY_PACKAGE"
DEPLOY_ENVIRONMENT = "ALOPS_DEPLOY_ENVIRONMENT"
# Job images (alops image): the image by digest the jobs after the plan run in, its tag, and the tag
# the image-build job must build (set only when the registry lacks it). Written to dotenv, read by the template.
JOB_IMAGE = "ALOPS_JOB_IMAGE"
JOB_IMAGE_TAG = "ALOPS_JOB_IMAGE_TAG"
IMAGE_BUILD = "ALOPS_IMAGE_BUILD"
# MLflow's own: the model registry alops release writes to (GitLab's: $CI_API_V4_URL/projects/ID/ml/mlflow).
MLFLOW_TRACKING_URI = "MLFLOW_TRACKING_URI"
MLFLOW_TRACKING_TOKEN = "MLFLOW_TRACKING_TOKEN"

# Set by the CI template from its inputs (a job sees them; elsewhere they are unset).
JOB_PREFIX = "ALOPS_JOB_PREFIX"
SPLIT_JOBS = "ALOPS_SPLIT_JOBS"


# Written by `alops flow --format dotenv` for the jobs after the plan (alops does not read them).
ROLE = "ALOPS_ROLE"
REF_SLUG = "ALOPS_REF_SLUG"
DATASET = "ALOPS_DATASET"
RUNNER = "ALOPS_RUNNER"
RUNNER_TAGS = "ALOPS_RUNNER_TAGS"
JOBS = "ALOPS_JOBS"
CI_JOBS = "ALOPS_CI_JOBS"
PUSH = "ALOPS_PUSH"
TRAIN_STAGES = "ALOPS_TRAIN_STAGES"
EVALUATE_STAGES = "ALOPS_EVALUATE_STAGES"


def branches(role: str) -> str:
    """``ALOPS_<ROLE>_BRANCHES``: the template's branch-pattern input for a role."""
    return f"ALOPS_{role.upper()}_BRANCHES"


def tags(runner: str) -> str:
    """``ALOPS_<RUNNER>_TAGS``: the template's runner-tags input for a runner kind."""
    return f"ALOPS_{runner.upper()}_TAGS"


def disabled(job: str) -> str:
    """``ALOPS_<JOB>_DISABLED``: the template's opt-out of one job."""
    return f"ALOPS_{job.upper().replace('-', '_')}_DISABLED"


# GitLab's predefined variables alops reads (https://docs.gitlab.com/ci/variables/predefined_variables/).
CI = "CI"
GITLAB_CI = "GITLAB_CI"
CI_PIPELINE_SOURCE = "CI_PIPELINE_SOURCE"
CI_PIPELINE_URL = "CI_PIPELINE_URL"
CI_PIPELINE_ID = "CI_PIPELINE_ID"
CI_JOB_ID = "CI_JOB_ID"
CI_JOB_NAME = "CI_JOB_NAME"
CI_JOB_URL = "CI_JOB_URL"
CI_JOB_IMAGE = "CI_JOB_IMAGE"
CI_RUNNER_ID = "CI_RUNNER_ID"
CI_RUNNER_DESCRIPTION = "CI_RUNNER_DESCRIPTION"
CI_RUNNER_TAGS = "CI_RUNNER_TAGS"
CI_COMMIT_SHA = "CI_COMMIT_SHA"
CI_PROJECT_URL = "CI_PROJECT_URL"
CI_MERGE_REQUEST_TARGET_BRANCH_NAME = "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"
CI_COMMIT_BRANCH = "CI_COMMIT_BRANCH"
CI_COMMIT_TAG = "CI_COMMIT_TAG"
CI_COMMIT_REF_NAME = "CI_COMMIT_REF_NAME"
CI_COMMIT_REF_PROTECTED = "CI_COMMIT_REF_PROTECTED"
CI_DEFAULT_BRANCH = "CI_DEFAULT_BRANCH"
CI_MERGE_REQUEST_IID = "CI_MERGE_REQUEST_IID"
CI_MERGE_REQUEST_SOURCE_BRANCH_NAME = "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"
CI_PROJECT_ID = "CI_PROJECT_ID"
CI_REGISTRY_IMAGE = "CI_REGISTRY_IMAGE"
CI_ENVIRONMENT_NAME = "CI_ENVIRONMENT_NAME"
CI_PROJECT_PATH = "CI_PROJECT_PATH"
CI_SERVER_URL = "CI_SERVER_URL"
CI_API_V4_URL = "CI_API_V4_URL"
CI_JOB_TOKEN = "CI_JOB_TOKEN"
GITLAB_USER_NAME = "GITLAB_USER_NAME"
GITLAB_USER_EMAIL = "GITLAB_USER_EMAIL"


# The GPUs a process may use (CUDA reads it; alops reports it in the manifest and alops doctor).
CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"


# DVC's own, set by alops for the DVC it runs.
DVC_NO_ANALYTICS = "DVC_NO_ANALYTICS"


@dataclass(frozen=True)
class Setting:
    """One ``ALOPS_*`` variable a user may set: its name (``<ROLE>`` style for a family) and what it does."""

    name: str
    meaning: str


#: The settings a user sets, as the README's settings table lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting(CONFIG, "the configuration file (as `-c`)"),
    Setting(branches("<role>"), "a role's branch patterns, over `alops.yaml`'s `branches:` (the template's inputs)"),
    Setting(tags("<runner>"), "a runner kind's tags, over `alops.yaml`'s `runners:` (the template's inputs)"),
    Setting(disabled("<job>"), "any non-empty value: the plan leaves that job out (the template's opt-out)"),
    Setting(JOB_PREFIX, "the prefix of the CI jobs' names (the template's `job-prefix` input)"),
    Setting(SPLIT_JOBS, "`true`: data, train and evaluate as separate CI jobs (the template's `split-jobs` input)"),
    Setting(DVC_CACHE_DIR, "a DVC cache shared by the runner's jobs (as `--cache-dir`)"),
    Setting(S3_RETRIES, "s3fs retries of each S3 call (default 2)"),
    Setting(S3_CONNECT_TIMEOUT, "seconds to connect to S3 (default 5)"),
    Setting(S3_READ_TIMEOUT, "seconds to wait for each read of an S3 socket (default 10)"),
    Setting(GITLAB_URL, "the GitLab server, over `CI_SERVER_URL`"),
    Setting(
        GITLAB_TOKEN,
        "a project access token (`api`, `write_repository`): `alops devset refresh`, `alops schedule sync` and the "
        "pushes of `alops al ingest` and `alops al record` need it; `alops al retrain --trigger` uses it, else `CI_JOB_TOKEN`",
    ),
    Setting(
        GIT_PUSH_URL,
        "where `alops devset refresh`, `alops al ingest` and `alops al record` push, over the project's HTTPS URL",
    ),
    Setting(DEVSET_FRACTION, "`alops devset build --fraction`"),
    Setting(DEVSET_COUNT, "`alops devset build --count`"),
    Setting(DEVSET_SEED, "`alops devset build --seed`"),
    Setting(DEVSET_THREADS, "`alops devset build --threads`"),
    Setting(DEVSET_REPORT_DIR, "`alops devset check --report-dir`"),
    Setting(LABEL_STUDIO_URL, "the Label Studio server of `alops al export` and `alops al pull` (`http://host:8080`)"),
    Setting(LABEL_STUDIO_TOKEN, "a Label Studio user's access token (a secret: never printed)"),
    Setting(LABEL_STUDIO_TIMEOUT, "seconds to wait for each Label Studio request (default 30)"),
    Setting(
        LABEL_STUDIO_RETRIES, "further tries of a Label Studio request that met a down, slow or 5xx server (default 3)"
    ),
    Setting(
        AL_STEP,
        "what a pipeline of an al branch does: `query`, `ingest` or `train`; empty: a scheduled pipeline queries, "
        "any other trains (schedules and `alops al retrain --trigger` set it)",
    ),
    Setting(REGISTRY_DIR, "the folder of released packages when there is no GitLab (default `.alops/registry`)"),
    Setting(
        SERVE_IMAGE,
        "the serving image `alops package` names and `alops deploy` hands to a command "
        "(default `$CI_REGISTRY_IMAGE/<model>:<version>`)",
    ),
    Setting(
        RELEASE_VERSION,
        "the version `alops deploy` deploys (as `--version`; the package job's dotenv sets it in a tag pipeline)",
    ),
    Setting(
        BASELINE_JOB,
        "the CI job whose artifacts hold a branch's run manifest, read when a baseline exists only in CI "
        "(default `alops-run-gpu`; the template sets it)",
    ),
)
