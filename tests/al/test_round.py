"""A whole active-learning round on the example project, as a user runs it, command by command.

``alops run`` (train) → ``alops al record`` → ``alops al score`` → ``alops al query`` →
``scripts/oracle.py`` (the digits' held-back labels) → ``alops al ingest`` (one commit: the new
data version) → ``alops run`` (retrain) → ``alops al record``; then an experiment branch takes
that data version with ``alops al sync``. Real git, real DVC with a local remote (``project``).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from alops.cli import cli


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def alops(project: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(project / "alops.yaml"), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def md5(project: Path, dvc_file: str) -> str:
    return str(yaml.safe_load((project / dvc_file).read_text())["outs"][0]["md5"])


def ids(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


@pytest.mark.slow
def test_a_whole_round_makes_one_new_data_version_and_the_retrained_model_records_it(project: Path) -> None:
    from sklearn.datasets import load_digits

    truth = load_digits().target
    git(project, "checkout", "--quiet", "-b", "al/digits")
    seconds: dict[str, float] = {}

    def timed(step: str, *args: str) -> str:
        started = time.monotonic()
        out = alops(project, *args)
        seconds[step] = time.monotonic() - started
        return out

    timed("train", "run")
    before = json.loads((project / "metrics/full.json").read_text())
    alops(project, "al", "record")
    assert git(project, "log", "-1", "--format=%(trailers:key=ALOps-Trained-Round,valueonly)") == "0"

    timed("score", "al", "score", "--no-pull")
    scored = ids(project / "scores/full/scores.csv")
    pool = ids(project / "data/full/unlabelled.csv")
    assert len(scored) == 356 and set(scored) < set(pool)  # the pool's stable ids, its 3 corrupt rows left out
    out = timed("query", "al", "query")
    assert out.startswith("Chose 20 of 356 samples by hybrid from ")
    batch = [json.loads(line) for line in (project / ".alops/al/batch/batch.jsonl").read_text().splitlines()]
    assert len(batch) == 20 and {row["strategy"] for row in batch} == {"hybrid"}

    started = time.monotonic()
    answers = project / ".alops/al/answers.csv"
    oracle = [sys.executable, "scripts/oracle.py", ".alops/al/batch", str(answers)]
    subprocess.run(oracle, cwd=project, check=True, capture_output=True)
    seconds["oracle"] = time.monotonic() - started
    with answers.open(newline="") as fh:
        given = {row["id"]: row["label"] for row in csv.DictReader(fh)}
    assert given == {row["id"]: str(truth[int(row["id"][1:])]) for row in batch}

    head, versions = (
        git(project, "rev-parse", "HEAD"),
        {f: md5(project, f) for f in ("data/full.dvc", "data/labels.dvc")},
    )
    out = timed("ingest", "al", "ingest", str(answers))
    assert out.startswith(f"Ingested round 1: +20 labels (0 pseudo) from {answers}; labelled set 1,458 rows, pool 339")

    # One new data version: one commit on the branch, changing the two .dvc files and nothing else.
    assert git(project, "rev-parse", "HEAD~1") == head
    assert git(project, "show", "--format=%s", "--name-only", "HEAD").splitlines() == [
        "alops al ingest: round 1, +20 labels (0 pseudo)",
        "",
        "data/full.dvc",
        "data/labels.dvc",
    ]
    assert all(md5(project, f) != v for f, v in versions.items())
    assert not set(given) & set(ids(project / "data/full/unlabelled.csv"))
    # Moved to the end of the labelled set, in the pool's order.
    assert ids(project / "data/full/labelled.csv")[-20:] == [i for i in pool if i in given]
    log = list(csv.DictReader((project / "data/labels/round-0001.csv").read_text().splitlines()))
    assert {(r["id"], r["label"], r["annotator"], r["round"], r["source"]) for r in log} == {
        (i, label, "oracle", "1", "human") for i, label in given.items()
    }
    assert json.loads((project / "data/labels/round-0001.json").read_text())["strategy"] == "hybrid"

    started = time.monotonic()
    subprocess.run([sys.executable, "src/train.py", "full"], cwd=project, check=True, capture_output=True)
    seconds["train stage alone"] = time.monotonic() - started

    out = timed("retrain", "run")
    assert "updated  prepare@full, train@full, evaluate@full" in out  # the new data version changed the training
    after = json.loads((project / "metrics/full.json").read_text())
    assert after.keys() == before.keys() and 0.9 <= after["accuracy"] <= 1.0
    alops(project, "al", "record")
    assert git(project, "log", "-1", "--format=%(trailers:key=ALOps-Trained-Round,valueonly)") == "1"
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""

    # An experiment branch takes that data version with one command, and none of the al branch's code.
    git(project, "checkout", "--quiet", "-b", "experiment/more-labels", "main")
    alops(project, "al", "sync", "--from", "al/digits")
    assert all(md5(project, f) == md5_at(project, "al/digits", f) for f in versions)
    assert set(git(project, "show", "--format=", "--name-only", "HEAD").splitlines()) <= {
        "data/full.dvc",
        "data/labels.dvc",
        "dvc.lock",
    }

    round_time = sum(seconds[k] for k in ("score", "query", "oracle", "ingest"))
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
    print(f"\nround (score, query, oracle, ingest) {round_time:.1f} s; {timings}; before {before}, after {after}")


def md5_at(project: Path, ref: str, dvc_file: str) -> str:
    return str(yaml.safe_load(git(project, "show", f"{ref}:{dvc_file}"))["outs"][0]["md5"])


@pytest.mark.slow
def test_the_query_step_runs_under_gitlab_ci_local_and_the_oracle_answers_its_artifact(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The al branch's query job (score the pool, choose the batch) as a shell job in its own copy of the repository."""
    from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, Scenario, example_project

    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    project = example_project(tmp_path_factory.mktemp("al-ci"))
    scheduled = Scenario("al-query", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_AL_STEP": "query"})
    gcl = GitlabCiLocal(project)
    assert {"alops-al-query", "alops-al-ingest"} <= set(gcl.jobs(scheduled))

    result = gcl(*SHELL_RUN, "--no-json-schema-validation", "alops-al-query", scenario=scheduled, timeout=300)

    assert "PASS" in result.stdout and "alops-al-query" in result.stdout, result.stdout
    assert "Chose 20 of 356 samples by hybrid from scores/full/scores.csv" in result.stdout
    batch = project / ".gitlab-ci-local/artifacts/alops-al-query/.alops/al/batch"
    rows = [json.loads(line) for line in (batch / "batch.jsonl").read_text().splitlines()]
    pool = set(ids(project / "data/full/unlabelled.csv"))
    assert len(rows) == 20 and {row["id"] for row in rows} <= pool
    assert {"batch.csv", "tasks.json"} <= {p.name for p in batch.iterdir()}

    # The artifact is what an annotator (here the oracle) answers, and what ingest reads.
    answers = project / "answers.csv"
    subprocess.run([sys.executable, "scripts/oracle.py", str(batch), str(answers)], cwd=project, check=True)
    assert ids(answers) == [row["id"] for row in rows]


@pytest.mark.slow
def test_under_gitlab_ci_local_the_train_step_retrains_on_the_ingested_version_and_records_it(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Query (a scheduled pipeline) → the oracle → ingest --push → the train step's pipeline: run-gpu, al-record."""
    from ci.gitlab_ci_local import GCL, SHELL_RUN, GitlabCiLocal, Scenario, example_project

    if not GCL.exists():
        pytest.fail(f"{GCL} is missing: run `make setup` (npm ci)")
    tmp = tmp_path_factory.mktemp("al-ci-round")
    project = example_project(tmp)
    origin = tmp / "origin.git"  # the GitLab repository the jobs push to (ALOPS_GIT_PUSH_URL)
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    subprocess.run(["git", "config", "receive.advertisePushOptions", "true"], cwd=origin, check=True)  # -o ci.skip
    git(project, "checkout", "--quiet", "-b", "al/digits")
    git(project, "push", "--quiet", str(origin), "main", "al/digits")
    gcl = GitlabCiLocal(project)
    pushed = {"ALOPS_GIT_PUSH_URL": str(origin)}

    query = Scenario("al-query", "al", "al/digits", {"CI_PIPELINE_SOURCE": "schedule", "ALOPS_AL_STEP": "query"})
    gcl(*SHELL_RUN, "--no-json-schema-validation", "alops-al-query", scenario=query, timeout=300)
    batch = project / ".gitlab-ci-local/artifacts/alops-al-query/.alops/al/batch"
    answers = project / ".alops/al/answers.csv"
    subprocess.run([sys.executable, "scripts/oracle.py", str(batch), str(answers)], cwd=project, check=True)
    monkeypatch.setenv("ALOPS_GIT_PUSH_URL", str(origin))
    out = alops(project, "al", "ingest", str(answers), "--push")
    assert out.startswith("Ingested round 1: +20 labels"), out
    ingested = git(project, "rev-parse", "HEAD")
    assert git(origin, "rev-parse", "al/digits") == ingested

    train = Scenario("al-train", "al", "al/digits", {"ALOPS_AL_STEP": "train"})
    assert {"alops-run-gpu", "alops-al-record"} <= set(gcl.jobs(train, variables=pushed))
    result = gcl(*SHELL_RUN, "--no-json-schema-validation", scenario=train, variables=pushed, timeout=500)

    passed = {line.split()[1] for line in result.stdout.splitlines() if line.strip().startswith("PASS")}
    assert {"alops-run-gpu", "alops-al-record"} <= passed, result.stdout
    # The record job pushed one commit on top of the ingest: the model trained on round 1, and its metrics.
    assert git(origin, "rev-parse", "al/digits~1") == ingested
    trailer = git(origin, "log", "-1", "--format=%(trailers:key=ALOps-Trained-Round,valueonly)", "al/digits")
    assert trailer == "1"
    metrics = json.loads(git(origin, "show", "al/digits:metrics/full.json"))
    assert 0.9 <= metrics["accuracy"] <= 1.0
    lock = yaml.safe_load(git(origin, "show", "al/digits:dvc.lock"))
    deps = {dep["path"]: dep["md5"] for dep in lock["stages"]["prepare@full"]["deps"]}
    assert deps["data/full"] == md5_at(origin, "al/digits", "data/full.dvc") != md5_at(origin, "main", "data/full.dvc")
