"""``alops reproduce``: a real run of the example project, rerun from its manifest in a worktree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_DATA, EXIT_NOT_REPRODUCED


def invoke(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(project / "alops.yaml"), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def worktrees(project: Path) -> list[str]:
    out = subprocess.run(["git", "worktree", "list", "--porcelain"], cwd=project, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if line.startswith("worktree ")]


@pytest.fixture
def ran(project: Path) -> Path:
    """The project after `alops run --flow feature` (dev data) with one --set: its manifest."""
    code, _, err = invoke(project, "run", "--flow", "feature", "--set", "train.C=10.0")
    assert (code, err) == (0, ""), err
    return project / "alops-manifest.json"


@pytest.mark.slow
def test_a_run_reproduces_and_a_tampered_metric_does_not(project: Path, ran: Path, tmp_path: Path) -> None:
    written = json.loads(ran.read_text())
    accuracy = written["metrics"]["metrics/dev.json"]["accuracy"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout

    objects = {p for p in (project / ".dvc" / "cache" / "files").rglob("*") if p.is_file()}

    code, out, err = invoke(project, "reproduce", str(ran))

    assert (code, err) == (0, ""), out + err
    assert all(p.is_file() for p in objects), "removing the worktree kept the main cache's objects"
    lines = out.splitlines()
    assert lines[0] == (f"Reproducing commit {head[:12]} (ref main, the feature flow on the dev dataset) from {ran}")
    assert "Running stage 'train@dev'" in out and "is cached" not in out, out
    start = next(i for i, line in enumerate(lines) if line.startswith("metric ") and line.endswith("  same?"))
    table = [line.split() for line in lines[start:-1]]
    assert table[0] == ["metric", "manifest", "rerun", "same?"]
    assert ["metrics/dev.json", "accuracy", repr(accuracy), repr(accuracy), "yes"] in table
    assert len(table) == 1 + len(written["metrics"]["metrics/dev.json"]) and all(r[-1] == "yes" for r in table[1:])
    assert lines[-1] == "Reproduced: the rerun's metrics equal the manifest's."
    assert worktrees(project) == [f"worktree {project}"], "the worktree is removed"
    assert (
        subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout == status
    )

    written["metrics"]["metrics/dev.json"]["accuracy"] = accuracy - 0.125
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(written))

    code, out, err = invoke(project, "reproduce", str(tampered), "--keep", "--workdir", str(tmp_path / "wt"))

    assert code == EXIT_NOT_REPRODUCED, out + err
    assert err.startswith(
        f"Error: not reproduced: metrics/dev.json accuracy: manifest {accuracy - 0.125!r}, rerun {accuracy!r}: "
    )
    assert any(line.startswith("metrics/dev.json accuracy") and line.endswith("NO") for line in out.splitlines())
    assert f"kept     {tmp_path / 'wt'}" in out.splitlines()
    assert "  C: 10.0\n" in (tmp_path / "wt" / "params.yaml").read_text(), "the manifest's --set was applied"
    subprocess.run(["git", "worktree", "remove", "--force", str(tmp_path / "wt")], cwd=project, check=True)


@pytest.mark.slow
def test_a_different_data_version_is_named(project: Path, ran: Path, tmp_path: Path) -> None:
    written = json.loads(ran.read_text())
    real = written["data"]["data/dev"]
    written["data"]["data/dev"] = "0" * 32 + ".dir"
    written["params"]["params.yaml"]["train.seed"] = 7  # edited by hand, not with --set: the commit has 42
    changed = tmp_path / "m.json"
    changed.write_text(json.dumps(written))

    code, out, err = invoke(project, "reproduce", str(changed))

    assert code == EXIT_NOT_REPRODUCED
    assert f"data     data/dev: data version differs: manifest 000000000000, rerun {real[:12]}" in out.splitlines()
    assert "params   params.yaml: train.seed: not as the manifest has it" in out.splitlines()
    assert err.startswith(
        "Error: not reproduced: params.yaml: train.seed differs; data/dev: a different data version: "
    ), err


def test_a_commit_the_clone_lacks(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"alops_manifest": 1, "commit": "b" * 40, "dataset": "dev", "stages": ["train@dev"]}))
    code, out, err = invoke(project, "reproduce", str(path))
    assert code == EXIT_DATA
    assert err == (
        f"Error: commit {'b' * 40} of {path} is not in this clone: run `git fetch origin {'b' * 40}` and try again\n"
    )
    assert worktrees(project) == [f"worktree {project}"]


def test_a_corrupt_manifest(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"alops_manifest": 1, "metrics": ')
    code, out, err = invoke(project, "reproduce", str(path))
    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith(f"Error: {path} is not a run manifest: not JSON (")
    assert "Traceback" not in err


def test_a_dirty_manifest_is_warned_about(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps({"alops_manifest": 1, "commit": "c" * 40, "dirty": True, "dataset": "dev", "stages": ["x"]})
    )
    code, _, err = invoke(project, "reproduce", str(path))
    assert code == EXIT_DATA
    assert err.startswith(
        f"Warning: {path} was written in a workspace with uncommitted changes (dirty): the rerun uses the commit "
        "as committed, so it may not reproduce\n"
    )


def test_a_pipeline_url_reads_the_manifest_from_its_run_job(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import responses
    from responses import matchers

    token = "glpat-" + "x1y2z3" * 4
    monkeypatch.setenv("ALOPS_GITLAB_TOKEN", token)
    api = "https://gitlab.example.com/api/v4/projects/ml%2Fdigits"
    body = {"alops_manifest": 1, "commit": "d" * 40, "dataset": "dev", "stages": ["train@dev"]}
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(
            f"{api}/pipelines/9/jobs",
            json=[{"id": 3, "name": "alops-plan"}, {"id": 4, "name": "alops-run-gpu"}],
            match=[matchers.header_matcher({"PRIVATE-TOKEN": token})],
        )
        mock.get(f"{api}/jobs/4/artifacts/alops-manifest.json", json=body)
        code, out, err = invoke(project, "reproduce", "https://gitlab.example.com/ml/digits/-/pipelines/9")
    where = "job alops-run-gpu (4) of https://gitlab.example.com/ml/digits/-/pipelines/9"
    assert out.startswith(f"Reproducing commit dddddddddddd (the dev dataset) from {where}\n")
    assert (code, err) == (
        EXIT_DATA,
        f"Error: commit {'d' * 40} of {where} is not in this clone: run `git fetch origin {'d' * 40}` and try again\n",
    )
