"""``alops al score``: the example project's scoring stage, run by DVC against its local remote."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG


@pytest.mark.slow
def test_scores_the_pool_of_the_full_data(project: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(project / "alops.yaml"), "al", "score"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last.startswith("Scored the pool: score@full, ") and " files of full pulled (" in last, last
    scores = (project / "scores/full/scores.csv").read_text().splitlines()
    assert scores[0].split(",")[0] == "id" and len(scores) > 100


def test_no_scoring_stage_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "alops.yaml").write_text(
        "version: 1\ndatasets:\n  full: {targets: [data/full.dvc]}\n  dev: {targets: [data/dev.dvc]}\n"
        "pipeline:\n  train: [train]\n"
    )
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "alops.yaml"), "al", "score", "--no-pull"])
    assert result.exit_code == EXIT_CONFIG
    assert "pipeline.score names no stage" in result.stderr
