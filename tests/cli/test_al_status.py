"""``alops al status`` end to end: the text table, the JSON, the plot, a project without a pool."""

from __future__ import annotations

import json
from pathlib import Path

import al_repo
import pytest
from al_repo import git
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    root = al_repo.copy(*al_repo.template(tmp_path_factory.getbasetemp()), tmp_path / "repo", tmp_path / "remote")
    git(root, "checkout", "-q", "al/digits")
    al_repo.dvc(root, "checkout", "-q", "--force")
    return root


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "al", "status", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_status_as_text(repo: Path) -> None:
    code, out, err = invoke(repo)

    assert (code, err) == (0, "")
    assert out == (
        "pool       data/full/unlabelled.csv: 12 samples\n"
        "labelled   data/full/labelled.csv: 18 samples (a 10, b 8)\n"
        "new labels 2 since the last trained model (round 2)\n"
        "rounds     3\n"
        "\n"
        "round  date        strategy  batch  accepted  rejected  pseudo  labelled  accuracy  loss.val\n"
        "1      2026-01-01  margin    10     4         0         0       10        0.1       0.9\n"
        "2      2026-01-02  margin    10     6         1         0       16        0.16      0.84\n"
        "3      2026-01-03  entropy   10     2         0         3       18        -         -\n"
    )


def test_status_as_json_with_a_plot(repo: Path, tmp_path: Path) -> None:
    code, out, err = invoke(repo, "--format", "json", "--plot", str(tmp_path / "curve.png"))

    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["pool_size"], data["labelled_size"], data["per_class"]) == (12, 18, {"a": 10, "b": 8})
    assert [r["number"] for r in data["rounds"]] == [1, 2, 3]
    assert [p["labelled"] for p in data["learning_curve"]] == [10, 16]
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_project_without_a_pool_is_exit_2(repo: Path) -> None:
    config = repo / "alops.yaml"
    config.write_text(config.read_text().replace("  pool: data/full/unlabelled.csv\n", ""))

    code, out, err = invoke(repo)

    assert (code, out) == (EXIT_CONFIG, "")
    assert err == "Error: alops al status needs active_learning.pool in alops.yaml (see `alops config schema`).\n"


def test_help_ends_with_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["al", "status", "--help"], catch_exceptions=False)

    assert result.exit_code == 0
    assert "--format [text|json]" in result.stdout
    assert (
        result.stdout.split("\nOptions:")[0]
        .rstrip()
        .endswith("4 a data file or round record is unreadable; 130 interrupted.")
    )
