"""alops.al.status on a real al branch: counts from the workspace, rounds from the label log, metrics from git."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import al_repo
import numpy as np
import pytest
from al_repo import git

from alops.al.status.plot import plot
from alops.al.status.run import as_dict, count_classes, count_rows, status
from alops.config import load_config
from alops.errors import DataError

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    """A copy of the al project with al/digits checked out: rounds 1-3, models recorded after 1 and 2."""
    root = al_repo.copy(*al_repo.template(tmp_path_factory.getbasetemp()), tmp_path / "repo", tmp_path / "remote")
    git(root, "checkout", "-q", "al/digits")
    al_repo.dvc(root, "checkout", "-q", "--force")
    return root


def test_status_counts_the_data_and_reads_each_round_with_the_model_after_it(repo: Path) -> None:
    found = status(load_config(repo / "alops.yaml"))

    assert (found.pool, found.pool_size) == ("data/full/unlabelled.csv", 24 - 12)
    assert found.per_class == {"a": 3 + 2 + 3 + 2, "b": 3 + 2 + 3}
    assert found.labelled_size == 18
    assert (found.labels_since_training, found.last_trained_round) == (2, 2)
    assert found.metrics == ("accuracy", "loss.val")
    assert [(r.number, r.strategy, r.batch_size, r.accepted, r.rejected, r.pseudo) for r in found.rounds] == [
        (1, "margin", 10, 4, 0, 0),
        (2, "margin", 10, 6, 1, 0),
        (3, "entropy", 10, 2, 0, 3),
    ]
    assert [r.date for r in found.rounds] == [f"2026-01-0{n}T10:00:00Z" for n in (1, 2, 3)]
    assert [r.metrics for r in found.rounds] == [
        {"accuracy": 0.10, "loss.val": 0.90},
        {"accuracy": 0.16, "loss.val": 0.84},
        {},
    ]
    assert found.curve() == [
        (1, 10, {"accuracy": 0.10, "loss.val": 0.90}),
        (2, 16, {"accuracy": 0.16, "loss.val": 0.84}),
    ]
    assert found.notes == ()


def test_the_json_form_has_every_field_and_the_learning_curve(repo: Path) -> None:
    data = as_dict(status(load_config(repo / "alops.yaml")))

    assert sorted(data) == [
        "labelled",
        "labelled_size",
        "labels_since_training",
        "last_trained_round",
        "learning_curve",
        "metrics",
        "notes",
        "per_class",
        "pool",
        "pool_size",
        "rounds",
    ]
    assert sorted(data["rounds"][0]) == [
        "accepted",
        "batch_size",
        "date",
        "labelled_after",
        "metrics",
        "number",
        "pseudo",
        "rejected",
        "strategy",
        "trained_commit",
    ]
    assert data["rounds"][1]["trained_commit"] == git(repo, "rev-parse", "al/digits~1").strip()
    assert data["learning_curve"] == [
        {"round": 1, "labelled": 10, "metrics": {"accuracy": 0.10, "loss.val": 0.90}},
        {"round": 2, "labelled": 16, "metrics": {"accuracy": 0.16, "loss.val": 0.84}},
    ]


def test_without_the_data_in_the_workspace_rounds_come_from_git(repo: Path) -> None:
    shutil.rmtree(repo / "data/labels")
    shutil.rmtree(repo / "data/full")

    found = status(load_config(repo / "alops.yaml"))

    assert (found.pool_size, found.per_class, found.labelled_size) == (None, None, None)
    assert [(r.number, r.accepted, r.strategy) for r in found.rounds] == [(1, 4, None), (2, 6, None), (3, 2, None)]
    assert found.rounds[1].metrics == {"accuracy": 0.16, "loss.val": 0.84}
    assert found.curve() == []  # no labelled counts without the log
    assert [n.split(":")[0] for n in found.notes] == [
        "data/full/unlabelled.csv is not in the workspace",
        "data/full/labelled.csv is not in the workspace",
        "data/labels is not in the workspace",
    ]
    assert "`alops data pull`" in found.notes[0]


def test_the_plot_is_a_png_of_the_expected_size_with_lines_on_it(repo: Path, tmp_path: Path) -> None:
    out = plot(status(load_config(repo / "alops.yaml")), tmp_path / "plots/curve.png")

    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (800, 500)
    import matplotlib.image

    pixels = matplotlib.image.imread(out)[:, :, :3]
    coloured = np.abs(pixels - pixels.mean(axis=2, keepdims=True)).max(axis=2) > 0.2  # the lines, not grey text
    assert coloured.sum() > 200
    assert list(out.parent.iterdir()) == [out]  # no temporary file left


def test_a_plot_without_a_trained_model_says_so(repo: Path, tmp_path: Path) -> None:
    found = status(load_config(repo / "alops.yaml"))
    bare = type(found)(**{**found.__dict__, "rounds": ()})

    out = plot(bare, tmp_path / "empty.png")

    pixels = matplotlib_pixels(out)
    assert (pixels < 0.5).any()  # the message and the axes are drawn


def matplotlib_pixels(path: Path) -> np.ndarray:
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(path))


def test_counts_of_csv_and_parquet_files(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv = tmp_path / "l.csv"
    csv.write_text('id,label\n1,"a"\n2,"multi\nline"\n3,a\n4,\n', encoding="utf-8")
    pq.write_table(pa.table({"id": [1, 2, 3], "label": [0, 1, 1]}), tmp_path / "l.parquet")

    assert count_rows(csv) == 4
    assert count_classes(csv, "label", ("b", "a")) == {"b": 0, "a": 2, "": 1, "multi\nline": 1}
    assert count_rows(tmp_path / "l.parquet") == 3
    assert count_classes(tmp_path / "l.parquet", "label", ("0", "1")) == {"0": 1, "1": 2}
    with pytest.raises(DataError, match="has no readable column 'klass'.*set active_learning.label_column"):
        count_classes(csv, "klass", ())
