"""Label Studio's exports (1.23, measured in /work/shared/TESTING.md): JSON, JSON-MIN and CSV.

- JSON: a list of tasks, each with ``data`` (alops' stable id is ``data.sample_id``,
  its query strategy ``data.strategy``) and every annotation, with ``completed_by``,
  ``was_cancelled``, ``ground_truth`` and a ``result`` whose ``choices`` hold the class.
  Predictions (the model's pre-annotations) are never read: they are not labels.
- JSON-MIN: one flat object per non-cancelled annotation (newest first, the task's
  ``id`` repeated): the data fields, ``annotator``, ``annotation_id``, ``created_at``,
  ``updated_at`` and the label under the Choices tag's name, ``label``: ``"3"`` for one
  choice, ``{"choices": [...]}`` for several, absent for an empty result.
- CSV: the same rows as JSON-MIN, several choices as that object's JSON text.

JSON is read whole (an export is one JSON document) but decoded task by task
(:mod:`alops.al.labels.jsonlist`), so a truncated file or a task that is not an object
is named by its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from alops.al.labels import source, values
from alops.al.labels.jsonlist import items as _items
from alops.al.labels.jsonlist import line as _line
from alops.al.labels.model import Choice, Vote
from alops.al.labels.plain import Table
from alops.al.query.batch import FROM_NAME
from alops.errors import DataError

JSON, JSON_MIN, CSV = "label-studio-json", "label-studio-json-min", "label-studio-csv"


def is_csv_export(found: Table) -> bool:
    """Whether a CSV header is Label Studio's (it has ``annotation_id``)."""
    return "annotation_id" in found.columns


def csv_votes(path: Path, found: Table) -> Iterator[Vote]:
    """The votes of a Label Studio CSV export: one per row."""
    columns = {name: found.find(name) for name in ("sample_id", FROM_NAME, "annotator", "id", "strategy")}
    stamps = [found.find("updated_at"), found.find("created_at")]
    name = path.name
    for number, row in found.rows:
        cell = {key: row[index] if index is not None else "" for key, index in columns.items()}
        yield Vote(
            cell["sample_id"] or None,
            _csv_label(cell[FROM_NAME]),
            values.annotator(cell["annotator"]),
            next((row[i] for i in stamps if i is not None and row[i]), None),
            f"{name}: task {cell['id']}" if cell["id"].isdigit() else f"{name}:{number}",
            strategy=cell["strategy"] or None,
        )


def json_votes(path: Path) -> tuple[str, Iterator[Vote]]:
    """The export's format and its votes: one per annotation (JSON) or row (JSON-MIN)."""
    text = source.text(path)
    items = _items(path, text)
    first = next(items, None)
    if first is None:
        return JSON, iter(())  # an empty export: nothing annotated yet
    kind = _kind(path, text, *first)
    return kind, _votes(path, text, kind, first, items)


def _votes(
    path: Path, text: str, kind: str, first: tuple[int, int, object], items: Iterator[tuple[int, int, object]]
) -> Iterator[Vote]:
    name, shared = path.name, dict[str, str]()
    for index, pos, item in _chain(first, items):
        if type(item) is dict and kind == JSON_MIN and "data" not in item and "sample_id" in item:  # the common case
            vote = _row_vote(name, item)
            yield vote._replace(annotator=shared.setdefault(vote.annotator, vote.annotator))
            continue
        found = _kind(path, text, index, pos, item)
        if found != kind:
            raise DataError(
                f"{path}:{_line(text, pos)}: item #{index + 1} is a {_name(found)} item in a {_name(kind)} export:"
                " mixed formats; export the project again"
            )
        assert isinstance(item, dict)  # _kind said so
        yield from (_task_votes(name, index, item) if kind == JSON else (_row_vote(name, item),))


def _chain(
    first: tuple[int, int, object], rest: Iterator[tuple[int, int, object]]
) -> Iterator[tuple[int, int, object]]:
    yield first
    yield from rest


