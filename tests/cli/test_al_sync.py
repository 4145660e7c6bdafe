"""``alops al sync`` end to end: what it prints, its exit codes, its help."""

from __future__ import annotations

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
    """experiment/lr checked out; al/digits has rounds 1-3 (tests/al_repo.py)."""
    return al_repo.copy(*al_repo.template(tmp_path_factory.getbasetemp()), tmp_path / "repo", tmp_path / "remote")


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "al", "sync", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sync_prints_what_it_brought_and_the_next_step_then_is_up_to_date(repo: Path) -> None:
    tip = git(repo, "rev-parse", "al/digits").strip()[:12]
    old = {name: git(repo, "show", f"HEAD:{name}") for name in ("data/full.dvc",)}

    code, out, err = invoke(repo, "--from", "al/digits")

    head = git(repo, "rev-parse", "HEAD").strip()[:12]
    new = git(repo, "show", "al/digits:data/full.dvc")
    md5 = [next(x.split(": ")[1] for x in t.splitlines() if "md5" in x) for t in (old["data/full.dvc"], new)]
    labels = next(x.split(": ")[1] for x in git(repo, "show", "HEAD:data/labels.dvc").splitlines() if "md5" in x)
    assert (code, err) == (0, "")
    assert out == (
        f"Synced the data of al/digits@{tip} in commit {head}: rounds 1, 2, 3 (+12 labels)\n"
        f"  data/full.dvc: {md5[0]} -> {md5[1]}\n"
        f"  data/labels.dvc: new -> {labels}\n"
        "Next: `alops data pull` (or `dvc pull`) gets the data, then `dvc repro` trains on it.\n"
    )

    code, out, err = invoke(repo, "--from", "al/digits")

    assert (code, out, err) == (0, f"Already up to date with al/digits@{tip}: no data version to bring.\n", "")
    assert git(repo, "rev-parse", "HEAD").strip()[:12] == head


def test_a_conflict_is_exit_2_with_the_file_and_what_to_do(repo: Path) -> None:
    rows = al_repo.read_rows(repo / "data/full/labelled.csv")
    al_repo.write_rows(repo / "data/full/labelled.csv", rows[:-1])
    al_repo.dvc(repo, "add", "-q", "data/full")
    git(repo, "commit", "-q", "-m", "one label less", "--", "data/full.dvc")

    code, out, err = invoke(repo, "--from", "al/digits")

    assert (code, out) == (EXIT_CONFIG, "")
    assert err.startswith("Error: cannot sync from al/digits: these data files changed on both branches since")
    assert "\n  data/full.dvc: this branch " in err
    assert "Nothing was changed." in err


def test_help_ends_with_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["al", "sync", "--help"], catch_exceptions=False)

    assert result.exit_code == 0
    assert "--from BRANCH" in result.stdout
    assert result.stdout.split("\nOptions:")[0].rstrip().endswith("(--pull); 130 interrupted.")
    assert "Exit codes: 0 synced, or already up to date; 2 no such branch" in result.stdout
