"""``alops al pull --from label-studio``: the project's annotated tasks as Label Studio's JSON export, in one file.

A snapshot export (the server builds the file, alops waits for it and
downloads it) of the tasks that have at least one annotation, cancelled
(skipped) ones included: every annotation with ``was_cancelled``,
``ground_truth``, ``created_at``, ``updated_at`` and ``completed_by`` as the
user's id, email and name (the export's ``only_id: false``), and the task's
``data`` with its ``sample_id``. The file is the server's own bytes, checked to
be a JSON list of tasks, then written atomically: a failed pull leaves the
previous file as it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from alops import atomic
from alops import env as variables
from alops.al.labelstudio import project
from alops.al.labelstudio.connection import Connection, connect
from alops.errors import ConfigError, ToolError
from alops.sections import ActiveLearning, LabelStudioSettings
from alops.text import quote

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

#: Seconds between two looks at an export the server is still building.
POLL = 0.25


def pull(settings: LabelStudioSettings, al: ActiveLearning, out: Path, *, env: Mapping[str, str]) -> Path:
    """Write the annotated tasks of the project titled ``settings.project`` to ``out`` (JSON); return ``out``."""
    del al  # the project is found by its title alone; kept for the shared signature
    conn = connect(env)
    with conn.client() as client:
        return _pull(conn, client, settings.project, out)


def _pull(conn: Connection, client: LabelStudio, title: str, out: Path) -> Path:
    found = project.find(conn, client, title)
    if found is None:
        raise ConfigError(
            f"Label Studio at {conn.redact(conn.url)} has no project titled {quote(title)}: run "
            "`alops al export --to label-studio` first, or set active_learning.label_studio.project to its title"
        )
    from label_studio_sdk.types import LseTaskFilterOptionsRequest, SerializationOptionsRequest

    # Tasks with at least one annotation, cancelled ones too; each annotator as id, email and name.
    only_annotated = LseTaskFilterOptionsRequest(only_with_annotations=True)
    users_in_full = SerializationOptionsRequest.model_validate({"annotations__completed_by": {"only_id": False}})
    export = conn.call(
        "start an export",
        lambda _: client.projects.exports.create(
            found, title="alops al pull", task_filter_options=only_annotated, serialization_options=users_in_full
        ),
    )
    export_id = int(export.id or 0)
    try:
        _wait(conn, client, found, export_id, export.status)
        data = conn.call(
            "download the export",
            lambda _: b"".join(client.projects.exports.download(found, export_id, export_type="JSON")),
        )
    finally:  # the server keeps every export file: this one is ours to remove, downloaded or not
        _delete(client, found, export_id)
    text = _checked(data, conn.redact(conn.url))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic.writing_to(out):
        atomic.write_text(out, text)
    return out


def _delete(client: LabelStudio, project_id: int, export_id: int) -> None:
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        client.projects.exports.delete(project_id, export_id)
    except (httpx.HTTPError, ApiError, ValueError):  # left behind, it costs the server some disk and nothing else
        pass


def _wait(conn: Connection, client: LabelStudio, project_id: int, export_id: int, status: str | None) -> None:
    deadline = time.monotonic() + conn.timeout * (conn.retries + 1)
    while status != "completed":
        if status == "failed":
            raise ToolError(
                f"Label Studio at {conn.redact(conn.url)} failed to build the export of project {project_id}: "
                "see the server's log, then run again"
            )
        if time.monotonic() > deadline:
            raise ToolError(
                f"Label Studio at {conn.redact(conn.url)} did not finish the export of project {project_id} "
                f"in {conn.timeout * (conn.retries + 1):g} s: run again later (or raise {variables.LABEL_STUDIO_TIMEOUT})"
            )
        time.sleep(POLL)
        status = conn.call(
            "read the export's state", lambda _: client.projects.exports.get(project_id, export_id)
        ).status


def _checked(data: bytes, where: str) -> str:
    """The export as text, when it is what a JSON export is: a list of tasks with ``data``."""
    try:
        text = data.decode("utf-8")
        tasks = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ToolError(f"Label Studio at {where} sent an export that is not JSON ({exc}): run again") from None
    if not isinstance(tasks, list) or not all(isinstance(task, dict) and "data" in task for task in tasks):
        raise ToolError(f"Label Studio at {where} sent an export that is not a list of tasks: run again")
    return text if text.endswith("\n") else text + "\n"
