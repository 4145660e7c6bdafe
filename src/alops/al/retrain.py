"""`alops al retrain`: start training when enough labels arrived since the last trained model.

The count comes from git history (:func:`alops.al.history.labels_since_training`:
the ``ALOps-Labels`` of ingest commits after the last ``ALOps-Trained-Round``), so
the decision needs no data and no database. The trigger is a new pipeline on
the same branch with ``ALOPS_AL_STEP=train``, through python-gitlab:

- with ``ALOPS_GITLAB_TOKEN``: ``POST /projects/:id/pipeline`` (the pipeline's
  source is ``api``);
- with only ``CI_JOB_TOKEN``: the pipeline trigger API, which takes a job token
  (https://docs.gitlab.com/ci/triggers/; the pipeline's source is then
  ``pipeline``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alops import env as variables
from alops import gitlab as api
from alops.config import Config
from alops.errors import ConfigError, DataError
from alops.schedules import project_id
from alops.text import quote

#: What the triggered pipeline runs (the templates' al jobs key on it).
STEP = "train"


@dataclass(frozen=True)
class Decision:
    """Whether to retrain, and what was (or would be) started."""

    new_labels: int
    min_new_labels: int
    ref: str | None = None
    #: "none" (only decided), "dry-run", "api" (ALOPS_GITLAB_TOKEN) or "trigger" (CI_JOB_TOKEN)
    via: str = "none"
    pipeline_id: int | None = None
    pipeline_url: str | None = None

    @property
    def retrain(self) -> bool:
        return self.new_labels >= self.min_new_labels


def decide(config: Config, *, min_new_labels: int | None = None) -> Decision:
    """The labels since the last recorded model against the threshold (``--min-new-labels`` over alops.yaml)."""
    from alops.al.history import labels_since_training

    threshold = min_new_labels if min_new_labels is not None else (config.al.min_new_labels if config.al else 1)
    return Decision(labels_since_training(config.root, config), threshold)


def current_ref(root: Path, env: Mapping[str, str]) -> str:
    """The branch to train: ``CI_COMMIT_BRANCH`` in CI, else the checked-out branch."""
    ref = env.get(variables.CI_COMMIT_BRANCH)
    if not ref:
        from alops import git

        ref = git.current_branch(root)
    if not ref:
        raise ConfigError(
            "cannot tell which branch to retrain: check out the active-learning branch (or set CI_COMMIT_BRANCH)"
        )
    return ref


def trigger(decision: Decision, ref: str, *, env: Mapping[str, str], dry_run: bool = False) -> Decision:
    """Start the train pipeline on ``ref`` when the decision says so; ``dry_run`` names what would be sent."""
    import dataclasses

    if not decision.retrain:
        return dataclasses.replace(decision, ref=ref)
    token = env.get(variables.GITLAB_TOKEN, "").strip()
    job_token = env.get(variables.CI_JOB_TOKEN, "")
    if not token and not job_token:
        raise DataError(
            f"alops al retrain --trigger needs {variables.GITLAB_TOKEN} (a project access token with the api "
            f"scope) or, in a CI job, {variables.CI_JOB_TOKEN}: neither is set"
        )
    via = "api" if token else "trigger"
    if dry_run:
        return dataclasses.replace(decision, ref=ref, via="dry-run")
    import gitlab.exceptions

    pid = project_id(env)
    if via == "api":
        gl = api.client_from_env(env)
    else:
        # The trigger API authenticates by the token in its body, as `curl -F token=$CI_JOB_TOKEN` does; a
        # JOB-TOKEN header as well has been answered 404 (python-gitlab/python-gitlab#1021): no header.
        gl = api.client_from_env(env, anonymous=True)
    try:
        project = gl.projects.get(pid, lazy=True)
        if via == "api":
            pipeline = project.pipelines.create({"ref": ref, "variables": [{"key": variables.AL_STEP, "value": STEP}]})
        else:
            pipeline = project.trigger_pipeline(ref, job_token, variables={variables.AL_STEP: STEP})
    except gitlab.exceptions.GitlabError as exc:
        raise api.api_error(exc, gl, f"start a pipeline on {quote(ref)} in project {pid}") from None
    return dataclasses.replace(
        decision, ref=ref, via=via, pipeline_id=int(pipeline.id), pipeline_url=str(pipeline.web_url)
    )


def render(decision: Decision) -> str:
    """What was decided, and the pipeline's URL when one was started."""
    count = f"{decision.new_labels:,} new label{'s' if decision.new_labels != 1 else ''} since the last trained model"
    need = f"(at least {decision.min_new_labels:,} start training)"
    if not decision.retrain:
        return f"No retraining: {count} {need}"
    head = f"Retrain: {count} {need}"
    ref = quote(decision.ref) if decision.ref else ""
    if decision.via == "dry-run":
        return f"{head}\nDry run: would start a pipeline on {ref} with {variables.AL_STEP}={STEP}"
    if decision.pipeline_url:
        how = variables.GITLAB_TOKEN if decision.via == "api" else f"the trigger API with {variables.CI_JOB_TOKEN}"
        return f"{head}\nStarted pipeline #{decision.pipeline_id} on {ref} ({how}): {decision.pipeline_url}"
    return f"{head}\nNot started: pass --trigger to start the train pipeline"
