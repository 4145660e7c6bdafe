"""``alops devset build`` never writes where it would destroy something: ``alops.devset.build.output``."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from devset.build.test_run import SIZES, configure, regular_rows, snapshot, write

from alops.cli import cli
from alops.devset.build.run import build
from alops.errors import ConfigError

AT = r"alops\.yaml:\d+: datasets\.dev\.build\.output: "


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=root, check=True)
    write(root / "data/full.csv", regular_rows(SIZES))
    (root / "src").mkdir()
    (root / "src/train.py").write_text("print('train')\n")
    (root / "notes.txt").write_text("mine\n")
    (tmp_path / "outside").mkdir()
    (root / "data/elsewhere").symlink_to(tmp_path / "outside")
    return root


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (
            "src",
            r"is a folder that is not a dev set alops built \(no src\.report\.json written by alops "
            r"for it beside it\), and a build replaces its output: point output at a new path",
        ),
        ("notes.txt", r"is a file that is not a dev set alops built"),
        (".git", r"is inside \.git or \.dvc: give a path outside them"),
        (".git/objects/dev.csv", r"is inside \.git or \.dvc"),
        ("../../x.csv", r"leaves the repository .*/repo: give a path inside it"),
        ("data/elsewhere/dev.csv", r"leaves the repository .*/repo through a symbolic link"),
        (".", r"is the project folder \(or holds it\)"),
        ("data", r"holds the full data data/full\.csv: give the dev set a path of its own"),
        ("data/full.csv", r"holds the full data"),
    ],
)
def test_outputs_that_would_destroy_something_are_refused(repo: Path, output: str, message: str) -> None:
    # alops.yaml's checks refuse some of these already; the builder refuses them again, whoever calls it.
    spec = dataclasses.replace(
        configure(repo, source="data/full.csv", output="data/dev.csv", label="label"), output=output
    )
    before = snapshot(repo)

    with pytest.raises(ConfigError, match=AT + re.escape(output) + " " + message):
        build(spec, track=False)

    assert snapshot(repo) == before
    assert os.listdir(repo.parent / "outside") == []


def test_an_absolute_output_is_refused(repo: Path, tmp_path: Path) -> None:
    spec = configure(repo, source="data/full.csv", output="data/dev.csv", label="label")
    spec = dataclasses.replace(spec, output=str(tmp_path / "dev.csv"))
    with pytest.raises(ConfigError, match=AT + r".*dev\.csv is an absolute path: give a path inside the repository"):
        build(spec, track=False)
    assert not (tmp_path / "dev.csv").exists()


def test_a_dev_set_alops_built_is_replaced_and_one_built_for_another_output_is_not(repo: Path) -> None:
    spec = configure(repo, source="data/full.csv", output="data/dev.csv", label="label")
    build(spec, track=False)
    build(configure(repo, source="data/full.csv", output="data/dev.csv", label="label", seed=3), track=False)
    assert json.loads((repo / "data/dev.csv.report.json").read_text())["seed"] == 3

    # A copy of a dev set and its report under another name: the report names the other output.
    (repo / "data/copy.csv").write_bytes((repo / "data/dev.csv").read_bytes())
    (repo / "data/copy.csv.report.json").write_bytes((repo / "data/dev.csv.report.json").read_bytes())
    with pytest.raises(ConfigError, match=AT + r"data/copy\.csv is a file that is not a dev set alops built"):
        build(configure(repo, source="data/full.csv", output="data/copy.csv", label="label"), track=False)


def test_the_command_exits_2_and_leaves_the_source_code(repo: Path) -> None:
    configure(repo, source="data/full.csv", output="src", label="label")

    result = CliRunner().invoke(cli, ["-c", str(repo / "alops.yaml"), "devset", "build", "--no-track"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "src is a folder that is not a dev set alops built" in result.stderr
    assert (repo / "src/train.py").read_text() == "print('train')\n"
