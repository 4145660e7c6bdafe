"""ingest(): one round end to end on a real git + DVC project with a local remote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from al.ingest import repo

from alops.al.ingest import ingest, recover
from alops.config import load_config
from alops.errors import ConfigError, DataError

NOW = "2026-12-02T03:00:00Z"
pytestmark = pytest.mark.slow


def _dvc_status(root: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "dvc", "status", "-q"], cwd=root, capture_output=True, text=True)
    return f"{done.returncode}:{done.stdout}"


def test_one_ingest_is_one_commit_of_the_dvc_files_and_a_pushed_data_version(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "labels.csv", [("p001", "a", "ann"), ("p003", "=c", "=bob"), ("nope", "a", "")])
    before_pool = (project / "data/full/unlabelled.csv").read_bytes().decode()
    before_labelled = (project / "data/full/labelled.csv").read_bytes().decode()
    head = repo.git(project, "rev-parse", "HEAD").strip()

    report = ingest(load_config(project / "alops.yaml"), source, env=dict(os.environ), push=True, strict=False, now=NOW)

    assert (report.round, len(report.accepted), len(report.rejected), report.pushes) == (1, 2, 1, 1)
    assert repo.git(project, "rev-parse", "HEAD~1").strip() == head
    changed = repo.git(project, "diff", "--name-only", "HEAD~1", "HEAD").split()
    assert changed == ["data/.gitignore", "data/full.dvc", "data/labels.dvc"]
    message = repo.git(project, "log", "-1", "--format=%B")
    assert message.startswith("alops al ingest: round 1, +2 labels (0 pseudo)\n\n")
    assert "ALOps-Round: 1\nALOps-Labels: 2\nALOps-Ingest: " in message
    # Rows that stay are byte for byte what they were; moved rows are at the end of the labelled set, labelled.
    pool = (project / "data/full/unlabelled.csv").read_bytes().decode()
    assert pool == before_pool.replace('p001,,,0.5,"note 1, with a comma"\n', "").replace(
        'p003,,,1.5,"two\nlines"\n', ""
    )
    labelled = (project / "data/full/labelled.csv").read_bytes().decode()
    assert labelled == before_labelled + 'p001,a,,0.5,"note 1, with a comma"\np003,=c,,1.5,"two\nlines"\n'
    log = repo.rows(project / "data/labels/round-0001.csv")
    assert [(r["id"], r["label"], r["annotator"], r["source"], r["round"]) for r in log] == [
        ("p001", "a", "ann", "human", "1"),
        ("p003", "'=c", "'=bob", "human", "1"),
    ]
    record = json.loads((project / "data/labels/round-0001.json").read_text())
    assert record["accepted"] == 2 and record["rejected"] == 1 and record["labelled_after"] == 12
    assert record["pool_after"] == 38 and record["source"] == "file" and record["ingest_id"] in message
    assert repo.rows(project / ".alops/al/batch/rejected.csv") == [
        {"sample_id": "nope", "reason": "unknown sample id 'nope': not in the pool", "where": "labels.csv:4"}
    ]
    assert _dvc_status(project) == "0:"
    assert (
        repo.git(project.parent / "origin.git", "rev-parse", repo.BRANCH).strip()
        == repo.git(project, "rev-parse", "HEAD").strip()
    )
    # Everything of the new version is on the DVC remote: a fresh clone pulls it.
    other = repo.clone(project.parent, "other")
    assert repo.ids(other / "data/full/labelled.csv")[-2:] == ["p001", "p003"]
    assert (other / "data/labels/round-0001.csv").is_file()
    assert not (project / ".alops/al/ingest/journal.json").exists()
    assert sorted(p.name for p in (project / "data").iterdir()) == [
        ".gitignore",
        "full",
        "full.dvc",
        "labels",
        "labels.dvc",
    ]


def test_a_second_round_numbers_on_and_relabelling_is_rejected(project: Path, tmp_path: Path) -> None:
    config, env = load_config(project / "alops.yaml"), dict(os.environ)
    ingest(config, repo.label_file(tmp_path / "1.csv", [("p001", "a", "x")]), env=env, push=False, strict=False)
    second = ingest(
        config, repo.label_file(tmp_path / "2.csv", [("p001", "b", "x"), ("p002", "b", "y")]), env=env,
        push=False, strict=False,
    )  # fmt: skip
    assert (second.round, [x.sample_id for x in second.accepted]) == (2, ["p002"])
    assert [r.reason for r in second.rejected] == ["already labelled 'a': labels are never rewritten"]
    assert sorted(p.name for p in (project / "data/labels").iterdir()) == [
        "round-0001.csv", "round-0001.json", "round-0002.csv", "round-0002.json",
    ]  # fmt: skip
    assert repo.git(project, "status", "--porcelain") == ""


def test_strict_refuses_everything_when_one_row_is_rejected(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x"), ("p002", "zz", "y")])
    head = repo.git(project, "rev-parse", "HEAD")
    with pytest.raises(DataError, match=r"1 rows of .* were rejected and --strict is set: nothing was ingested"):
        ingest(load_config(project / "alops.yaml"), source, env=dict(os.environ), push=False, strict=True)
    assert repo.git(project, "rev-parse", "HEAD") == head
    assert "p001" in repo.ids(project / "data/full/unlabelled.csv")
    assert repo.rows(project / ".alops/al/batch/rejected.csv")[0]["reason"].startswith(
        "class 'zz' is not in the label set"
    )


def test_nothing_accepted_is_no_commit(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("s001", "a", "x")])
    head = repo.git(project, "rev-parse", "HEAD")
    report = ingest(load_config(project / "alops.yaml"), source, env=dict(os.environ), push=True, strict=False)
    assert (report.commit, report.pushes, len(report.rejected)) == (None, 0, 1)
    assert repo.git(project, "rev-parse", "HEAD") == head
    assert not (project / "data/labels").exists()


def test_data_that_was_not_pulled_is_exit_4(project: Path, tmp_path: Path) -> None:
    (project / "data/full/unlabelled.csv").unlink()
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])
    with pytest.raises(DataError, match=r"data/full/unlabelled.csv is not in the working tree: .*`alops data pull`"):
        ingest(load_config(project / "alops.yaml"), source, env=dict(os.environ), push=False, strict=False)


def test_a_pool_dvc_does_not_track_is_a_config_error(project: Path, tmp_path: Path) -> None:
    text = (project / "alops.yaml").read_text().replace("data/full/unlabelled.csv", "pool.csv")
    (project / "alops.yaml").write_text(text)
    (project / "pool.csv").write_text(repo.HEADER)
    with pytest.raises(ConfigError, match=r"alops.yaml:\d+: active_learning.pool \(pool.csv\) is not tracked by DVC"):
        ingest(load_config(project / "alops.yaml"), tmp_path / "l.csv", env=dict(os.environ), push=False, strict=False)


def test_uncommitted_changes_to_a_dvc_file_refuse_the_ingest(project: Path, tmp_path: Path) -> None:
    with (project / "data/full.dvc").open("a") as fh:
        fh.write("# mine\n")
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])
    with pytest.raises(ConfigError, match=r"data/full.dvc: uncommitted changes; an ingest commits these files"):
        ingest(load_config(project / "alops.yaml"), source, env=dict(os.environ), push=False, strict=False)


def test_recover_with_nothing_to_do(project: Path) -> None:
    assert recover(project, dict(os.environ)).action == "nothing"


def test_pseudo_labels_go_to_the_log_flagged_and_stay_in_the_pool(project: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = (project / "alops.yaml").read_text() + "  scores: scores.parquet\n  pseudo_labels: {min_confidence: 0.9}\n"
    (project / "alops.yaml").write_text(text)
    scores = {"id": ["p001", "p002", "p004"], "a": [0.99, 0.5, 0.01], "b": [0.01, 0.5, 0.97], "=c": [0.0, 0.0, 0.02]}
    pq.write_table(pa.table(scores), project / "scores.parquet")
    source = repo.label_file(tmp_path / "l.csv", [("p001", "b", "ann")])
    report = ingest(load_config(project / "alops.yaml"), source, env=dict(os.environ), push=False, strict=False)
    assert (len(report.accepted), len(report.pseudo)) == (1, 1)
    assert repo.git(project, "log", "-1", "--format=%s") == "alops al ingest: round 1, +1 labels (1 pseudo)\n"
    log = repo.rows(project / "data/labels/round-0001.csv")
    assert [(r["id"], r["label"], r["source"], r["annotator"], r["confidence"]) for r in log] == [
        ("p001", "b", "human", "ann", ""),
        ("p004", "b", "pseudo", "model:scores.parquet", "0.97"),
    ]
    assert "p004" in repo.ids(project / "data/full/unlabelled.csv")
    assert "p004" not in repo.ids(project / "data/full/labelled.csv")
