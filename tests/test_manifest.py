"""alops.manifest: the run manifest read back, checked, and turned into a Snapshot."""

from __future__ import annotations

import json
import os
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_hardware import fake_nvidia_smi, smi_xml

from alops import hardware, manifest
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


# --- what build() records -------------------------------------------------------------------


def test_environment_records_the_device(tmp_path: Path) -> None:
    env = {"PATH": fake_nvidia_smi(tmp_path / "bin", smi_xml()), "CUDA_VISIBLE_DEVICES": "-1"}
    device = manifest.environment(env)["device"]
    assert device == hardware.probe(env).as_dict()
    assert (device["kind"], device["gpus"][0]["name"], device["driver"], device["cuda"], device["visible"]) == (
        "cpu",
        "NVIDIA H200",
        "570.1",
        "12.8",
        "-1",
    )
    assert manifest.environment({"PATH": str(tmp_path / "empty")})["device"]["gpus"] == []


def test_runner_tags_read_json_lists_and_comma_lists() -> None:
    assert manifest.runner_tags('["gpu", "docker"]') == ["gpu", "docker"]
    assert manifest.runner_tags("gpu, docker") == ["gpu", "docker"]
    assert manifest.runner_tags("[gpu, docker]") == ["gpu", "docker"]
    assert manifest.runner_tags("") == []


def test_image_digest_only_for_an_image_named_by_digest() -> None:
    digest = "sha256:" + "ab" * 32
    assert manifest.image_digest(f"registry.example.com/ml/train@{digest}") == digest
    assert manifest.image_digest("python:3.11") is None
    assert manifest.image_digest("python@sha256:short") is None
    assert manifest.image_digest(None) is None


def test_ci_and_runner_blocks_are_null_outside_ci() -> None:
    assert manifest.ci_block({"PATH": "/bin"}) is None
    assert manifest.runner_block({"PATH": "/bin"}) is None
    env = {"CI_PIPELINE_ID": "7", "CI_JOB_NAME": "alops-run-gpu", "CI_RUNNER_ID": "12", "CI_RUNNER_TAGS": '["gpu"]'}
    assert manifest.ci_block(env) == {
        "project_id": None,
        "project_url": None,
        "pipeline_id": "7",
        "pipeline_url": None,
        "job_id": None,
        "job_name": "alops-run-gpu",
        "job_url": None,
    }
    assert manifest.runner_block(env) == {"id": "12", "description": None, "tags": ["gpu"]}


def test_dvc_file_outs_and_lock_hashes(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "full.dvc").write_text("outs:\n- md5: abc.dir\n  size: 3\n  hash: md5\n  path: full\n")
    assert manifest.dvc_file_outs(tmp_path, ("data/full.dvc", "data/none.dvc", "data/raw")) == {"data/full": "abc.dir"}
    lock = {
        "train@dev": {
            "deps": [{"path": "src/train.py", "md5": "d1"}],
            "outs": [{"path": "models/dev", "md5": "m.dir"}],
        },
        "evaluate@dev": {"outs": [{"path": "metrics/dev.json", "hash": "md5", "md5": "e1"}]},
        "score@dev": {"outs": [{"path": "scores/dev", "md5": "s"}]},
    }
    stages = ["train@dev", "evaluate@dev"]
    assert manifest.lock_hashes(lock, stages, "outs") == {"models/dev": "m.dir", "metrics/dev.json": "e1"}
    assert manifest.lock_hashes(lock, stages, "deps") == {"src/train.py": "d1"}


@pytest.mark.slow
def test_build_records_the_run_and_no_secret(project: Path, tmp_path: Path) -> None:
    from alops import baseline
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.run import run_flow

    config = load_config(project / "alops.yaml")
    plan = current_plan(config, {}, role="feature")
    result = run_flow(config, plan, quiet=True, env=dict(os.environ))
    secret = "glpat-" + "s3cr3t" * 4
    env = {
        **os.environ,
        "PATH": fake_nvidia_smi(tmp_path / "bin", smi_xml()),
        "CI": "true",
        "CI_JOB_TOKEN": secret,
        "ALOPS_GITLAB_TOKEN": secret,
        "AWS_SECRET_ACCESS_KEY": secret,
        "CI_PIPELINE_URL": "https://gitlab.example.com/g/p/-/pipelines/7",
        "CI_JOB_IMAGE": "python:3.11",
        "CI_RUNNER_TAGS": '["gpu", "docker"]',
    }

    doc = manifest.build(config, plan, result, env, overrides={})
    path = tmp_path / manifest.FILE
    manifest.write(path, doc)

    assert list(doc) == list(manifest.KEYS)
    assert secret not in path.read_text()
    assert manifest.load(path) == doc
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    assert (doc["commit"], doc["dirty"], doc["dataset"], doc["jobs"]) == (head, False, "dev", ["train", "evaluate"])
    assert doc["metrics"] == result.metrics
    assert doc["params"]["params.yaml"]["train.C"] == 1.0
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    dev = yaml.safe_load((project / "data" / "dev.dvc").read_text())["outs"][0]
    assert doc["data"]["data/dev"] == dev["md5"]
    assert doc["data"]["models/dev"] == lock["train@dev"]["outs"][0]["md5"]
    assert doc["data"] == baseline.current(config, plan, env).data  # the same data versions a comparison reads
    assert doc["deps"]["src/train.py"] == next(
        d["md5"] for d in lock["train@dev"]["deps"] if d["path"] == "src/train.py"
    )
    assert doc["gpu"] == [{"name": "NVIDIA H200", "memory_mib": 143771, "driver": "570.1"}]
    assert doc["environment"]["device"]["gpus"] == doc["gpu"] and doc["environment"]["device"]["cuda"] == "12.8"
    assert doc["environment"]["packages"]["dvc"] == metadata.version("dvc")
    assert (doc["environment"]["image"], doc["environment"]["image_digest"]) == ("python:3.11", None)
    assert doc["runner"] == {"id": None, "description": None, "tags": ["gpu", "docker"]}
    assert doc["reproduce"] == "alops reproduce https://gitlab.example.com/g/p/-/pipelines/7"
    assert doc["timings"]["repro_s"] > 0

    (project / "src" / "train.py").write_text("# changed\n")
    assert manifest.build(config, plan, result, env, overrides={})["dirty"] is True
