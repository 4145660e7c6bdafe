"""alops.dvc.process: the environment DVC runs in, and one child process per list of steps, on a real DVC repo.

The steps are the child's protocol (``{"op": ..., ...}`` in, one JSON result
each out); a failed step is the AlopsError it stands for, named as DVC's
command line would name that step.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from alops import dvc
from alops.dvc.process import TRANSFER_DEFAULTS, command_line, environment, run
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_TOOL, ConfigError, DataError, ToolError

#: The environment the tests pass down, as the command line passes os.environ (the autouse fixture cleaned it).
ENV = os.environ
BIN = os.path.dirname(sys.executable)


# --- environment() ----------------------------------------------------------------------------


def test_this_interpreter_s_scripts_come_first_on_path() -> None:
    assert environment({"PATH": "/opt/bin:/bin"})["PATH"] == os.pathsep.join([BIN, "/opt/bin:/bin"])
    assert environment({})["PATH"] == BIN + os.pathsep + os.defpath  # no PATH: the system's default after it


def test_transfer_defaults_only_where_the_environment_sets_none() -> None:
    env = environment({"AWS_MAX_ATTEMPTS": "7", "ALOPS_S3_READ_TIMEOUT": "", "PYTHONUNBUFFERED": "0"})
    assert env["AWS_MAX_ATTEMPTS"] == "7"
    assert env["ALOPS_S3_READ_TIMEOUT"] == TRANSFER_DEFAULTS["ALOPS_S3_READ_TIMEOUT"]  # empty is unset
    assert env["PYTHONUNBUFFERED"] == "0"
    assert {k: env[k] for k in TRANSFER_DEFAULTS if k != "AWS_MAX_ATTEMPTS"} == {
        k: v for k, v in TRANSFER_DEFAULTS.items() if k != "AWS_MAX_ATTEMPTS"
    }


def test_nothing_is_read_from_this_process_s_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_MAX_ATTEMPTS": "9",
        "ALOPS_S3_RETRIES": "9",
        "AWS_SECRET_ACCESS_KEY": "from-the-shell",
        "PATH": "/from/the/shell",
        "PYTHONUNBUFFERED": "0",
    }.items():
        monkeypatch.setenv(key, value)
    passed = {"HOME": "/home/job"}
    env = environment(passed)
    assert env == {"HOME": "/home/job", "PATH": BIN + os.pathsep + os.defpath, "PYTHONUNBUFFERED": "1"} | dict(
        TRANSFER_DEFAULTS
    )
    assert passed == {"HOME": "/home/job"}  # the caller's mapping is not changed


def test_command_line_says_a_step_as_dvc_s_command_line_would() -> None:
    assert (
        command_line({"op": "pull", "remote": "s3", "targets": ["data/dev.dvc"]}) == "dvc pull --remote s3 data/dev.dvc"
    )
    assert command_line({"op": "add", "paths": ["my data", "b"]}) == "dvc add 'my data' b"
    assert command_line({"op": "push", "targets": None, "remote": None}) == "dvc push"


def test_an_op_of_two_words_is_not_quoted_as_one() -> None:
    assert command_line({"op": "add_remote", "name": "x", "url": "/x"}) == "dvc remote add x /x"


# --- run(): steps in, results out -----------------------------------------------------------


def test_steps_run_in_one_child_and_give_their_results_in_order(tiny: Path) -> None:
    results = run([{"op": "config"}, {"op": "objects", "targets": ["data/raw.csv.dvc"]}], cwd=tiny, env=ENV)
    assert len(results) == 2
    config, objects = results
    assert config["cache_dir"] == str(tiny / ".dvc/cache")
    remote = str(tiny.parent / "remote")
    assert (config["remote"]["name"], config["remote"]["url"], config["remote"]["options"]["url"]) == (
        "storage",
        remote,
        remote,
    )
    assert [Path(p).parent.parent.name for p in objects["present"].values()] == ["md5"]
    assert all(r["seconds"] >= 0 for r in results)


def test_a_failed_step_is_the_error_it_stands_for_and_stops_the_rest(tiny_copy: Path) -> None:
    before = (tiny_copy / ".dvc/config").read_text()
    steps: list[dict[str, Any]] = [
        {"op": "config"},
        {"op": "add", "paths": ["missing"]},
        {"op": "add_remote", "name": "x", "url": "/x"},
    ]
    with pytest.raises(ToolError) as caught:
        run(steps, cwd=tiny_copy, env=ENV)
    assert caught.value.exit_code == EXIT_TOOL
    assert str(caught.value).startswith("`dvc add missing` failed with exit code 1:\n")
    assert "missing" in str(caught.value).split(":", 1)[1]
    assert (tiny_copy / ".dvc/config").read_text() == before  # the step after it never ran


def test_shown_names_the_command_in_messages(tiny: Path) -> None:
    with pytest.raises(ToolError, match=r"^`alops data add` failed with exit code 1"):
        run([{"op": "add", "paths": ["missing"]}], cwd=tiny, env=ENV, shown="alops data add")


def test_a_step_of_alops_s_own_names_the_remote_it_used(tiny_copy: Path) -> None:
    (tiny_copy / "data/raw.csv").unlink()  # on neither the workspace, the cache nor the remote
    for path in (tiny_copy / ".dvc/cache", tiny_copy.parent / "remote"):
        for obj in path.rglob("*"):
            if obj.is_file():
                obj.unlink()
    step = {"op": "pull", "targets": ["data/raw.csv.dvc"]}
    with pytest.raises(DataError) as caught:
        run([step], cwd=tiny_copy, env=ENV)
    assert caught.value.exit_code == EXIT_DATA
    assert str(caught.value).startswith(
        "1 file needed by `dvc pull data/raw.csv.dvc` is on neither the local cache nor the default DVC remote:"
    )
    with pytest.raises(DataError, match=r"on neither the local cache nor DVC remote `storage`:"):
        run([step | {"name_remote": True}], cwd=tiny_copy, env=ENV)


def test_the_failed_step_is_named_even_after_a_step_of_the_same_op(tiny: Path) -> None:
    steps = [{"op": "objects", "targets": ["data/raw.csv.dvc"]}, {"op": "objects", "targets": ["nowhere.dvc"]}]
    with pytest.raises(ToolError, match=r"^`dvc objects nowhere.dvc` failed"):
        run(steps, cwd=tiny, env=ENV)


def test_a_child_that_dies_before_answering_is_a_tool_error_with_its_output_redacted(
    tiny: Path, tmp_path: Path
) -> None:
    # A site hook that stops the interpreter before alops's child runs (as an import error or a signal would).
    (tmp_path / "sitecustomize.py").write_text(
        "import os, sys\nsys.stderr.write('boom AKIAIOSFODNN7EXAMPLE ' + os.environ['MY_TOKEN'] + '\\n')\nos._exit(3)\n"
    )
    env = dict(ENV) | {"PYTHONPATH": str(tmp_path), "MY_TOKEN": "tok-secret-987654"}
    with pytest.raises(ToolError) as caught:
        run([{"op": "config"}], cwd=tiny, env=env)
    assert str(caught.value) == "DVC stopped with exit code 3:\nboom *** ***"


def test_outside_a_dvc_repository_is_a_config_error_naming_the_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        run([{"op": "config"}], cwd=tmp_path, env=ENV)
    assert caught.value.exit_code == EXIT_CONFIG
    assert str(caught.value).startswith(f"{tmp_path} is not in a DVC repository: run `dvc init`")


# --- moved from tests/test_dvc.py -------------------------------------------------------------


def test_dvc_is_this_interpreter_s_and_so_is_the_stages_python() -> None:
    assert dvc.environment({"PATH": "/bin"})["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)


def test_the_environment_bounds_s3_transfers_unless_the_user_says_otherwise() -> None:
    env = dvc.environment({"PATH": "/bin", "AWS_MAX_ATTEMPTS": "7"})
    assert env["AWS_MAX_ATTEMPTS"] == "7"  # the user's own setting wins
    assert (env["AWS_RETRY_MODE"], env["ALOPS_S3_RETRIES"], env["ALOPS_S3_READ_TIMEOUT"]) == ("standard", "2", "10")
    # The bound that docs and tests rely on: s3fs tries x botocore attempts x the read timeout.
    d = dvc.TRANSFER_DEFAULTS
    assert int(d["ALOPS_S3_RETRIES"]) * int(d["AWS_MAX_ATTEMPTS"]) * float(d["ALOPS_S3_READ_TIMEOUT"]) <= 60