def _kind(path: Path, text: str, index: int, pos: int, item: object) -> str:
    if not isinstance(item, dict):
        what = "null" if item is None else f"a JSON {type(item).__name__.replace('str', 'string')}"
        raise DataError(
            f"{path}:{_line(text, pos)}: item #{index + 1} is {what}, not a task:"
            " a Label Studio export is a list of tasks"
        )
    if isinstance(item.get("data"), dict):
        return JSON
    if "annotation_id" in item or "sample_id" in item:
        return JSON_MIN
    if "data" in item:
        raise DataError(
            f"{path}:{_line(text, pos)}: item #{index + 1}'s `data` is not an object: a Label Studio task's data"
            ' is an object holding the sample id, {"sample_id": ...}'
        )
    if "id" in item and FROM_NAME in item:
        raise DataError(
            f"{path}:{_line(text, pos)}: a JSON list of id/label objects: write one object per line (a .jsonl file)"
            " or give a Label Studio export"
        )
    raise DataError(
        f"{path}:{_line(text, pos)}: item #{index + 1} has no `data` (Label Studio's JSON export) and no"
        " `annotation_id` or `sample_id` (its JSON-MIN export): not a Label Studio export of alops tasks"
    )


def _name(kind: str) -> str:
    return {JSON: "Label Studio JSON", JSON_MIN: "Label Studio JSON-MIN"}[kind]


def _task_votes(name: str, index: int, task: dict[str, object]) -> Iterator[Vote]:
    data = task["data"]
    assert isinstance(data, dict)
    sid, where = data.get("sample_id"), _where(name, task.get("id"), index)
    strategy = data.get("strategy") if isinstance(data.get("strategy"), str) else None
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list):
        yield Vote(sid, None, "unknown", None, where, strategy=strategy, problem="`annotations` is not a list")
        return
    if not annotations:  # a task nobody annotated (a snapshot export has them): it stays in the pool
        yield Vote(sid, None, "unknown", None, where, strategy=strategy)
    for annotation in annotations:
        if not isinstance(annotation, dict):
            yield Vote(sid, None, "unknown", None, where, strategy=strategy, problem="an annotation is not an object")
            continue
        label, problem = _result(annotation.get("result", []))
        yield Vote(
            sid,
            label,
            values.annotator(annotation.get("completed_by")),
            _stamp(annotation),
            where,
            cancelled=annotation.get("was_cancelled") is True,
            ground_truth=annotation.get("ground_truth") is True,
            strategy=strategy,
            problem=problem,
        )


def _row_vote(name: str, row: dict[str, object]) -> Vote:
    value, who, task, strategy = row.get(FROM_NAME), row.get("annotator"), row.get("id"), row.get("strategy")
    if type(value) is not str or not value:
        value = values.choice(value.get("choices") if isinstance(value, dict) else value)
    stamp = row.get("updated_at") or row.get("created_at")
    return Vote(
        row.get("sample_id"),
        value,
        who if type(who) is str and who else values.annotator(who),
        stamp if type(stamp) is str else None,
        f"{name}: task {task}" if type(task) is int else _where(name, task, None),
        False,
        False,
        strategy if type(strategy) is str else None,
    )


def _result(result: object) -> tuple[Choice, str | None]:
    """The classes chosen in an annotation's result: its ``choices`` regions of alops' tag (``label``).

    A project whose interface has other Choices tags too keeps them out; one without a tag
    of that name (an interface made by hand) counts every Choices region.
    """
    if not isinstance(result, list):
        return None, "the annotation's `result` is not a list"
    regions = [
        region
        for region in result
        if isinstance(region, dict) and region.get("type") == "choices" and isinstance(region.get("value"), dict)
    ]
    ours = [region for region in regions if region.get("from_name") == FROM_NAME]
    chosen: list[object] = []
    for region in ours or regions:
        picked = region["value"].get("choices")
        chosen.extend(picked if isinstance(picked, list) else [picked])
    return values.choice(chosen), None


def _csv_label(cell: str) -> Choice:
    """A CSV export's label cell: a class, or several as ``{"choices": [...]}`` JSON text."""
    if cell.startswith('{"choices"'):
        try:
            parsed = json.loads(cell)
        except ValueError:
            return cell
        if isinstance(parsed, dict) and isinstance(parsed.get("choices"), list):
            return values.choice(parsed["choices"])
    return cell or None


def _stamp(annotation: dict[str, object]) -> str | None:
    for key in ("updated_at", "created_at"):
        value = annotation.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _where(name: str, task: object, index: int | None) -> str:
    if isinstance(task, int) and not isinstance(task, bool):
        return f"{name}: task {task}"
    return f"{name}: item #{index + 1}" if index is not None else f"{name}: a row without a task id"
