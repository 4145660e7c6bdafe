"""A branch's earlier runs (the run manifests its latest successful pipelines kept) and the plot of a metric across them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops.errors import DataError

if TYPE_CHECKING:
    import gitlab

    from alops.compare import Snapshot
    from alops.config import Config
    from alops.flow import Plan
    from alops.report.content import ClientFactory, LeftOut, Plot

#: Each GitLab call of the report retries 429 and 5xx this many times (python-gitlab waits
#: 0.1 s, 0.2 s, ... between them, or what Retry-After says): a CI job must not hang on them.
MAX_RETRIES = 3


@dataclass(frozen=True)
class Run:
    """One earlier successful pipeline of the branch and the manifest its job kept."""

    pipeline_id: int
    web_url: str | None
    manifest: dict[str, Any]


def runs(client: gitlab.Gitlab, project_id: int | str, branch: str, job_name: str, limit: int) -> list[Run]:
    """The manifests of job ``job_name`` in ``branch``'s latest ``limit`` successful pipelines, oldest first.

    A pipeline without that job, or whose job kept no readable manifest, is
    left out. GitLab errors are raised as python-gitlab's exceptions: the caller
    decides what a missing history means.
    """
    from alops import gitlab as api
    from alops import manifest

    project = client.projects.get(project_id, lazy=True)
    pipelines = project.pipelines.list(
        ref=branch, status="success", order_by="id", sort="desc", per_page=limit, get_all=False, max_retries=MAX_RETRIES
    )
    found: list[Run] = []
    for pipeline in pipelines[:limit]:
        jobs = pipeline.jobs.list(scope="success", get_all=True, max_retries=MAX_RETRIES)
        job = next((j for j in jobs if j.name == job_name), None)
        if job is None:
            continue
        data = api.job_artifact_file(client, project_id, int(job.id), manifest.FILE)
        if data is None:
            continue
        try:
            doc = manifest.loads(data, f"{manifest.FILE} of job {job.id}")
        except DataError:  # one unreadable old manifest leaves one point out, no more
            continue
        found.append(Run(int(pipeline.id), getattr(pipeline, "web_url", None), doc))
    return found[::-1]


def report_metric(config: Config, current: Snapshot) -> str | None:
    """The history plot's metric: report.metric, else the first gate's, else the first metric of the run."""
    if config.report.metric:
        return str(config.report.metric)
    if config.quality:
        return config.quality[0].metric
    return next((key for values in current.metrics.values() for key in values), None)


def plot(
    config: Config,
    plan: Plan,
    env: Mapping[str, str],
    current: Snapshot,
    run: Mapping[str, Any] | None,
    gitlab_client: ClientFactory,
    left: list[LeftOut],
) -> list[Plot]:
    """The metric across the branch's earlier successful pipelines and this run; left out (and why) when it cannot be."""
    from alops import gate as gates
    from alops.errors import AlopsError
    from alops.report import plots
    from alops.report.content import LeftOut, Plot

    metric = report_metric(config, current)
    title = f"{metric or 'The metric'} across pipelines"
    why = plots.missing()
    if why:  # before asking GitLab for pipelines it could not draw
        left.append(LeftOut(title, why))
        return []
    if metric is None:
        left.append(LeftOut(title, "the run has no metrics (pipeline.metrics) to follow"))
        return []
    now = gates.find(metric, current.metrics)
    if now is None:
        left.append(LeftOut(title, f"{metric} (report.metric) is in none of this run's metrics files"))
        return []
    client, why = gitlab_client()
    project = env.get(variables.CI_PROJECT_ID)
    if client is None or not project:
        left.append(LeftOut(title, why or f"{variables.CI_PROJECT_ID} is not set: the earlier pipelines are unknown"))
        return []
    ci = (run or {}).get("ci") or {}
    job = ci.get("job_name") or env.get(variables.BASELINE_JOB) or "alops-run-gpu"
    try:
        earlier = runs(client, project, plan.ref, job, config.report.history)
    except Exception as exc:  # noqa: BLE001 - GitLab failing leaves the plot out, never the report
        from alops import gitlab as api

        error = exc if isinstance(exc, AlopsError) else api.api_error(exc, client, "list the branch's pipelines")
        left.append(LeftOut(title, f"the earlier pipelines could not be read: {error}"))
        return []
    this_pipeline = env.get(variables.CI_PIPELINE_ID)
    points = []
    for past in earlier:
        value = gates.find(metric, past.manifest.get("metrics") or {})
        if value is not None and str(past.pipeline_id) != this_pipeline:
            points.append((f"#{past.pipeline_id}", value))
    if not points:
        why = (
            f"no earlier successful pipeline of this branch (the latest {config.report.history}, report.history) "
            f"kept {metric} in the alops-manifest.json of job {job}"
        )
        left.append(LeftOut(title, why))
        return []
    points.append(("this run", now))
    return [Plot("history.png", title, plots.history_png(points, metric, f"{metric} on {plan.ref}"))]
