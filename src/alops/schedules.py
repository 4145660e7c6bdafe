"""`alops schedule sync`: the project's GitLab pipeline schedules, as alops.yaml's ``schedules:`` writes them.

A schedule belongs to alops when its description is ``alops: <name>``; alops
creates, edits and deletes only those, never a schedule someone made by hand.
Everything is read first and compared field by field (cron, ref, timezone,
active, each variable), so a second run sends no write at all. Schedules and
their variables need the ``api`` scope: ``CI_JOB_TOKEN`` cannot manage them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops import gitlab as api
from alops.errors import ConfigError
from alops.text import quote

if TYPE_CHECKING:
    import gitlab

    from alops.sections import Schedule

PREFIX = "alops: "
#: One cron field as GitLab (fugit) reads it: numbers, names, ranges, steps, lists, `*` and `?`.
_FIELD = re.compile(
    r"(?:\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/[0-9]+)?(?:,(?:\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/[0-9]+)?)*\Z"
)
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@dataclass(frozen=True)
class Change:
    """What sync does (or would do) to one schedule."""

    name: str
    action: str  # "create", "update", "delete" or "unchanged"
    schedule_id: int | None = None
    #: Changed fields (``cron: "0 3 * * *" -> "0 4 * * *"``) and variables (``+ KEY``, ``~ KEY``, ``- KEY``).
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncResult:
    changes: tuple[Change, ...]
    dry_run: bool
    project: str = ""
    writes: int = field(default=0)


def validate_cron(schedule: Schedule) -> None:
    """Five fields, each a cron field GitLab reads, in its range; a ConfigError names the schedule otherwise."""
    where = f"alops.yaml: schedules.{schedule.name}.cron: {quote(schedule.cron)}"
    fields = schedule.cron.split()
    if len(fields) != 5:
        raise ConfigError(
            f"{where} has {len(fields)} fields: GitLab takes five (minute hour day-of-month month day-of-week), "
            'e.g. "0 3 * * *"'
        )
    for text, name, (low, high) in zip(fields, _FIELD_NAMES, _RANGES, strict=True):
        numbers = [int(n) for n in re.findall(r"(?<![/0-9])[0-9]+", text)]
        if not _FIELD.match(text) or any(not low <= n <= high for n in numbers):
            raise ConfigError(f"{where}: the {name} field {quote(text)} is not a cron field from {low} to {high}")


def desired(schedule: Schedule) -> dict[str, Any]:
    return {
        "description": PREFIX + schedule.name,
        "ref": schedule.ref,
        "cron": schedule.cron,
        "cron_timezone": schedule.timezone,
        "active": schedule.active,
    }


def project_id(env: Mapping[str, str]) -> str:
    found = env.get(variables.CI_PROJECT_ID) or env.get(variables.CI_PROJECT_PATH)
    if not found:
        raise ConfigError(
            f"the GitLab project is unknown: set {variables.CI_PROJECT_ID} or {variables.CI_PROJECT_PATH} "
            "(GitLab sets both in CI jobs)"
        )
    return found


def client(env: Mapping[str, str]) -> gitlab.Gitlab:
    """A client with the project access token: schedules cannot be managed with a job token."""
    return api.token_client(
        env,
        command="alops schedule sync",
        token="a project access token with the api scope (role Maintainer, or Developer for schedules it owns)",
        job_token_cannot="read or change pipeline schedules",
    )


def sync(schedules: Sequence[Schedule], *, env: Mapping[str, str], dry_run: bool = False) -> SyncResult:
    """Make the project's ``alops: `` schedules equal ``schedules``; with ``dry_run`` only read and plan."""
    import gitlab.exceptions

    for schedule in schedules:
        validate_cron(schedule)
    pid = project_id(env)
    gl = client(env)
    changes: list[Change] = []
    writes = 0
    what = f"read the pipeline schedules of project {pid}"
    try:
        project = gl.projects.get(pid, lazy=True)
        owned: dict[str, Any] = {}
        for found in project.pipelineschedules.list(get_all=True):
            description = str(found.description or "")
            if description.startswith(PREFIX):
                owned.setdefault(description[len(PREFIX) :], found)
        for schedule in schedules:
            want = desired(schedule)
            if schedule.name not in owned:
                changes.append(Change(schedule.name, "create", None, _created(want, schedule.variables)))
                if not dry_run:
                    what = f"create the pipeline schedule {quote(PREFIX + schedule.name)}"
                    made = project.pipelineschedules.create(want)
                    writes += 1 + _set_variables(made, {}, schedule.variables)
                continue
            what = f"read the pipeline schedule {quote(PREFIX + schedule.name)}"
            current = project.pipelineschedules.get(owned[schedule.name].id)  # the list has no variables
            fields = _field_changes(current, want)
            # `current.variables` is the variables manager; the server's list is among the attributes.
            have = {str(v["key"]): str(v["value"]) for v in current.attributes.get("variables") or []}
            details = tuple(f"{k}: {_show(old)} -> {_show(new)}" for k, (old, new) in fields.items())
            details += _variable_changes(have, schedule.variables)
            changes.append(Change(schedule.name, "update" if details else "unchanged", int(current.id), details))
            if details and not dry_run:
                what = f"update the pipeline schedule {quote(PREFIX + schedule.name)}"
                if fields:
                    for key, (_, new) in fields.items():
                        setattr(current, key, new)
                    current.save()
                    writes += 1
                writes += _set_variables(current, have, schedule.variables)
        names = {s.name for s in schedules}
        for name, found in owned.items():
            if name not in names:
                changes.append(Change(name, "delete", int(found.id)))
                if not dry_run:
                    what = f"delete the pipeline schedule {quote(PREFIX + name)}"
                    project.pipelineschedules.delete(found.id)
                    writes += 1
    except gitlab.exceptions.GitlabError as exc:
        error = api.api_error(exc, gl, what)
        if getattr(exc, "response_code", None) == 403 and what.startswith(("update", "delete")):
            # GitLab lets only a schedule's owner edit it (a Maintainer may take it over first).
            error = type(error)(
                f"{error.message}; a pipeline schedule can be changed only by its owner: take ownership of it "
                "as the token's user (the schedule's page, Take ownership) or delete it, and run sync again"
            )
        raise error from None
    return SyncResult(tuple(changes), dry_run, pid, writes)


