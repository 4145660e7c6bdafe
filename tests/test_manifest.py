"""alops.manifest: the run manifest read back, checked, and turned into a Snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alops import manifest
from alops.errors import DataError, MissingFileError

SHA = "a" * 40


def sample(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {key: None for key in manifest.KEYS}
    doc.update(
        alops_manifest=1,
        commit=SHA,
        ref="experiment/lr",
        dirty=False,
        role="experiment",
        dataset="full",
        jobs=["train", "evaluate"],
        stages=["prepare@full", "train@full", "evaluate@full"],
        params={"params.yaml": {"train.C": 0.1, "train.model": "logreg"}},
        set={"train.C": 0.1},
        metrics={"metrics/full.json": {"accuracy": 0.95, "f1": 1}},
        data={"data/full": "abc.dir"},
        deps={"data/prepared/full/train.csv": "def"},
        ci={"pipeline_url": "https://gitlab.example.com/g/p/-/pipelines/7"},
    )
    doc.update(over)
    return doc


def test_loads_reads_a_manifest_and_snapshot_carries_its_values() -> None:
    doc = manifest.loads(json.dumps(sample()).encode(), "m.json")
    snap = manifest.snapshot(doc, "main", "artifacts")
    assert (snap.label, snap.source, snap.commit) == ("main", "artifacts", SHA)
    assert snap.metrics == {"metrics/full.json": {"accuracy": 0.95, "f1": 1.0}}
    assert isinstance(snap.metrics["metrics/full.json"]["f1"], float)
    assert snap.params == {"params.yaml": {"train.C": 0.1, "train.model": "logreg"}}
    assert snap.data == {"data/full": "abc.dir"}
    assert snap.pipeline_url == "https://gitlab.example.com/g/p/-/pipelines/7"
    assert snap.manifest is not None and snap.manifest["set"] == {"train.C": 0.1}


def test_loads_fills_in_missing_keys() -> None:
    doc = manifest.loads(b'{"alops_manifest": 1}', "m.json")
    assert set(manifest.KEYS) <= set(doc)
    assert doc["metrics"] == {} and doc["stages"] == [] and doc["ci"] is None
    snap = manifest.snapshot(doc, "x", "manifest")
    assert snap.commit is None and snap.pipeline_url is None


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"{not json", "m.json is not a run manifest: not JSON"),
        (b"\xff\xfe", "m.json is not a run manifest: not JSON"),
        (b"[1, 2]", "m.json is not a run manifest: it has no alops_manifest key"),
        (b'{"metrics": {}}', "m.json is not a run manifest: it has no alops_manifest key"),
        (b'{"alops_manifest": 2}', "m.json: alops_manifest 2 is not a format this alops reads"),
        (b'{"alops_manifest": true}', "m.json: alops_manifest true is not a format"),
        (json.dumps(sample(commit="HEAD")).encode(), "m.json: commit must be a 40-hex-digit git commit"),
        (
            json.dumps(sample(metrics={"m.json": {"acc": "high"}})).encode(),
            "m.json: metrics.m.json.acc is not a number",
        ),
        (json.dumps(sample(metrics={"m.json": {"acc": True}})).encode(), "m.json: metrics.m.json.acc is not a number"),
        (json.dumps(sample(metrics=[1])).encode(), "m.json: metrics must map each file"),
        (json.dumps(sample(data={"data/full": 3})).encode(), "m.json: data must map each path to its DVC hash"),
        (json.dumps(sample(stages="train")).encode(), "m.json: stages must be a list"),
        (json.dumps(sample(ci="yes")).encode(), "m.json: ci must be an object or null"),
    ],
)
def test_loads_refuses_what_is_not_a_manifest(data: bytes, said: str) -> None:
    with pytest.raises(DataError) as info:
        manifest.loads(data, "m.json")
    assert str(info.value).startswith(said)


def test_load_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match=r"nowhere.json: file not found"):
        manifest.load(tmp_path / "nowhere.json")


def test_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / manifest.FILE
    path.write_text(json.dumps(sample()), encoding="utf-8")
    assert manifest.load(path)["commit"] == SHA
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match=f"^{path} is not a run manifest"):
        manifest.load(path)
