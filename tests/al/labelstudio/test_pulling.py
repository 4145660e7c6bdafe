"""``pull`` against a real Label Studio: the annotated tasks, every annotator and skip, in one file written whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labelstudio_server import ADMIN, LabelStudioServer, Misbehaving, annotate

from alops.al.labelstudio import connection, export_batch, pull
from alops.al.query.batch import BatchRow, write_batch
from alops.errors import ConfigError, ToolError

pytestmark = pytest.mark.slow  # a real server (started once per session, about a minute)

HOSTILE = ("=cmd|' /C calc'!A0", "<b>", '"quote"')


def exported(server: LabelStudioServer, config, folder: Path, samples: list[str]) -> int:  # type: ignore[no-untyped-def]
    classes = config.al.classes
    rows = [BatchRow(i, s, 0.5, "entropy", classes[i % len(classes)], 0.7) for i, s in enumerate(samples)]
    write_batch(rows, folder, model_version="m")
    return export_batch(config.al.label_studio, config.al, folder, env=server.env()).project_id


def test_pull_writes_every_annotation_with_its_annotator_and_the_sample_id(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    config = make_config(HOSTILE)
    project_id = exported(label_studio, config, tmp_path / "batch", ["s1", "s2", "s3", "s4"])
    with label_studio.client() as client:
        annotate(
            client,
            project_id,
            {
                "s1": [("ann@example.com", HOSTILE[0], False), ("ben@example.com", HOSTILE[2], True)],
                "s2": [("ann@example.com", None, False)],  # skipped
                "s3": [(ADMIN, HOSTILE[1], False)],
            },
        )
    out = tmp_path / "pulled" / "export.json"

    assert pull(config.al.label_studio, config.al, out, env=label_studio.env()) == out

    tasks = {task["data"]["sample_id"]: task for task in json.loads(out.read_text("utf-8"))}
    assert sorted(tasks) == ["s1", "s2", "s3"]  # s4 has no annotation
    votes = {
        sample: sorted(
            (
                a["completed_by"]["email"],
                a["result"][0]["value"]["choices"][0] if a["result"] else None,
                a["was_cancelled"],
                a["ground_truth"],
            )
            for a in task["annotations"]
        )
        for sample, task in tasks.items()
    }
    assert votes == {
        "s1": [("ann@example.com", "=cmd|' /C calc'!A0", False, False), ("ben@example.com", '"quote"', False, True)],
        "s2": [("ann@example.com", None, True, False)],
        "s3": [(ADMIN, "<b>", False, False)],
    }
    annotation = tasks["s3"]["annotations"][0]
    assert annotation["created_at"].endswith("Z") and annotation["updated_at"].endswith("Z")
    assert tasks["s3"]["data"] == {"sample_id": "s3", "index": 2, "score": 0.5, "strategy": "entropy"}
    assert [p.name for p in out.parent.iterdir()] == ["export.json"]  # no temporary file left


def test_a_second_pull_replaces_the_file(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    config = make_config()
    exported(label_studio, config, tmp_path / "batch", ["a", "b"])
    out = tmp_path / "export.json"
    pull(config.al.label_studio, config.al, out, env=label_studio.env())
    assert json.loads(out.read_text("utf-8")) == []  # nothing annotated yet
    with label_studio.client() as client:
        project_id = client.projects.list(title=config.al.label_studio.project).items[0].id
        annotate(client, project_id, {"a": [(ADMIN, "dog", False)]})

    pull(config.al.label_studio, config.al, out, env=label_studio.env())

    assert [t["data"]["sample_id"] for t in json.loads(out.read_text("utf-8"))] == ["a"]


def test_pull_from_a_project_that_does_not_exist(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    config = make_config(title="alops no such project")
    with pytest.raises(ConfigError, match="has no project titled 'alops no such project': run `alops al export"):
        pull(config.al.label_studio, config.al, tmp_path / "out.json", env=label_studio.env())
    assert not (tmp_path / "out.json").exists()


def test_a_download_that_fails_leaves_the_previous_file(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "BACKOFF", 0.01)
    config = make_config()
    project_id = exported(label_studio, config, tmp_path / "batch", ["a"])
    out = tmp_path / "pulled" / "export.json"
    out.parent.mkdir()
    out.write_text("previous\n")
    proxy = Misbehaving(label_studio.url)
    try:
        proxy.fail(502, times=3, match="/download")
        env = label_studio.env(ALOPS_LABEL_STUDIO_URL=proxy.url, ALOPS_LABEL_STUDIO_RETRIES="2")
        with pytest.raises(ToolError, match="answered 502 when asked to download the export after 3 tries"):
            pull(config.al.label_studio, config.al, out, env=env)
        assert out.read_text() == "previous\n" and [p.name for p in out.parent.iterdir()] == ["export.json"]

        proxy.fail(503, match="/download")  # once: the retry gets it
        pull(config.al.label_studio, config.al, out, env=env)
    finally:
        proxy.close()
    assert json.loads(out.read_text("utf-8")) == []
    with label_studio.client() as client:
        assert list(client.projects.exports.list(project_id)) == []  # each pull removed its export from the server