def _field_changes(current: Any, want: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    out = {}
    for key in ("cron", "ref", "cron_timezone", "active"):
        have = getattr(current, key, None)
        if key == "ref" and isinstance(have, str):
            # GitLab keeps new schedules' refs as full paths (refs/heads/<branch>) and answers with those.
            have = have.removeprefix("refs/heads/")
        if have != want[key]:
            out[key] = (have, want[key])
    return out


def _variable_changes(have: Mapping[str, str], want: Mapping[str, str]) -> tuple[str, ...]:
    added = [f"+ variable {k}" for k in want if k not in have]
    changed = [f"~ variable {k}" for k in want if k in have and have[k] != want[k]]
    removed = [f"- variable {k}" for k in have if k not in want]
    return tuple(added + changed + removed)


def _created(want: Mapping[str, Any], wanted_vars: Mapping[str, str]) -> tuple[str, ...]:
    fields = tuple(f"{k}: {_show(want[k])}" for k in ("cron", "ref", "cron_timezone", "active"))
    return fields + tuple(f"+ variable {k}" for k in wanted_vars)


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else quote(str(value))


def _set_variables(schedule: Any, have: Mapping[str, str], want: Mapping[str, str]) -> int:
    """Create, update and delete the schedule's variables so they equal ``want``; the number of writes."""
    writes = 0
    for key, value in want.items():
        if key not in have:
            schedule.variables.create({"key": key, "value": value, "variable_type": "env_var"})
        elif have[key] != value:
            schedule.variables.update(key, {"value": value})
        else:
            continue
        writes += 1
    for key in have:
        if key not in want:
            schedule.variables.delete(key)
            writes += 1
    return writes


def render(result: SyncResult) -> str:
    """One line per schedule, then a summary; variables are named, their values never shown."""
    lines = []
    for change in result.changes:
        ident = f" (#{change.schedule_id})" if change.schedule_id is not None else ""
        head = f"{change.action:<9} {PREFIX}{change.name}{ident}"
        lines.append(head + (": " + "; ".join(change.details) if change.details else ""))
    if not result.changes:
        lines.append("no schedules in alops.yaml and none of alops's in GitLab: nothing to do")
    counts = {a: sum(1 for c in result.changes if c.action == a) for a in _DONE}
    if result.dry_run:
        parts = [f"{n} to {a}" for a, n in counts.items() if a != "unchanged"] + [f"{counts['unchanged']} unchanged"]
        lines.append("dry run, nothing changed: " + ", ".join(parts))
    else:
        lines.append(", ".join(f"{n} {_DONE[a]}" for a, n in counts.items()) + f" ({result.writes} API writes)")
    return "\n".join(lines)


_DONE = {"create": "created", "update": "updated", "delete": "deleted", "unchanged": "unchanged"}
