"""alops.dvc.child: ``python -m alops.dvc.child REQUEST RESULT`` itself, the protocol both sides rely on.

A JSON request in (``{"ops": [...], "quiet": ...}``), a JSON answer in the
file ``RESULT`` (``results``, ``failure``, ``remote``) and an exit code; run on
the real tiny DVC repository (``conftest.py``) with the environment the parent
would give it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alops.dvc import environment


@dataclass
class Answer:
    returncode: int
    answer: dict[str, Any]
    stdout: str
    stderr: str


def child(cwd: Path, ops: list[dict[str, Any]], *, quiet: bool = True) -> Answer:
    request = json.dumps({"ops": ops, "quiet": quiet})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        done = subprocess.run(
            [sys.executable, "-m", "alops.dvc.child", request, str(out)],
            cwd=cwd,
            env=environment(os.environ),
            capture_output=True,
            text=True,
        )
        answer = json.loads(out.read_text("utf-8"))
    return Answer(done.returncode, answer, done.stdout, done.stderr)


def test_each_step_s_result_in_order_with_its_time_and_the_remote_used(tiny: Path) -> None:
    got = child(tiny, [{"op": "config"}, {"op": "objects", "targets": ["data/raw.csv.dvc"]}])
    assert got.returncode == 0
    assert set(got.answer) == {"results", "failure", "remote"} and got.answer["failure"] is None
    config, objects = got.answer["results"]
    assert config["cache_dir"] == str(tiny / ".dvc/cache") and len(objects["present"]) == 1
    assert all(isinstance(r["seconds"], float) for r in got.answer["results"])
    assert got.answer["remote"]["name"] == "storage"  # the one the config step looked up


def test_a_step_that_says_stop_ends_the_request(tiny: Path) -> None:
    push = {"op": "push", "targets": [], "check_credentials": False}  # nothing to push: stop, do not push
    got = child(tiny, [push, {"op": "config"}])
    assert got.returncode == 0
    assert [r.get("stop") for r in got.answer["results"]] == [True]
    assert got.answer["results"][0]["outputs"] == 0


def test_a_failed_step_keeps_the_results_before_it_and_is_said_on_stderr(tiny: Path) -> None:
    got = child(tiny, [{"op": "config"}, {"op": "bogus"}, {"op": "config"}])
    assert got.returncode == 1
    assert len(got.answer["results"]) == 1
    failure = got.answer["failure"]
    assert (failure["kind"], failure["op"], failure["said"][-1]) == ("tool", "bogus", "ERROR: KeyError: 'bogus'")
    assert got.stderr.rstrip().endswith("ERROR: KeyError: 'bogus'")  # as DVC's command line says it


def test_dvc_s_own_failure_is_classified_by_its_type(tiny: Path, tmp_path: Path) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    got = child(outside, [{"op": "config"}])
    assert got.returncode == 1
    assert (got.answer["failure"]["kind"], got.answer["failure"]["op"]) == ("not_repo", "config")
    assert got.answer["remote"] is None


def test_a_failure_alops_detects_is_its_own_kind(tiny: Path) -> None:
    got = child(tiny, [{"op": "pull", "targets": ["data/raw.csv.dvc"], "remote": "nope"}])
    assert got.returncode == 1
    assert (got.answer["failure"]["kind"], got.answer["failure"]["name"]) == ("unknown_remote", "nope")


def test_quiet_keeps_the_child_s_own_lines_back(tiny_copy: Path) -> None:
    pull = {"op": "pull", "targets": ["data/raw.csv.dvc"]}
    (tiny_copy / "data/raw.csv").unlink()
    assert child(tiny_copy, [pull], quiet=True).stdout == ""
    (tiny_copy / "data/raw.csv").unlink()
    shown = child(tiny_copy, [pull], quiet=False)
    assert shown.returncode == 0 and "A       data/raw.csv" in shown.stdout.splitlines()
