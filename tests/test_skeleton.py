"""examples/project-skeleton: its data script, its stages, and its configuration."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from alops.cli import cli
from alops.config import load_config
from alops.devset.build.run import build
from alops.devset.build.spec import build_spec

SKELETON = Path(__file__).resolve().parents[1] / "examples" / "project-skeleton"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The skeleton with its data generated (scripts/make_data.py, then `alops devset build`, once per module)."""
    root = tmp_path_factory.mktemp("skeleton") / "project"
    shutil.copytree(SKELETON, root)
    subprocess.run([sys.executable, "scripts/make_data.py"], cwd=root, check=True, capture_output=True)
    build(build_spec(load_config(root / "alops.yaml")), track=False)
    return root


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def is_clean(row: list[str]) -> bool:
    return len(row) == 67 and all(v.isdigit() and int(v) <= 16 for v in row[3:]) and row[1] in {"", *"0123456789"}


def test_make_data_writes_the_same_bytes_every_time(generated: Path, tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SKELETON / "scripts/make_data.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ("full/labelled.csv", "full/unlabelled.csv"):
        assert (tmp_path / name).read_bytes() == (generated / "data" / name).read_bytes(), name
    assert not (tmp_path / "dev").exists()  # `alops devset build` makes the dev set


def test_the_full_data_is_every_digit_with_splits_a_pool_and_some_bad_rows(generated: Path) -> None:
    labelled, pool = rows(generated / "data/full/labelled.csv"), rows(generated / "data/full/unlabelled.csv")
    header = ["id", "label", "split", *(f"p{i:02d}" for i in range(64))]
    assert labelled[0] == pool[0] == header
    assert len(labelled) - 1 + len(pool) - 1 == 1797
    assert 0.15 <= (len(pool) - 1) / 1797 <= 0.25
    clean = [r for r in labelled[1:] if is_clean(r)]
    assert Counter(r[2] for r in clean).keys() == {"train", "validation", "test"}
    assert all(r[1] == "" and r[2] == "" for r in pool[1:] if len(r) == 67)
    bad = [r for r in labelled[1:] + pool[1:] if not is_clean(r)]
    assert 5 <= len(bad) <= 15
    assert all(len(r) == 67 for r in labelled + pool)  # bad values, never a missing field: ingest rewrites these


def test_the_dev_data_is_a_stratified_subset_that_keeps_some_bad_rows(generated: Path) -> None:
    full = rows(generated / "data/full/labelled.csv")[1:]
    dev = rows(generated / "data/dev/labelled.csv")[1:]
    report = json.loads((generated / "data/dev.report.json").read_text())
    assert (report["outliers"]["full"], report["outliers"]["dev"]) == (3, 1)  # the three images on a 0–255 scale
    assert (report["corrupt"]["full"], report["corrupt"]["dev"]) == (4, 1)
    assert {tuple(r) for r in dev} <= {tuple(r) for r in full}
    assert 0.2 <= len(dev) / len(full) <= 0.3
    full_share = Counter(r[1] for r in full if is_clean(r))
    dev_share = Counter(r[1] for r in dev if is_clean(r))
    for label in "0123456789":
        assert abs(dev_share[label] / sum(dev_share.values()) - full_share[label] / sum(full_share.values())) < 0.02
    assert any(not is_clean(r) for r in dev)


def test_prepare_drops_and_counts_the_bad_rows(generated: Path) -> None:
    done = subprocess.run(
        [sys.executable, "src/prepare.py", "dev"], cwd=generated, check=True, capture_output=True, text=True
    )
    stats = json.loads((generated / "data/prepared/dev/stats.json").read_text())
    assert stats["dropped_unparseable"] >= 1 and stats["dropped_out_of_range"] >= 1
    kept = sum(stats[f"{s}_rows"] for s in ("train", "validation", "test", "pool"))
    assert kept == stats["rows_read"] - stats["dropped_unparseable"] - stats["dropped_out_of_range"]
    assert f"{stats['rows_read']} rows read" in done.stdout
    for split in ("train", "validation", "test"):
        table = rows(generated / f"data/prepared/dev/{split}.csv")
        assert len(table) - 1 == stats[f"{split}_rows"] > 0
        assert all(len(r) == 65 and 0 <= int(r[0]) <= 9 and max(map(int, r[1:])) <= 16 for r in table[1:])


def test_alops_yaml_is_valid_and_names_stages_dvc_yaml_has() -> None:
    result = CliRunner().invoke(cli, ["-c", str(SKELETON / "alops.yaml"), "config", "validate"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = load_config(SKELETON / "alops.yaml")
    stages = yaml.safe_load((SKELETON / "dvc.yaml").read_text())["stages"]
    names = {f"{name}@{item}" for name, stage in stages.items() for item in stage["foreach"]}
    for dataset in ("dev", "full"):
        for job in ("train", "evaluate"):
            assert set(config.pipeline.stages(job, dataset=dataset, role="feature")) <= names
        assert f"metrics/{dataset}.json" in [m.replace("{dataset}", dataset) for m in config.pipeline.metrics]
    assert stages["evaluate"]["do"]["metrics"] == [{"metrics/${item}.json": {"cache": False}}]


def test_the_skeleton_commits_no_remote_and_includes_the_ci_template() -> None:
    assert not (SKELETON / ".dvc").exists()
    ci = yaml.safe_load((SKELETON / ".gitlab-ci.yml").read_text())
    assert ci == {
        "include": [
            {
                "component": "$CI_SERVER_FQDN/mlops/alops/alops@0.1.0",
                "inputs": {"gpu-tags": ["gpu"], "cpu-tags": ["docker"]},
            },
            {"component": "$CI_SERVER_FQDN/mlops/alops/workflow@0.1.0"},
        ]
    }


def test_make_data_starts_the_label_log_and_keeps_an_existing_one(generated: Path, tmp_path: Path) -> None:
    readme = generated / "data/labels/README.md"
    assert "round-NNNN.csv" in readme.read_text()
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels/README.md").write_text("mine\n")
    subprocess.run(
        [sys.executable, str(SKELETON / "scripts/make_data.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "labels/README.md").read_text() == "mine\n"


def test_score_writes_the_clean_pool_s_probabilities_by_id_and_its_embeddings(generated: Path) -> None:
    import numpy as np

    for stage in ("prepare", "train", "score"):
        subprocess.run([sys.executable, f"src/{stage}.py", "dev"], cwd=generated, check=True, capture_output=True)
    table = rows(generated / "scores/dev/scores.csv")
    assert table[0] == ["id", *"0123456789"]
    pool = [r for r in rows(generated / "data/dev/unlabelled.csv")[1:] if is_clean(r)]
    assert [r[0] for r in table[1:]] == [r[0] for r in pool]  # the pool's stable ids, in its order, cleaned
    assert all(abs(sum(map(float, r[1:])) - 1) < 1e-6 for r in table[1:])
    embeddings = np.load(generated / "scores/dev/embeddings.npy")
    assert embeddings.shape == (len(table) - 1, 10) and embeddings.dtype == np.float32


def test_the_oracle_answers_a_batch_with_the_held_back_labels(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    truth = load_digits().target
    batch = tmp_path / "batch"
    batch.mkdir()
    ids = ["d0123", "d1796", "d0000", "d0500"]
    (batch / "batch.jsonl").write_text(
        "".join(json.dumps({"id": i, "score": 0.5, "strategy": "margin"}) + "\n" for i in ids)
    )
    oracle = [sys.executable, str(SKELETON / "scripts/oracle.py"), str(batch)]

    subprocess.run([*oracle, str(tmp_path / "labels.csv")], check=True, capture_output=True)

    table = rows(tmp_path / "labels.csv")
    assert table[0] == ["id", "label", "annotator", "labelled_at", "strategy"]
    assert [(r[0], r[1], r[2], r[4]) for r in table[1:]] == [
        (i, str(truth[int(i[1:])]), "oracle", "margin") for i in ids
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[3]) for r in table[1:])

    (batch / "batch.jsonl").unlink()  # batch.csv and Label Studio's tasks.json answer the same
    (batch / "tasks.json").write_text(json.dumps([{"data": {"sample_id": i}} for i in ids]))
    subprocess.run([*oracle, str(tmp_path / "noisy.csv"), "--noise", "0.5"], check=True, capture_output=True)
    noisy = rows(tmp_path / "noisy.csv")[1:]
    assert [r[0] for r in noisy] == ids
    assert sum(r[1] not in "0123456789" for r in noisy) == 2  # typos ingest rejects


def test_the_oracle_refuses_an_id_that_is_not_a_digit(tmp_path: Path) -> None:
    (tmp_path / "batch.csv").write_text("index,id\n0,d9999\n")
    done = subprocess.run(
        [sys.executable, str(SKELETON / "scripts/oracle.py"), str(tmp_path), str(tmp_path / "out.csv")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "sample id 'd9999' is not one of the digits (d0000 to d1796)" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_active_learning_reads_what_the_scoring_stage_writes_and_the_data_it_labels() -> None:
    config = yaml.safe_load((SKELETON / "alops.yaml").read_text())
    stages = yaml.safe_load((SKELETON / "dvc.yaml").read_text())["stages"]
    al = config["active_learning"]
    assert config["pipeline"]["score"] == ["score@{dataset}"]
    assert stages["score"]["do"]["outs"] == ["scores/${item}"]
    assert "models/${item}" in stages["score"]["do"]["deps"]
    assert (al["scores"], al["embeddings"]) == ("scores/full/scores.csv", "scores/full/embeddings.npy")
    # The pool and the labelled set are data/full's files; the label log is a target of the same dataset.
    assert (al["pool"], al["labelled"], al["labels"]) == (
        "data/full/unlabelled.csv",
        "data/full/labelled.csv",
        "data/labels",
    )
    assert config["datasets"]["full"]["targets"] == ["data/full.dvc", "data/labels.dvc"]
    assert al["classes"] == list("0123456789")
    assert config["schedules"]["al-query"] == {
        "cron": "0 3 * * *",
        "ref": "al/digits",
        "variables": {"ALOPS_AL_STEP": "query"},
    }
