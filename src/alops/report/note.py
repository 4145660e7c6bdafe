"""The report's note on the merge request: one note per flow, edited in place on every pipeline.

The note is found again by the hidden marker on its first line
(``<!-- alops-report flow=experiment -->``): a rerun edits it, never adds a
second one. Writing a note takes a token with the api scope
(``ALOPS_GITLAB_TOKEN``); GitLab's job token cannot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops.report.history import MAX_RETRIES

if TYPE_CHECKING:
    import gitlab

    from alops.report.content import Plot


@dataclass(frozen=True)
class Posted:
    """What became of the note."""

    action: str  # "created" or "updated"
    mr_iid: int
    note_id: int
    url: str | None  # the note in the merge request, when GitLab said where the MR is


def merge_request(client: gitlab.Gitlab, project_id: int | str, branch: str, env: Mapping[str, str]) -> Any | None:
    """The merge request of this pipeline (CI_MERGE_REQUEST_IID), else the open one of ``branch``; None when none."""
    project = client.projects.get(project_id, lazy=True)
    iid = env.get(variables.CI_MERGE_REQUEST_IID)
    if iid:
        return project.mergerequests.get(iid, lazy=True)
    found = project.mergerequests.list(source_branch=branch, state="opened", get_all=False, max_retries=MAX_RETRIES)
    return found[0] if found else None


def upload(client: gitlab.Gitlab, project_id: int | str, plots: Sequence[Plot]) -> dict[str, str]:
    """Upload each plot to the project; its file name → the Markdown GitLab returned for it."""
    project = client.projects.get(project_id, lazy=True)
    shown = {}
    for plot in plots:
        done = project.upload(plot.file, filedata=plot.png, max_retries=MAX_RETRIES)
        shown[plot.file] = str(done.get("markdown") or f"![{plot.title}]({done['url']})")
    return shown


def post(mr: Any, body: str, marker: str) -> Posted:
    """Edit the MR's note that starts with ``marker``, or create it; the first such note when there are several."""
    notes = mr.notes.list(get_all=True, max_retries=MAX_RETRIES)
    ours = next((n for n in notes if str(getattr(n, "body", "")).startswith(marker)), None)
    if ours is not None:
        ours.body = body
        ours.save(max_retries=MAX_RETRIES)
        action, note_id = "updated", int(ours.id)
    else:
        created = mr.notes.create({"body": body}, max_retries=MAX_RETRIES)
        action, note_id = "created", int(created.id)
    web = getattr(mr, "attributes", {}).get("web_url")
    return Posted(action, int(mr.iid), note_id, f"{web}#note_{note_id}" if web else None)
