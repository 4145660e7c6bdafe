"""A report's content built by hand (no git, no GitLab): the renderers' input in tests/report (``make_content``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alops import compare
from alops import gate as gates
from alops.report import plots
from alops.report.content import Content, LeftOut, Plot
from alops.sections import Gate

HOSTILE = "experiment/<img src=x onerror=alert(1)>|@all`#1"
MANIFEST: dict[str, Any] = {
    "alops_manifest": 1,
    "commit": "a" * 40,
    "dirty": False,
    "stages": ["prepare@full", "train@full", "evaluate@full"],
    "environment": {
        "python": "3.11.7",
        "platform": "Linux-x86_64",
        "packages": {"dvc": "3.67.0"},
        "image": None,
        "device": {
            "kind": "cuda",
            "gpus": [{"name": "NVIDIA H200", "memory_mib": 143771, "driver": "570.1"}],
            "driver": "570.1",
            "cuda": "12.8",
            "torch": {"version": "2.13.0", "cuda": "13.0"},
            "visible": "0",
        },
    },
    "runner": {"id": "7", "description": "gpu-runner-1", "tags": ["gpu"]},
    "gpu": [{"name": "NVIDIA H200", "memory_mib": 143771, "driver": "570.1"}],
    "ci": {"job_name": "alops-run-gpu"},
    "timings": {"total_s": 12.3},
}


def content(branch: str = "experiment/lr", *, with_plots: bool = True, failing: bool = False) -> Content:
    current = compare.Snapshot(
        label="workspace",
        source="workspace",
        commit="a" * 40,
        metrics={"metrics/full.json": {"accuracy": 0.81 if failing else 0.97, "<b>loss</b>": 0.12}},
        params={"params.yaml": {"train.C": 0.1, "train.model": "logreg"}},
        data={"models/full": "1234.dir"},
    )
    baseline = compare.Snapshot(
        label="main",
        source="git",
        commit="b" * 40,
        metrics={"metrics/full.json": {"accuracy": 0.95, "<b>loss</b>": 0.15}},
        params={"params.yaml": {"train.C": 1.0, "train.model": "logreg"}},
        data={"models/full": "abcd.dir"},
    )
    quality = (Gate("accuracy", 0.85, None, 0.02, "higher"),)
    result = gates.evaluate(quality, current.metrics, baseline.metrics, "main")
    conf = plots.confusion([("0", "0")] * 9 + [("0", "1"), ("1", "1"), ("1", "0"), ("2", "2")])
    drawn = (
        (
            Plot("confusion.png", "Confusion matrix", plots.confusion_png(conf, "Confusion matrix")),
            Plot("per-class.png", "Per-class", plots.class_scores_png(plots.class_scores(conf), "Per class")),
        )
        if with_plots
        else ()
    )
    return Content(
        role="experiment",
        branch=branch,
        dataset="full",
        diff=compare.compare(current, baseline),
        gate=result,
        manifest=MANIFEST,
        plots=drawn,
        left_out=(LeftOut("accuracy across pipelines", "no earlier pipeline of <b>x</b>"),),
        pipeline_url="https://gitlab.example.com/grp/proj/-/pipelines/1001",
        page_url="https://gitlab.example.com/grp/proj/-/jobs/5001/artifacts/file/alops-report/index.html",
        reproduce=(
            "alops reproduce https://gitlab.example.com/grp/proj/-/pipelines/1001",
            "alops reproduce alops-manifest.json",
            f"git checkout {'a' * 40} && dvc pull && dvc repro prepare@full train@full evaluate@full",
        ),
    )


@pytest.fixture
def make_content() -> Callable[..., Content]:
    return content
