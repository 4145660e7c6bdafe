"""What a report holds, gathered from a real git repository (GitLab, for the history, faked with ``responses``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import responses

from alops import gitlab
from alops.compare import Snapshot
from alops.config import load_config
from alops.flow import current_plan
from alops.report import content, history

PROJECT = "https://gitlab.example.com/api/v4/projects/42"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": "t0ken", "CI_PROJECT_ID": "42"}
CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  evaluate: ["evaluate@{dataset}"]
  metrics: ["metrics/{dataset}.json"]
report:
  confusion: "metrics/{dataset}-confusion.csv"
  history: 2
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "experiment/lr")
    (tmp_path / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/full.json").write_text(json.dumps({"loss": 0.3, "accuracy": 0.9}), encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "run")
    return tmp_path


def test_the_history_plot_reads_earlier_pipelines_and_missing_confusion_data_says_why(repo: Path) -> None:
    (repo / "alops.yaml").write_text(CONFIG.replace("report:", "report:\n  metric: accuracy"), encoding="utf-8")
    config = load_config(repo / "alops.yaml")
    plan = current_plan(config, ENV, role="experiment")
    client = gitlab.client_from_env(ENV)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(f"{PROJECT}/pipelines", json=[{"id": 8}, {"id": 7}])
        for pipeline, accuracy in ((8, 0.88), (7, 0.86)):
            api.get(f"{PROJECT}/pipelines/{pipeline}/jobs", json=[{"id": pipeline * 10, "name": "alops-run-gpu"}])
            doc = {"alops_manifest": 1, "metrics": {"metrics/full.json": {"accuracy": accuracy}}}
            api.get(f"{PROJECT}/jobs/{pipeline * 10}/artifacts/alops-manifest.json", body=json.dumps(doc))

        found = content.build(
            config, plan, ENV, against="experiment/lr", out=Path("alops-report"), gitlab_client=lambda: (client, "")
        )

    assert [p.file for p in found.plots] == ["history.png"]
    assert found.plots[0].title == "accuracy across pipelines"
    assert found.plots[0].png.startswith(b"\x89PNG")
    why = (
        "metrics/full-confusion.csv (report.confusion) is not in the workspace: run the evaluate stage (evaluate@full)"
    )
    assert [(lo.title, lo.why) for lo in found.left_out] == [
        ("Confusion matrix", why),
        ("Per-class precision, recall and F1", why),
    ]
    assert found.gate is None
    assert found.diff.baseline.source == "git"
    assert found.page_url is None  # not in CI


def test_the_history_without_gitlab_is_left_out_and_says_why(repo: Path) -> None:
    config = load_config(repo / "alops.yaml")
    plan = current_plan(config, {}, role="experiment")
    found = content.build(config, plan, {}, against=None, out=Path("r"), gitlab_client=lambda: (None, "no GitLab here"))
    assert ("loss across pipelines", "no GitLab here") in [(lo.title, lo.why) for lo in found.left_out]
    assert found.diff.baseline.source == "none"  # no default branch, no origin: nothing to compare with


def test_the_history_metric_is_report_metric_else_the_first_gate_s_else_the_first_metric(repo: Path) -> None:
    run = Snapshot("workspace", "workspace", metrics={"m.json": {"loss": 1.0, "accuracy": 0.5}})
    assert history.report_metric(load_config(repo / "alops.yaml"), run) == "loss"
    (repo / "alops.yaml").write_text(CONFIG + "quality:\n  thresholds:\n    accuracy: {min: 0.1}\n", encoding="utf-8")
    assert history.report_metric(load_config(repo / "alops.yaml"), run) == "accuracy"


def test_reproduce_commands_quote_what_they_paste() -> None:
    run = {"commit": "c" * 40, "stages": ["train@full", "odd stage;rm -rf /"]}
    env = {"CI_PIPELINE_URL": "https://g.example/p/-/pipelines/1?x=$(id)"}
    assert content.reproduce_commands(run, Snapshot("workspace", "workspace"), env) == (
        "alops reproduce 'https://g.example/p/-/pipelines/1?x=$(id)'",
        "alops reproduce alops-manifest.json",
        f"git checkout {'c' * 40} && dvc pull && dvc repro train@full 'odd stage;rm -rf /'",
    )


def test_without_matplotlib_every_plot_is_left_out_and_says_how_to_get_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """matplotlib is the `plots` extra: a job image without it still gets the report, without pictures."""
    import sys

    (repo / "metrics/full-confusion.csv").write_text("actual,predicted\n1,1\n2,1\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` meets when it is not installed
    config = load_config(repo / "alops.yaml")
    plan = current_plan(config, {}, role="experiment")
    found = content.build(config, plan, {}, against=None, out=Path("r"), gitlab_client=lambda: (None, "unused"))
    assert found.plots == ()
    why = "matplotlib is not installed: install alops with its plots extra (`pip install 'alops[plots]'`)"
    assert [(lo.title, lo.why) for lo in found.left_out] == [
        ("Confusion matrix", why),
        ("Per-class precision, recall and F1", why),
        ("loss across pipelines", why),
    ]


def test_the_device_line_says_cpu_or_cuda_and_torch_s_build() -> None:
    from alops.report.content import device_line

    cpu = {"kind": "cpu", "gpus": [], "driver": None, "cuda": None, "torch": {"version": "2.13.0+cpu", "cuda": None}}
    assert device_line(cpu | {"visible": None}) == "cpu · torch 2.13.0+cpu, CPU build"
    assert device_line(cpu | {"torch": None, "visible": ""}) == "cpu · CUDA_VISIBLE_DEVICES="
    cuda = {"kind": "cuda", "driver": "580.65", "cuda": "13.0", "torch": {"version": "2.13.0", "cuda": "13.0"}}
    assert device_line(cuda) == "cuda · CUDA 13.0 (driver 580.65) · torch 2.13.0, CUDA 13.0 build"
