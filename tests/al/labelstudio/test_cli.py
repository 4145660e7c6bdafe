"""``alops al export --to label-studio`` and ``alops al pull --from label-studio``: what a user types and sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from labelstudio_server import ADMIN, LabelStudioServer, annotate, closed_port

from alops.al.labelstudio import connection
from alops.al.query.batch import BatchRow, write_batch
from alops.cli import cli


def invoke(config, *args: str, env: dict[str, str]) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["-c", str(config.path), "al", *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _batch(config) -> Path:  # type: ignore[no-untyped-def]
    folder = config.root / config.al.batch_dir
    write_batch([BatchRow(i, f"s{i}", 0.5, "margin", "cat", 0.6) for i in range(3)], folder, model_version="m")
    return folder


@pytest.mark.slow
def test_export_then_pull(label_studio: LabelStudioServer, make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config(title="alops cli test")
    _batch(config)

    code, out, err = invoke(config, "export", "--to", "label-studio", env=label_studio.env())
    assert (code, err) == (0, "")
    project_id = int(out.split("(created, id ")[1].split(")")[0])
    assert out == (
        f"Label Studio project 'alops cli test' (created, id {project_id}): imported 3 of 3 tasks: "
        f"{label_studio.url}/projects/{project_id}/data\n"
    )
    code, out, err = invoke(config, "export", "--to", "label-studio", env=label_studio.env())
    assert (code, out) == (
        0,
        f"Label Studio project 'alops cli test' (unchanged, id {project_id}): imported 0 of 3 tasks, "
        f"3 already there: {label_studio.url}/projects/{project_id}/data\n",
    )

    with label_studio.client() as client:
        annotate(client, project_id, {"s1": [(ADMIN, "dog", False), ("eve@example.com", None, False)]})
    code, out, err = invoke(config, "pull", "--from", "label-studio", env=label_studio.env())
    target = config.root / config.al.batch_dir / "label-studio-export.json"
    assert (code, out, err) == (0, f"Wrote 1 annotated task (2 annotations) to {target}\n", "")
    assert [t["data"]["sample_id"] for t in json.loads(target.read_text("utf-8"))] == ["s1"]

    elsewhere = config.root / "labels.json"
    code, out, err = invoke(config, "pull", "--from", "label-studio", "--out", str(elsewhere), env=label_studio.env())
    assert (code, out) == (0, f"Wrote 1 annotated task (2 annotations) to {elsewhere}\n")


def test_without_url_or_token_exit_2(make_config) -> None:  # type: ignore[no-untyped-def]
    config = make_config()
    code, out, err = invoke(config, "pull", "--from", "label-studio", env={})
    assert (code, out) == (2, "")
    assert "set ALOPS_LABEL_STUDIO_URL and ALOPS_LABEL_STUDIO_TOKEN" in err


def test_a_server_that_is_down_exit_3_and_no_token_shown(make_config, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(connection, "BACKOFF", 0.01)
    config = make_config()
    _batch(config)
    token = "0a1b2c3d4e" * 4
    env = {"ALOPS_LABEL_STUDIO_URL": closed_port(), "ALOPS_LABEL_STUDIO_TOKEN": token}
    code, out, err = invoke(config, "export", "--to", "label-studio", env=env)
    assert (code, out) == (3, "")
    assert err.startswith("Error: Label Studio at http://127.0.0.1:") and "cannot be reached" in err
    assert token not in err


def test_export_needs_the_classes(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(
        "version: 1\ndatasets:\n  full: {targets: [data/full.dvc]}\n  dev: {targets: [data/dev.dvc]}\n"
        "pipeline:\n  train: [train]\nactive_learning:\n  batch_size: 3\n"
    )
    result = CliRunner().invoke(
        cli, ["-c", str(tmp_path / "alops.yaml"), "al", "export", "--to", "label-studio"], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "alops al export needs active_learning.classes in alops.yaml" in result.stderr


def test_help_names_the_variables_and_exit_codes() -> None:
    for command in ("export", "pull"):
        result = CliRunner().invoke(cli, ["al", command, "--help"], catch_exceptions=False)
        text = " ".join(result.stdout.split())
        assert "ALOPS_LABEL_STUDIO_URL" in text and "ALOPS_LABEL_STUDIO_RETRIES" in text
        assert "Exit codes: 0" in text
