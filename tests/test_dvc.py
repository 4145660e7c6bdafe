"""alops.dvc against real DVC: a real local-directory remote, real failures."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from alops import dvc
from alops.errors import EXIT_DATA, EXIT_FAILURE, EXIT_TOOL, AlopsError, ConfigError, DataError, ToolError

#: The environment the tests pass down, as the command line passes os.environ (the autouse fixture cleaned it).
ENV = os.environ


def test_pull_fetches_only_the_targets(project: Path) -> None:
    dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)
    assert (project / "data/dev/labelled.csv").is_file()
    assert not (project / "data/full").exists()


def test_a_remote_that_is_not_configured_is_named(project: Path) -> None:
    with pytest.raises(DataError) as caught:
        dvc.pull(["data/dev.dvc"], remote="nope", cwd=project, env=ENV)
    assert caught.value.exit_code == EXIT_DATA
    assert str(caught.value) == (
        "DVC remote `nope` is not configured: run `dvc remote add nope s3://…` "
        "(or name a configured remote in alops.yaml, datasets.<name>.remote)"
    )


def test_no_remote_at_all_says_how_to_add_one(project: Path) -> None:
    (project / ".dvc/config").write_text("")
    (project / ".dvc/config.local").unlink()
    with pytest.raises(DataError, match=r"^no DVC remote is configured: run `dvc remote add -d storage s3://…`"):
        dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)


def test_no_remote_is_an_error_even_when_the_cache_has_everything(project: Path) -> None:
    dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)
    (project / ".dvc/config").write_text("")
    (project / ".dvc/config.local").unlink()
    # DVC itself exits 0 here ("Everything is up to date"), which would hide
    # the missing remote until a CI job's clean clone fails.
    with pytest.raises(DataError, match="no DVC remote is configured"):
        dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)


def test_objects_missing_from_the_remote(project: Path, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "remote" / "files")
    with pytest.raises(DataError) as caught:
        dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)
    assert re.fullmatch(
        r"\d+ files? needed by `dvc pull data/dev.dvc` (is|are) on neither the local cache nor the default DVC "
        r"remote: run `dvc push` where the data was added, or check that the remote's URL is right and reachable "
        r"\(`dvc remote list`\)",
        str(caught.value),
    )


def test_credentials_in_a_remote_url_are_never_shown(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")
    url = "http://alice:s3cret-pass@127.0.0.1:9/store"
    (project / ".dvc/config.local").write_text(f"['remote \"storage\"']\n    url = {url}\n")
    with pytest.raises(AlopsError) as caught:
        dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)
    assert "s3cret-pass" not in str(caught.value)
    assert "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY" not in str(caught.value)


def test_a_failing_stage_is_a_pipeline_failure_with_its_error(project: Path) -> None:
    dvc.pull(["data/dev.dvc"], cwd=project, env=ENV)
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("model: logreg", "model: bogus"))
    with pytest.raises(AlopsError) as caught:
        dvc.repro(["train@dev"], cwd=project, quiet=True, env=ENV)
    assert caught.value.exit_code == EXIT_FAILURE
    assert str(caught.value).startswith("`dvc repro train@dev` failed with exit code")
    assert "unknown model 'bogus'" in str(caught.value)


def test_a_streamed_failure_points_at_the_output_above(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AlopsError) as caught:
        dvc.repro(["nonexistent@dev"], cwd=project, env=ENV)
    assert caught.value.exit_code == EXIT_FAILURE
    assert str(caught.value).endswith("DVC's output above says which stage and why")
    assert "nonexistent@dev" in capfd.readouterr().err


def test_outside_a_dvc_repository_says_how_to_set_one_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        dvc.pull(["data/dev.dvc"], cwd=tmp_path, env=ENV)
    assert str(caught.value) == (
        f"{tmp_path} is not in a DVC repository: run `dvc init` in the project's git repository "
        "(examples/project-skeleton/README.md lists the one-time steps)"
    )


def test_a_tool_failure_keeps_dvc_s_message(project: Path) -> None:
    with pytest.raises(ToolError) as caught:
        dvc.add(["missing"], cwd=project, env=ENV)
    assert caught.value.exit_code == EXIT_TOOL
    assert str(caught.value).startswith("`dvc add missing` failed with exit code ")
    assert "missing" in str(caught.value).split(":", 1)[1]


def test_config_is_dvc_s_merged_one_every_level_later_files_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "user"
    user.mkdir()
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(user))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "none"))
    (user / "config").write_text("[core]\n    remote = global\n['remote \"global\"']\n    url = /g\n")
    root = tmp_path / "repo"
    (root / ".dvc").mkdir(parents=True)
    (root / ".dvc/config").write_text(
        "[core]\n    no_scm = true\n    remote = storage\n['remote \"storage\"']\n    url = s3://b/p\n"
        "    endpointurl = http://h:9\n"
    )
    (root / ".dvc/config.local").write_text(
        "['remote \"storage\"']\n    access_key_id = AKIAIOSFODNN7EXAMPLE\n[cache]\n    dir = ../../shared\n"
        '    type = "reflink,copy"\n'
    )
    found = dvc.get_remote(root, env=os.environ)
    assert (found.name, found.url, found.scheme) == ("storage", "s3://b/p", "s3")
    assert found.options["endpointurl"] == "http://h:9"
    assert "AKIA" not in repr(found)  # options may hold secrets: not in reprs or tracebacks
    assert dvc.get_remote(root, "global", env=os.environ).url == "/g"
    # The environment passed is the one DVC reads: without the variable, the user's config is not found.
    with pytest.raises(DataError, match=r"^DVC remote `global` is not configured"):
        dvc.get_remote(root, "global", env={k: v for k, v in os.environ.items() if k != "DVC_GLOBAL_CONFIG_DIR"})
    assert dvc.cache_dir(root, os.environ) == tmp_path / "shared"  # relative to the file that says it
    assert dvc.config(root, env=os.environ)["cache"]["type"] == "reflink,copy"
    with pytest.raises(DataError, match=r"^DVC remote `nope` is not configured: run `dvc remote add nope s3://…`"):
        dvc.get_remote(root, "nope", env=os.environ)


def test_the_default_cache_and_a_project_without_a_remote(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc/config").write_text("[core]\n    no_scm = true\n")
    assert dvc.cache_dir(tmp_path, ENV) == tmp_path / ".dvc/cache"
    with pytest.raises(DataError, match="^no DVC remote is configured"):
        dvc.get_remote(tmp_path, env=ENV)


@pytest.mark.parametrize("password", ["pa/ss", "p@ss/w:rd", "s3cret-pass"])
def test_credentials_in_a_remote_url_are_never_shown_even_with_slashes(
    project: Path, password: str, capfd: pytest.CaptureFixture[str]
) -> None:
    url = f"http://alice:{password}@127.0.0.1:9/store"
    (project / ".dvc/config.local").write_text(f"['remote \"storage\"']\n    url = {url}\n")
    for progress in (False, True):
        with pytest.raises(AlopsError) as caught:
            dvc.pull(["data/dev.dvc"], cwd=project, progress=progress, env=ENV)
        shown = capfd.readouterr()
        for text in (str(caught.value), shown.out, shown.err):
            assert password not in text and "alice" not in text, text
