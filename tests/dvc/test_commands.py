"""alops.dvc.commands: one DVC operation each (``pull``, ``push``, ``checkout``, ``repro``, ``init``, ``add``, …).

On the tiny real DVC repository of ``conftest.py`` (a file, a directory, a
local remote) and, for the tests moved from ``tests/test_dvc.py``, on the
example project (``project``: a fresh clone with its own copy of the remote).
The counts of pull and push are tested in ``test_transfer.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from alops import dvc
from alops.dvc import commands
from alops.errors import EXIT_DATA, EXIT_FAILURE, EXIT_TOOL, AlopsError, ConfigError, DataError, ToolError

#: The environment the tests pass down, as the command line passes os.environ (the autouse fixture cleaned it).
ENV = os.environ

STAGE = "stages:\n  copy:\n    cmd: cp data/raw.csv out.csv\n    deps: [data/raw.csv]\n    outs: [out.csv]\n"


def test_init_makes_a_git_repository_a_dvc_one_once(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    commands.init(cwd=tmp_path, env=ENV)
    assert (tmp_path / ".dvc/config").is_file()
    with pytest.raises(ToolError, match=r"^`dvc init` failed with exit code 1:\n.*\.dvc.*exists"):
        commands.init(cwd=tmp_path, env=ENV)


def test_add_tracks_a_path_in_the_cache(tiny_copy: Path) -> None:
    (tiny_copy / "data/new.csv").write_text("id\n1\n")
    commands.add(["data/new.csv"], cwd=tiny_copy, env=ENV)
    assert "path: new.csv" in (tiny_copy / "data/new.csv.dvc").read_text()
    assert "/new.csv" in (tiny_copy / "data/.gitignore").read_text().splitlines()


def test_add_remote_writes_the_repository_s_or_the_local_config(tiny_copy: Path) -> None:
    commands.add_remote("full", "s3://bucket/full", cwd=tiny_copy, default=False, env=ENV)
    assert "s3://bucket/full" in (tiny_copy / ".dvc/config").read_text()
    assert commands.get_remote(tiny_copy, env=ENV).name == "storage"  # not made the default
    commands.add_remote("mine", "/elsewhere", cwd=tiny_copy, local=True, env=ENV)
    assert "/elsewhere" in (tiny_copy / ".dvc/config.local").read_text()
    assert "/elsewhere" not in (tiny_copy / ".dvc/config").read_text()  # a local remote is not committed
    mine = commands.get_remote(tiny_copy, env=ENV)  # now the default
    assert (mine.name, mine.url, mine.options["url"]) == ("mine", "/elsewhere", "/elsewhere")
    commands.add_remote("full", "s3://bucket/other", cwd=tiny_copy, env=ENV)  # --force: replaced
    assert commands.get_remote(tiny_copy, "full", env=ENV).url == "s3://bucket/other"


def test_get_remote_is_the_default_one_or_the_one_named(tiny: Path) -> None:
    found = commands.get_remote(tiny, env=ENV)
    assert (found.name, found.url, found.scheme) == ("storage", str(tiny.parent / "remote"), "local")
    assert commands.get_remote(tiny, "storage", env=ENV).url == found.url
    with pytest.raises(DataError, match=r"^DVC remote `full` is not configured"):
        commands.get_remote(tiny, "full", env=ENV)


def test_use_cache_dir_changes_the_local_config_once(tiny_copy: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-cache"
    assert commands.use_cache_dir(shared, cwd=tiny_copy, env=ENV) is True
    assert shared.is_dir() and commands.cache_dir(tiny_copy, ENV) == shared
    cache = commands.config(tiny_copy, env=ENV)["cache"]
    assert (cache["dir"], cache["shared"], cache["type"]) == (str(shared), "group", dvc.SHARED_CACHE_TYPE)
    assert "shared-cache" in (tiny_copy / ".dvc/config.local").read_text()
    assert "shared-cache" not in (tiny_copy / ".dvc/config").read_text()
    assert commands.use_cache_dir(shared, cwd=tiny_copy, env=ENV) is False  # already so: nothing written


def test_checkout_restores_the_workspace_from_the_cache(tiny_copy: Path, tiny_files: dict[str, str]) -> None:
    (tiny_copy / "data/raw.csv").unlink()
    shutil.rmtree(tiny_copy / "data/dir")
    shutil.rmtree(tiny_copy.parent / "remote")  # no network needed
    commands.checkout(["data/raw.csv.dvc", "data/dir.dvc"], cwd=tiny_copy, env=ENV)
    assert {p: (tiny_copy / p).read_text() for p in tiny_files} == tiny_files


def test_repro_runs_the_stages_quietly(tiny_copy: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (tiny_copy / "dvc.yaml").write_text(STAGE)
    commands.repro(["copy"], cwd=tiny_copy, quiet=True, env=ENV)
    assert (tiny_copy / "out.csv").read_text() == (tiny_copy / "data/raw.csv").read_text()
    assert "copy" in (tiny_copy / "dvc.lock").read_text()
    assert capfd.readouterr().out == ""


def test_the_steps_for_several_operations_in_one_child() -> None:
    assert commands.repro_step(["train@dev"], pull=True) == {
        "op": "repro",
        "targets": ["train@dev"],
        "pull": True,
        "force": False,
    }
    assert commands.cache_step("/c") == {"op": "cache", "dir": "/c", "type": ["reflink", "hardlink", "symlink", "copy"]}


# --- moved from tests/test_dvc.py -------------------------------------------------------------


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
