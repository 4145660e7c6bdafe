"""The example exports of tests/al/labelstudio/exports/ are what a real Label Studio writes (rewrite: UPDATE_EXPORTS=1).

One project (classes cat, dog, =bird) with the batch s1..s6 imported by
`export_batch` and annotated as ``labelstudio_server.SCENARIO`` says: two
annotators who agree, who disagree, a ground truth, a skipped task, an
unlabelled task, a formula-like class. Then one snapshot export of every task,
downloaded as JSON (annotators in full, as `alops al pull` asks), JSON_MIN and CSV.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import pytest
from labelstudio_server import ADMIN, SCENARIO, SCENARIO_CLASSES, LabelStudioServer, annotate

from alops.al.labelstudio import export_batch
from alops.al.query.batch import BatchRow, write_batch
from alops.sections import ActiveLearning

EXPORTS = Path(__file__).parent / "exports"
FILES = {"JSON": "export.json", "JSON_MIN": "export-min.json", "CSV": "export.csv"}


def build(server: LabelStudioServer, al: ActiveLearning, batch: Path) -> int:
    """The example project, annotated; its id."""
    rows = [
        BatchRow(i, sample, 0.1 * i, "margin", SCENARIO_CLASSES[i % 3], 0.5 + 0.05 * i)
        for i, sample in enumerate(SCENARIO)
    ]
    write_batch(rows, batch, model_version="scores.csv")
    report = export_batch(al.label_studio, al, batch, env=server.env())
    with server.client() as client:
        annotate(client, report.project_id, SCENARIO)
    return report.project_id


def download(server: LabelStudioServer, project_id: int, folder: Path) -> dict[str, Path]:
    """One snapshot export of every task of the project, in each of FILES' formats."""
    with server.client() as client:
        return _download(client, project_id, folder)


def _download(client, project_id: int, folder: Path) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    from label_studio_sdk.types import SerializationOptionsRequest

    options = SerializationOptionsRequest.model_validate({"annotations__completed_by": {"only_id": False}})
    export = client.projects.exports.create(project_id, title="examples", serialization_options=options)
    while client.projects.exports.get(project_id, export.id).status != "completed":
        time.sleep(0.2)
    written = {}
    for kind, name in FILES.items():
        if kind != "JSON":
            client.projects.exports.convert(project_id, export.id, export_type=kind)
            _converted(client, project_id, export.id, kind)
        data = b"".join(client.projects.exports.download(project_id, export.id, export_type=kind))
        (folder / name).write_bytes(data)
        written[kind] = folder / name
    return written


def _converted(client, project_id: int, export_id: int, kind: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        formats = client.projects.exports.get(project_id, export_id).converted_formats or []
        if any(f.export_type == kind and f.status == "completed" for f in formats):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not convert export {export_id} to {kind}")


Votes = list[tuple[str, str, str | None, bool, bool]]


def _json(path: Path) -> Votes:
    """(sample, annotator, label, cancelled, ground truth) of every annotation of a JSON export."""
    rows = []
    for task in json.loads(path.read_text("utf-8")):
        for a in task["annotations"]:
            label = a["result"][0]["value"]["choices"][0] if a["result"] else None
            rows.append(
                (task["data"]["sample_id"], a["completed_by"]["email"], label, a["was_cancelled"], a["ground_truth"])
            )
    return sorted(rows, key=str)


def _min(rows: list[dict[str, object]]) -> list[tuple[str, str, str]]:
    return sorted((str(r["sample_id"]), str(r.get("annotator") or ""), str(r.get("label") or "")) for r in rows)


def _expected() -> Votes:
    return sorted(
        (
            (sample, email, label, label is None, truth)
            for sample, plan in SCENARIO.items()
            for email, label, truth in plan
        ),
        key=str,
    )


def _expected_min() -> list[tuple[str, str, str]]:
    """JSON_MIN and CSV: a row per non-cancelled annotation, an empty one for a task without any, none for s4."""
    rows = [(s, e, label) for s, plan in SCENARIO.items() for e, label, _ in plan if label is not None]
    return sorted(rows + [("s5", "", "")])


@pytest.mark.slow
def test_the_example_exports_are_the_servers(label_studio: LabelStudioServer, make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(SCENARIO_CLASSES, title="alops example exports")
    project_id = build(label_studio, config.al, tmp_path / "batch")
    written = download(label_studio, project_id, tmp_path)
    if os.environ.get("UPDATE_EXPORTS"):
        for path in written.values():
            (EXPORTS / path.name).write_bytes(path.read_bytes())
    for folder in (tmp_path, EXPORTS):  # what the server writes now, and what is committed
        assert _json(folder / FILES["JSON"]) == _expected()
        assert _min(json.loads((folder / FILES["JSON_MIN"]).read_text("utf-8"))) == _expected_min()
        assert _min(list(csv.DictReader(io.StringIO((folder / FILES["CSV"]).read_text("utf-8"))))) == _expected_min()
    assert ADMIN in (EXPORTS / FILES["CSV"]).read_text("utf-8")
