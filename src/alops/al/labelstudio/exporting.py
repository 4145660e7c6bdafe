"""``alops al export --to label-studio``: the batch's ``tasks.json`` into the loop's Label Studio project.

A sample is imported once: the sample ids already in the project (its tasks'
``data.sample_id``, read page by page) are left out, so a second export of the
same batch imports nothing, and an export that failed midway (the server went
down between two chunks) is finished by running it again. Before retrying a
chunk whose first try may have reached the server, the ids are read again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.al.labelstudio import project
from alops.al.labelstudio.connection import Connection, connect
from alops.errors import ConfigError, DataError
from alops.sections import ActiveLearning, LabelStudioSettings

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

TASKS = "tasks.json"
#: Tasks per import request: small enough that a slow server answers within the timeout.
CHUNK = 500
#: Tasks per page when reading the project's sample ids.
PAGE = 1000


@dataclass(frozen=True)
class ExportReport:
    """What an export did."""

    project_id: int
    title: str
    project_action: str  # "created", "updated" or "unchanged"
    url: str  # the project's page
    in_batch: int  # tasks in tasks.json
    imported: int  # tasks added now
    already: int  # tasks left out: their sample id was in the project already


def export_batch(
    settings: LabelStudioSettings,
    al: ActiveLearning,
    batch_dir: Path,
    *,
    env: Mapping[str, str],
    pool: Path | None = None,
) -> ExportReport:
    """Create or update the project titled ``settings.project`` and import ``batch_dir/tasks.json`` into it.

    ``pool`` is the pool's file, where the columns of ``settings.fields`` are read for each task.
    """
    if not al.classes:
        raise ConfigError(
            "alops al export needs active_learning.classes in alops.yaml: the labelling interface's classes"
        )
    tasks = read_tasks(batch_dir / TASKS)
    if settings.fields:
        tasks = with_fields(tasks, settings.fields, pool, al.id_column)
    conn = connect(env)
    with conn.client() as client:
        found = project.ensure(conn, client, settings.project, al.classes, settings.instructions, settings.fields)
        existing = sample_ids(conn, client, found.id)
        fresh = _unique(task for task in tasks if key(task) not in existing)
        imported = 0
        for start in range(0, len(fresh), CHUNK):
            imported += _import(conn, client, found.id, fresh[start : start + CHUNK], existing)
    return ExportReport(
        found.id,
        found.title,
        found.action,
        f"{conn.redact(conn.url)}/projects/{found.id}/data",  # a password in the URL stays out of logs
        len(tasks),
        imported,
        len(tasks) - imported,
    )


def read_tasks(path: Path) -> list[dict[str, Any]]:
    """The tasks ``alops al query`` wrote; a DataError when the file is missing or not tasks."""
    if not path.is_file():
        raise DataError(f"{path} does not exist: run `alops al query` first (it writes the batch there)")
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not JSON ({exc}): run `alops al query` again to rewrite it") from None
    if not isinstance(tasks, list):
        raise DataError(f"{path}: expected a list of Label Studio tasks: run `alops al query` again to rewrite it")
    for number, task in enumerate(tasks, 1):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or data.get("sample_id") is None:
            raise DataError(f"{path}: task {number} has no data.sample_id: run `alops al query` again to rewrite it")
    return tasks


def with_fields(
    tasks: list[dict[str, Any]], fields: Mapping[str, str], pool: Path | None, id_column: str
) -> list[dict[str, Any]]:
    """``tasks`` with the pool's columns of ``fields`` in their data ("" where the pool has no value)."""
    from alops.al.ingest import tables

    if pool is None:
        raise ConfigError(
            "active_learning.label_studio.fields names columns of the pool, but active_learning.pool is not set: "
            "name the pool's file"
        )
    if not pool.is_file():
        raise DataError(f"the pool {pool} does not exist: run `alops data pull` (or `dvc pull`) to get it")
    table = tables.read(pool, id_column, shown=str(pool))
    missing = [name for name in fields if name not in table.columns]
    if missing:
        raise ConfigError(
            f"active_learning.label_studio.fields: the pool {pool.name} has no column {', '.join(missing)} "
            f"(its columns: {', '.join(table.columns)})"
        )
    rows = table.values if table.format == "csv" else table.arrow.select(list(fields)).to_pylist()
    values = {
        sample: {name: "" if row.get(name) is None else str(row.get(name)) for name in fields}
        for sample, row in zip(table.ids, rows, strict=True)
    }
    blank = dict.fromkeys(fields, "")
    return [{**task, "data": {**task["data"], **values.get(key(task), blank)}} for task in tasks]


def key(task: Mapping[str, Any]) -> str:
    """The sample id a task carries, as text (JSON may hold ``7`` where the pool says ``"7"``)."""
    return str(task["data"]["sample_id"])


def sample_ids(conn: Connection, client: LabelStudio, project_id: int) -> set[str]:
    """The sample ids of every task of the project."""
    return conn.call("list the project's tasks", lambda _: _ids(client, project_id))


def _ids(client: LabelStudio, project_id: int) -> set[str]:
    ids: set[str] = set()
    # Only the id and data of each task: the server then skips its per-task counters (5-8x faster here).
    pages: Iterable[Any] = client.tasks.list(project=project_id, fields="task_only", include="id,data", page_size=PAGE)
    for task in pages:
        value = (task.data or {}).get("sample_id")
        if value is not None:
            ids.add(str(value))
    return ids


def _import(
    conn: Connection, client: LabelStudio, project_id: int, chunk: Sequence[dict[str, Any]], existing: set[str]
) -> int:
    missing = sum(1 for task in chunk if key(task) not in existing)

    def attempt(number: int) -> None:
        if number:  # the last try may have been imported before its answer was lost
            existing.update(_ids(client, project_id))
        todo = [task for task in chunk if key(task) not in existing]
        if todo:
            client.projects.import_tasks(project_id, request=todo, return_task_ids=False)  # type: ignore[arg-type]
        existing.update(key(task) for task in todo)

    conn.call(f"import {len(chunk)} tasks", attempt)
    return missing  # in the project now, whichever try put them there


def _unique(tasks: Any) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for task in tasks:
        seen.setdefault(key(task), task)
    return list(seen.values())
