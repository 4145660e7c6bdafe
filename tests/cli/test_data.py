"""``alops data pull`` on a real clone of the example project."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA


def invoke(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(project / "alops.yaml"), "data", "pull", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_pull_for_a_feature_branch(project: Path) -> None:
    code, out, err = invoke(project, "--branch", "feature/x")
    assert (code, err) == (0, "")
    assert re.fullmatch(
        r"Pulled the dev dataset for the feature flow \(data/dev\.dvc\) from the default DVC remote: "
        r"2 files in the workspace, \d+\.\d s\n",
        out,
    ), out
    assert (project / "data/dev/labelled.csv").is_file() and not (project / "data/full").exists()


def test_pull_a_named_dataset_needs_no_branch(project: Path) -> None:
    subprocess.run(["git", "checkout", "--quiet", "--detach"], cwd=project, check=True)
    code, out, err = invoke(project, "--dataset", "full")
    assert (code, err) == (0, "")
    assert out.startswith(
        "Pulled the full dataset (data/full.dvc) from the default DVC remote: 2 files in the workspace, "
    )


def test_pull_without_a_remote_says_how_to_add_one(project: Path) -> None:
    (project / ".dvc/config").write_text("")
    (project / ".dvc/config.local").unlink()
    code, out, err = invoke(project, "--branch", "feature/x")
    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        "Error: no DVC remote is configured: run `dvc remote add -d storage s3://…` and commit .dvc/config "
        "(or name a remote in alops.yaml, datasets.<name>.remote)\n"
    )


def test_an_unknown_dataset_is_a_usage_error(project: Path) -> None:
    code, out, err = invoke(project, "--dataset", "huge")
    assert code == EXIT_CONFIG
    assert "Invalid value for '--dataset': 'huge' is not one of 'auto', 'dev', 'full'." in err
