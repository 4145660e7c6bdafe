"""``export_batch`` against a real Label Studio: the project, its interface, the tasks, each sample once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from labelstudio_server import LabelStudioServer, Misbehaving, task_ids

from alops.al.labelstudio import connection, export_batch, exporting
from alops.al.labelstudio.interface import instructions, label_config
from alops.al.query.batch import BatchRow, write_batch
from alops.errors import ConfigError, DataError, ToolError

pytestmark = pytest.mark.slow  # a real server (started once per session, about a minute)


def batch(folder: Path, samples: list[str], classes: tuple[str, ...] = ("cat", "dog")) -> Path:
    rows = [BatchRow(i, s, 0.9 - 0.1 * i, "margin", classes[i % len(classes)], 0.6) for i, s in enumerate(samples)]
    write_batch(rows, folder, model_version="scores-v1")
    return folder


@pytest.fixture
def proxy(label_studio: LabelStudioServer) -> Iterator[Misbehaving]:
    """The real server behind a proxy told to fail some requests."""
    server = Misbehaving(label_studio.url)
    yield server
    server.close()


def test_the_first_export_creates_the_project_with_the_interface_and_the_tasks(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    al = make_config(("cat", "dog"), instructions="Pick the animal.").al
    report = export_batch(al.label_studio, al, batch(tmp_path, ["a", "b", "c"]), env=label_studio.env())

    assert (report.project_action, report.in_batch, report.imported, report.already) == ("created", 3, 3, 0)
    assert report.url == f"{label_studio.url}/projects/{report.project_id}/data"
    with label_studio.client() as client:
        created = client.projects.get(report.project_id)
        assert (created.title, created.label_config) == (al.label_studio.project, label_config(["cat", "dog"]))
        assert (created.expert_instruction, created.show_instruction) == ("Pick the animal.", True)
        ids = task_ids(client, report.project_id)
        assert sorted(ids) == ["a", "b", "c"]
        task = client.tasks.get(ids["b"])
    assert task.data == {"sample_id": "b", "index": 1, "score": 0.8, "strategy": "margin"}
    (prediction,) = task.predictions
    assert (prediction.model_version, prediction.score) == ("scores-v1", 0.6)
    assert prediction.result == [
        {"from_name": "label", "to_name": "sample", "type": "choices", "value": {"choices": ["dog"]}}
    ]


def test_the_pool_columns_alops_yaml_names_travel_in_each_task_and_the_interface_shows_them(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    config = make_config(fields={"image_url": "image", "caption": "text"})
    pool = config.root / "data/pool.csv"
    pool.parent.mkdir()
    pool.write_text(
        "id,image_url,caption,p0\n"
        "a,https://example.com/a.png,=HYPERLINK(1),1\n"
        "b,https://example.com/b.png,a <b>bold</b> claim,2\n"
        "c,,,3\n",
        encoding="utf-8",
    )
    al = config.al
    report = export_batch(al.label_studio, al, batch(tmp_path, ["b", "c", "z"]), env=label_studio.env(), pool=pool)

    assert report.imported == 3
    with label_studio.client() as client:
        created = client.projects.get(report.project_id)
        assert created.label_config == label_config(["cat", "dog"], {"image_url": "image", "caption": "text"})
        ids = task_ids(client, report.project_id)
        data = {sample: client.tasks.get(ids[sample]).data for sample in ("b", "c", "z")}
    assert (data["b"]["image_url"], data["b"]["caption"]) == ("https://example.com/b.png", "a <b>bold</b> claim")
    assert (data["c"]["image_url"], data["c"]["caption"]) == ("", "")
    assert (data["z"]["image_url"], data["z"]["caption"]) == ("", "")  # not in the pool (any more): blank


def test_fields_the_pool_lacks_are_a_config_error(make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(fields={"caption": "text"})
    pool = config.root / "data/pool.csv"
    pool.parent.mkdir()
    pool.write_text("id,p0\na,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"the pool pool.csv has no column caption \(its columns: id, p0\)"):
        export_batch(config.al.label_studio, config.al, batch(tmp_path, ["a"]), env={}, pool=pool)
    with pytest.raises(DataError, match="does not exist: run `alops data pull`"):
        export_batch(config.al.label_studio, config.al, batch(tmp_path, ["a"]), env={}, pool=tmp_path / "nope.csv")


def test_a_second_export_imports_nothing_and_a_new_batch_only_its_new_samples(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    al = make_config().al
    first = batch(tmp_path / "one", ["a", "b", "c"])
    export_batch(al.label_studio, al, first, env=label_studio.env())

    again = export_batch(al.label_studio, al, first, env=label_studio.env())
    assert (again.project_action, again.imported, again.already) == ("unchanged", 0, 3)

    later = export_batch(al.label_studio, al, batch(tmp_path / "two", ["c", "d", "b", "e"]), env=label_studio.env())
    assert (later.project_action, later.in_batch, later.imported, later.already) == ("unchanged", 4, 2, 2)
    with label_studio.client() as client:
        tasks = list(client.tasks.list(project=later.project_id, fields="task_only"))
    assert sorted(t.data["sample_id"] for t in tasks) == ["a", "b", "c", "d", "e"]  # each once


def test_more_tasks_than_a_page_are_all_seen(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "PAGE", 3)
    monkeypatch.setattr(exporting, "CHUNK", 4)
    al = make_config().al
    samples = [f"s{i:02}" for i in range(10)]
    assert export_batch(al.label_studio, al, batch(tmp_path, samples), env=label_studio.env()).imported == 10
    assert export_batch(al.label_studio, al, batch(tmp_path, samples), env=label_studio.env()).imported == 0


def test_a_changed_alops_yaml_updates_the_interface(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    al = make_config(("cat", "dog")).al
    export_batch(al.label_studio, al, batch(tmp_path / "one", ["a"]), env=label_studio.env())
    changed = make_config(("cat", "dog", "bird"), title=al.label_studio.project, instructions="Birds <too>").al

    report = export_batch(changed.label_studio, changed, batch(tmp_path / "two", ["b"]), env=label_studio.env())

    assert (report.project_action, report.imported) == ("updated", 1)
    with label_studio.client() as client:
        updated = client.projects.get(report.project_id)
    assert updated.label_config == label_config(["cat", "dog", "bird"])
    assert updated.expert_instruction == instructions("Birds <too>") == "Birds &lt;too&gt;"


def test_hostile_class_names_are_labels_on_the_server(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    hostile = ("=cmd|' /C calc'!A0", "<b>", '"quote"', "$sample_id")
    al = make_config(hostile).al
    report = export_batch(al.label_studio, al, batch(tmp_path, ["a", "b"], hostile), env=label_studio.env())
    with label_studio.client() as client:
        project = client.projects.get(report.project_id)
    assert project.parsed_label_config["label"]["labels"] == list(hostile)


def test_an_import_whose_answer_was_lost_is_not_imported_twice(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, proxy: Misbehaving, make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "BACKOFF", 0.01)
    al = make_config().al
    proxy.fail(502, match="/import", forward=True)  # the server imports, the proxy loses its answer

    report = export_batch(
        al.label_studio,
        al,
        batch(tmp_path, ["a", "b", "c"]),
        env=label_studio.env() | {"ALOPS_LABEL_STUDIO_URL": proxy.url},
    )

    assert (report.imported, report.already) == (3, 0)  # put there by the try whose answer was lost
    with label_studio.client() as client:
        assert sorted(task_ids(client, report.project_id)) == ["a", "b", "c"]
        assert client.projects.get(report.project_id).task_number == 3
    assert sum("/import" in r for r in proxy.requests) == 1  # the retry saw them there and sent nothing


def test_an_export_that_failed_midway_is_finished_by_running_it_again(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, proxy: Misbehaving, make_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "BACKOFF", 0.01)
    monkeypatch.setattr(exporting, "CHUNK", 2)
    al = make_config().al
    env = label_studio.env() | {"ALOPS_LABEL_STUDIO_URL": proxy.url, "ALOPS_LABEL_STUDIO_RETRIES": "1"}
    folder = batch(tmp_path, ["a", "b", "c", "d", "e"])
    proxy.fail(503, times=2, match="/import", after=1)  # the first chunk goes in, the second fails twice

    with pytest.raises(ToolError, match=r"answered 503 when asked to import 2 tasks after 2 tries"):
        export_batch(al.label_studio, al, folder, env=env)
    with label_studio.client() as client:
        project_id = exporting.project.find(connection.connect(label_studio.env()), client, al.label_studio.project)
        assert sorted(task_ids(client, project_id)) == ["a", "b"]

    report = export_batch(al.label_studio, al, folder, env=env)

    assert (report.imported, report.already) == (3, 2)
    with label_studio.client() as client:
        assert sorted(task_ids(client, project_id)) == ["a", "b", "c", "d", "e"]


def test_two_projects_of_one_title_are_refused(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    al = make_config().al
    with label_studio.client() as client:
        for _ in range(2):
            client.projects.create(title=al.label_studio.project, label_config=label_config(["x"]))
    with pytest.raises(ConfigError, match="has 2 projects titled .* rename or delete all but one"):
        export_batch(al.label_studio, al, batch(tmp_path, ["a"]), env=label_studio.env())


def test_no_tasks_json(make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    al = make_config().al
    with pytest.raises(DataError, match=r"tasks.json does not exist: run `alops al query` first"):
        export_batch(al.label_studio, al, tmp_path, env={})


def test_a_wrong_token_is_refused_with_what_to_do(  # type: ignore[no-untyped-def]
    label_studio: LabelStudioServer, make_config, tmp_path: Path
) -> None:
    al = make_config().al
    wrong = "f" * 40
    with pytest.raises(
        DataError, match=r"refused the token in ALOPS_LABEL_STUDIO_TOKEN .* \(401: Invalid token"
    ) as caught:
        export_batch(al.label_studio, al, batch(tmp_path, ["a"]), env=label_studio.env(ALOPS_LABEL_STUDIO_TOKEN=wrong))
    assert wrong not in str(caught.value) and "legacy" in str(caught.value)
