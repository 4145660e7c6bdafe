"""alops release (the command): what it prints, its exit codes, the dotenv it leaves for the tag pipeline."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_GATE


def invoke(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(repo / "alops.yaml"), "release", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_release_prints_the_gate_the_package_and_the_tag(trained: Path, monkeypatch: object) -> None:
    monkeypatch.chdir(trained)  # type: ignore[attr-defined]
    code, out, err = invoke(trained, "--dotenv", "alops-release.env")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("pass  accuracy = 0.9") and lines[0].endswith("meets min 0.85 (must be >= 0.85)")
    assert f"digits-1.0.0.tar.gz: file://{trained / '.alops/registry/digits/1.0.0/digits-1.0.0.tar.gz'}" in lines
    assert lines[-2].startswith("no model registry: set MLFLOW_TRACKING_URI")
    assert lines[-1] == f"released digits 1.0.0: tag digits@v1.0.0 (the git repository {trained})"
    assert (trained / "alops-release.env").read_text() == (
        "ALOPS_RELEASE_MODEL=digits\nALOPS_RELEASE_VERSION=1.0.0\nALOPS_RELEASE_TAG=digits@v1.0.0\n"
    )
    code, out, _ = invoke(trained)
    assert code == 0
    assert out.splitlines()[-1] == "digits 1.0.0 is this commit's release already (digits@v1.0.0): nothing to do"


def test_a_failed_gate_exits_6_and_says_nothing_was_released(trained: Path) -> None:
    config = trained / "alops.yaml"
    config.write_text(config.read_text().replace("accuracy: {min: 0.85,", "accuracy: {min: 0.999,"))
    code, out, err = invoke(trained)
    assert code == EXIT_GATE
    assert out == ""
    assert err.startswith(
        "Error: 1 of 2 quality gates failed: nothing was released (no package, no registration, no tag)"
    )
    assert "Traceback" not in err


def test_a_dry_run_and_a_branch_that_is_not_a_release_branch(trained: Path) -> None:
    code, out, _ = invoke(trained, "--dry-run", "--bump", "minor")
    assert code == 0
    assert out.splitlines()[-1] == "would release digits 1.0.0 as digits@v1.0.0 (dry run: nothing released)"
    code, _, err = invoke(trained, "--branch", "experiment/lr")
    assert code == EXIT_CONFIG
    assert "experiment/lr is not one (its role: experiment): push the commit to release/X.Y" in err


def test_help_names_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["release", "--help"])
    assert result.exit_code == 0
    assert "Exit codes: 0 released (or already); 2 bad alops.yaml" in " ".join(result.stdout.split())
