"""``alops al ingest`` end to end on a real git + DVC project: output, exit codes, --strict, --recover, CI pushes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from al.ingest import repo
from click.testing import CliRunner

from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA

pytestmark = pytest.mark.slow


@pytest.fixture
def project(clean_env: None, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    base = tmp_path_factory.getbasetemp() / "ingest-template"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        repo.make_template(base)
        (base / "ready").touch()
    return repo.copy(base, tmp_path)


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "al", "ingest", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_prints_what_it_did_and_where_the_rejected_rows_are(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x"), ("p002", "=c", "y"), ("s001", "a", "z")])
    code, out, err = invoke(project, str(source))
    sha = repo.git(project, "rev-parse", "HEAD").strip()
    assert (code, err) == (0, "")
    assert out == (
        f"Ingested round 1: +2 labels (0 pseudo) from {source}; labelled set 12 rows, pool 38; commit {sha[:12]}\n"
        f"Rejected 1 rows (all in {project}/.alops/al/batch/rejected.csv):\n"
        "  l.csv:4: 's001': already labelled 'b': labels are never rewritten\n"
    )
    assert repo.git(project, "rev-list", "--count", "origin/al/test..HEAD").strip() == "1"  # not pushed: not in CI


def test_in_ci_the_ingest_pushes(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    code, out, _ = invoke(project, str(repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])))
    assert code == 0 and out.splitlines()[1] == "Pushed the data to the DVC remote and the commit to git"
    assert repo.git(project.parent / "origin.git", "rev-parse", repo.BRANCH) == repo.git(project, "rev-parse", "HEAD")


def test_strict_is_exit_4_and_changes_nothing(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x"), ("p002", "d", "y")])
    code, out, err = invoke(project, str(source), "--strict")
    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith(f"Error: 1 rows of {source} were rejected and --strict is set: nothing was ingested; ")
    assert repo.git(project, "status", "--porcelain") == "" and "p001" in repo.ids(project / "data/full/unlabelled.csv")


def test_nothing_accepted_is_exit_0_without_a_commit(project: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(project, str(repo.label_file(tmp_path / "l.csv", [("nope", "a", "x")])))
    assert code == 0
    assert (
        out.splitlines()[0]
        == f"Nothing to ingest from {tmp_path}/l.csv: no new label was accepted; nothing was committed"
    )


def test_data_not_pulled_is_exit_4(project: Path, tmp_path: Path) -> None:
    shutil.rmtree(project / "data/full")
    code, _, err = invoke(project, str(repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])))
    assert code == EXIT_DATA
    assert err == (
        "Error: data/full/unlabelled.csv is not in the working tree: it is DVC-tracked data; run `alops data pull` "
        "(or `dvc pull`) and then the ingest again\n"
    )


def test_a_config_without_the_labelled_set_is_exit_2(project: Path, tmp_path: Path) -> None:
    text = (project / "alops.yaml").read_text().replace("  labelled: data/full/labelled.csv\n", "")
    (project / "alops.yaml").write_text(text)
    code, _, err = invoke(project, str(tmp_path / "l.csv"))
    assert (code, err) == (
        EXIT_CONFIG,
        "Error: alops al ingest needs active_learning.labelled in alops.yaml (see `alops config schema`).\n",
    )


def test_a_file_or_label_studio_not_both_nor_neither(project: Path, tmp_path: Path) -> None:
    for args in ([], [str(tmp_path / "l.csv"), "--from", "label-studio"]):
        code, _, err = invoke(project, *args)
        assert (code, err) == (
            EXIT_CONFIG,
            "Error: name a label FILE or --from label-studio (one of the two): see `alops al ingest --help`\n",
        )


def test_recover_discards_what_was_staged_before_the_journal(project: Path) -> None:
    assert invoke(project, "--recover") == (0, "Nothing to recover\n", "")
    state = project / ".alops/al/ingest"
    state.mkdir(parents=True)
    (project / "data/.full.alops-ingest").mkdir()
    (state / "stages.json").write_text(json.dumps(["data/.full.alops-ingest"]))
    code, out, _ = invoke(project, "--recover")
    assert (code, out) == (
        0,
        "Discarded what an ingest stopped before its commit point had staged (nothing had changed)\n",
    )
    assert not (project / "data/.full.alops-ingest").exists()


def test_help_ends_with_the_exit_codes(project: Path) -> None:
    code, out, _ = invoke(project, "--help")
    text = out.split("Options:")[0]
    assert code == 0 and "Exit codes: 0 ingested" in text and text.rstrip().endswith("130 interrupted.")
