"""A branch's earlier runs: the run manifests its latest successful pipelines kept as artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops.errors import DataError

if TYPE_CHECKING:
    import gitlab

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
