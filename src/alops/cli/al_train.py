"""``alops al retrain`` and ``alops al record``: continuous training of an active-learning branch."""

from __future__ import annotations

import os

import click


@click.command()
@click.option(
    "--min-new-labels",
    type=click.IntRange(min=1),
    help="Retrain from this many new labels on (default: active_learning.retrain.min_new_labels).",
)
@click.option("--trigger", "mode", flag_value="trigger", help="Start the train pipeline when it is time.")
@click.option("--dry-run", "mode", flag_value="dry-run", help="Say what --trigger would start; send nothing.")
@click.pass_obj
def retrain(obj: dict[str, str], min_new_labels: int | None, mode: str | None) -> None:
    """Decide whether enough labels arrived since the last trained model to train again.

    Counts the labels of the ingests after the last `alops al record` commit
    (git trailers ALOps-Labels and ALOps-Trained-Round: no data needed). With
    --trigger, when the count reaches the threshold, starts a pipeline on this
    branch with ALOPS_AL_STEP=train and prints its URL: with
    ALOPS_GITLAB_TOKEN through the pipelines API, with only CI_JOB_TOKEN
    through the pipeline trigger API (which accepts a job token).

    \b
    Exit codes: 0 decided (retrain or not; the pipeline started with
    --trigger); 2 bad alops.yaml, no branch or no project (CI_PROJECT_ID);
    3 the GitLab API failed; 4 no token, or GitLab refused it.
    """
    from alops.al import retrain as training
    from alops.config import load_config

    env = dict(os.environ)
    config = load_config(obj["config"])
    decision = training.decide(config, min_new_labels=min_new_labels)
    if mode is not None:
        ref = training.current_ref(config.root, env)
        decision = training.trigger(decision, ref, env=env, dry_run=mode == "dry-run")
    click.echo(training.render(decision))


@click.command()
@click.option(
    "--push/--no-push",
    default=None,
    help="Push the record commit to the branch (with -o ci.skip). Default: in CI (CI or GITLAB_CI set) yes, "
    "elsewhere no.",
)
@click.pass_obj
def record(obj: dict[str, str], push: bool | None) -> None:
    """Commit dvc.lock and the full dataset's metrics after training, with the trailer ALOps-Trained-Round.

    Run it after `alops run` on an active-learning branch: the commit says
    which rounds of labels the model saw (N, the highest round of the label
    log) and how it scored, so `alops al status` draws the learning curve and
    `alops al retrain` counts the labels since. Nothing changed: no commit.
    The push goes to the current branch (ALOPS_GIT_PUSH_URL, else the
    project's HTTPS URL) with ALOPS_GITLAB_TOKEN (write_repository:
    CI_JOB_TOKEN cannot push); when the branch moved meanwhile, the commit is
    rebased onto it.

    \b
    Exit codes: 0 recorded (or nothing to record); 1 no dvc.lock (run
    `alops run` first); 2 bad alops.yaml or no branch; 3 git failed (the push
    was refused, or the record does not apply on the moved branch).
    """
    from alops.al.record import record as run_record
    from alops.config import load_config
    from alops.run import in_ci
    from alops.text import quote

    env = dict(os.environ)
    config = load_config(obj["config"])
    result = run_record(config, env=env, push=in_ci(env) if push is None else push)
    files = ", ".join(result.paths)
    if result.commit is None:
        click.echo(f"Nothing to record: {files} unchanged since the last commit (round {result.round})")
        return
    where = f", pushed to {quote(result.pushed_to)}" if result.pushed_to else " (not pushed: --push to push it)"
    click.echo(f"Recorded the model of rounds up to {result.round}: {files} in {result.commit[:12]}{where}")


@click.command()
@click.option(
    "--pull/--no-pull", default=True, show_default=True, help="Pull the full dataset from the DVC remote first."
)
@click.pass_obj
def score(obj: dict[str, str], pull: bool) -> None:
    """Run the scoring stages (alops.yaml pipeline.score) on the full data: the pool's scores for `alops al query`.

    Pulls the full dataset and runs `dvc repro --pull` on the stages
    pipeline.score names ({dataset} = full): DVC fetches the trained model
    from the remote (or trains it when the data changed since), then scores
    the pool. The al branch's query job runs it before `alops al query`.

    \b
    Exit codes: 0 scored; 1 a stage failed; 2 bad alops.yaml (pipeline.score
    empty); 3 DVC failed; 4 data or credentials missing.
    """
    from alops.al.score import score as run_score
    from alops.config import load_config
    from alops.flow import current_plan

    env = dict(os.environ)
    config = load_config(obj["config"])
    plan = current_plan(config, env, role="al")
    result = run_score(config, plan, env=env, pull=pull)
    pulled = f", {result.pulled.files} files of {result.dataset} pulled" if result.pulled else ""
    click.echo(f"Scored the pool: {' → '.join(result.stages)}{pulled} ({result.seconds:.1f} s)")
