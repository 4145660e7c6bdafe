"""alops.demo: the example project as a real repository, and the demo of its flows."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from alops.demo import FLOWS, DemoReport, FlowReport, demo, environment, prepare_project, render, skeleton
from alops.demo_round import RoundReport
from alops.errors import ConfigError


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def test_prepare_project_makes_a_clean_repository_with_its_data_on_the_remote(template: Path) -> None:
    repo, remote = template / "repo", template / "remote"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--show-current") == "main"
    assert git(repo, "remote", "get-url", "origin") == "git@gitlab.example.com:grp/proj.git"
    assert git(repo, "symbolic-ref", "refs/remotes/origin/HEAD") == "refs/remotes/origin/main"
    assert git(repo, "rev-parse", "origin/main") == git(repo, "rev-parse", "HEAD")
    tracked = set(git(repo, "ls-files").splitlines())
    assert {
        "data/full.dvc",
        "data/dev.dvc",
        "data/labels.dvc",
        "dvc.yaml",
        ".dvc/config",
        "scripts/oracle.py",
    } <= tracked
    assert {"data/dev.report.json", "data/dev.report.md"} <= tracked  # `alops devset build`'s report, for review
    assert not any(name.endswith(".csv") for name in tracked)  # data goes to DVC, never to git
    config = (repo / ".dvc/config").read_text()
    assert "remote = storage" in config and f"url = {remote}" in config
    for name in ("full", "dev", "labels"):
        dir_md5 = yaml.safe_load((repo / f"data/{name}.dvc").read_text())["outs"][0]["md5"]
        assert (remote / "files/md5" / dir_md5[:2] / dir_md5[2:]).is_file()


def test_prepare_project_refuses_a_directory_in_use(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest/keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"dest is not empty: choose a new directory for the example project"):
        prepare_project(tmp_path / "dest", tmp_path / "remote", env=dict(os.environ))


def test_the_skeleton_is_found_from_the_source_tree() -> None:
    assert (skeleton() / "dvc.yaml").is_file()


@pytest.mark.slow
def test_the_demo_environment_leaves_out_caches_credentials_and_ci() -> None:
    shell = {"PATH": "/bin", "HOME": "/h", "ALOPS_DVC_CACHE_DIR": "/shared", "AWS_SECRET_ACCESS_KEY": "s"}
    shell |= {"DVC_GLOBAL_CONFIG_DIR": "/g", "CI": "true", "CI_COMMIT_BRANCH": "main", "GITLAB_CI": "true"}
    assert environment(shell) == {"PATH": "/bin", "HOME": "/h", "DVC_NO_ANALYTICS": "1"}


@pytest.mark.slow
def test_demo_runs_the_feature_and_the_experiment_flow_then_an_active_learning_round(tmp_path: Path) -> None:
    steps: list[str] = []
    shared = tmp_path / "shared-cache"  # a runner's shared cache in the shell: the demo must not use it

    report = demo(
        tmp_path / "work", env=environment({**os.environ, "ALOPS_DVC_CACHE_DIR": str(shared)}), progress=steps.append
    )

    assert not shared.exists()

    assert len(steps) == 5 and steps[2] == "Running feature/demo in a fresh clone (feature-demo/)"
    assert steps[1] == "Training main, the default branch, on the full data: its committed metrics are the baseline"
    assert steps[4] == "Running one active-learning round on al/digits in a fresh clone (al-digits/)"
    feature, experiment = report.flows
    assert tuple(f.branch for f in report.flows) == FLOWS
    assert (feature.role, feature.dataset, feature.runner) == ("feature", "dev", "cpu")
    assert (feature.files, feature.rows, feature.not_downloaded) == (
        2,
        449,
        ("data/full", "data/labels"),
    )  # 25%, by the builder
    assert feature.reproduced == feature.stages == ("prepare@dev", "train@dev", "evaluate@dev")
    assert (feature.pushed, feature.new_remote_files) == (False, 0)
    assert 0.85 <= feature.metrics["accuracy"] <= 1.0
    assert (experiment.role, experiment.dataset, experiment.runner) == ("experiment", "full", "gpu")
    assert (experiment.files, experiment.rows, experiment.not_downloaded) == (
        3,
        1797,
        ("data/dev",),
    )  # with the log README
    assert experiment.pushed and experiment.new_remote_files > 0
    assert 0.9 <= experiment.metrics["accuracy"] <= 1.0
    # Both datasets and the label log: 4 CSV files, the log's README and 3 directory listings.
    assert report.remote_files == 8

    text = render(report)

    lines = text.splitlines()
    assert (
        f"  data      dev: 2 files, 449 rows, {feature.fetched} objects pulled from the remote; data/full, data/labels not downloaded"
        in lines
    )
    assert feature.fetched == 3  # the two CSV files and the directory's listing
    assert "  push      no, like the feature flow in CI: 0 new files on the remote" in lines
    assert (
        f"  push      yes, as the experiment flow does in CI (`alops run --push`): {experiment.new_remote_files} "
        "new files on the remote (outputs and run-cache)"
    ) in lines
    assert "  runner    its CI jobs ask for a gpu runner (tags: gpu); this machine ran them here" in lines
    # Only what happened here: nothing about what CI would do beyond the plan.
    for claim in ("takes the job", "for later pipelines", "stay in the job", "never downloaded"):
        assert claim not in text, claim

    assert_the_comparison(report, experiment, lines)
    assert_the_round(report.al, report.workdir / "al-digits", text, report.baseline)


def assert_the_comparison(report: DemoReport, experiment: FlowReport, lines: list[str]) -> None:
    """main trained and committed first; the experiment (train.C 10) against it: diff, gate, page."""
    project = report.workdir / "project"
    assert git(project, "log", "-1", "--format=%s").strip() == "main: the default branch's model and metrics"
    committed = json.loads(git(project, "show", "HEAD:metrics/full.json"))
    assert report.baseline == {k: float(v) for k, v in committed.items()}
    c = experiment.compared
    assert c is not None
    assert c.against.startswith("main (git, commit ")
    accuracy = next(m for m in c.metrics if m.key == "accuracy")
    assert (accuracy.old, accuracy.new) == (report.baseline["accuracy"], experiment.metrics["accuracy"])
    assert [(p.key, p.old, p.new) for p in c.params] == [("train.C", 1.0, 10.0)]
    assert "models/full" in {d.file for d in c.data}
    assert [(x.bound, x.outcome) for x in c.checks] == [("min", "passed"), ("max_regression", "passed")]
    assert "  gate      pass (alops gate would exit 0)" in lines
    assert (
        f"            accuracy: {accuracy.old:.4g} → {accuracy.new:.4g} ({accuracy.new - accuracy.old:+.4g})" in lines
    )
    page = c.page.read_text("utf-8")
    assert "experiment/demo" in page and "train.C" in page and page.count("data:image/png;base64,") == c.plots == 2
    assert (c.page.parent / "report.md").is_file()


def assert_the_round(al: RoundReport, clone: Path, text: str, trained: dict[str, float]) -> None:
    """The al branch's round: the batch, the oracle's answers, one new data version, the metric before and after."""
    from sklearn.datasets import load_digits

    truth = load_digits().target
    assert (al.branch, al.strategy, al.pool, len(al.batch)) == ("al/digits", "hybrid", 356, 20)
    assert al.metrics_before == trained  # the experiment's model: the same data and parameters
    scores = [q.score for q in al.batch]
    assert scores == sorted(scores, reverse=True) and all(0 <= q.confidence <= 1 for q in al.batch)
    typos = [q for q in al.batch if q.answer != str(truth[int(q.id[1:])])]
    assert len(typos) == 1 and typos[0].rejected and "is not in the label set" in typos[0].rejected
    assert all(q.rejected is None for q in al.batch if q not in typos)

    assert (al.round, al.accepted, al.labelled_after, al.pool_after) == (1, 19, 1438 + 19, 359 - 19)
    assert al.commit == git(clone, "rev-parse", "HEAD~1")  # then the retrained model's record
    assert al.subject == "alops al ingest: round 1, +19 labels (0 pseudo)"
    changed = git(clone, "show", "--format=", "--name-only", al.commit).splitlines()
    assert changed == ["data/full.dvc", "data/labels.dvc"]
    assert [v.path for v in al.versions] == changed and all(v.before != v.after for v in al.versions)
    assert git(clone, "log", "-1", "--format=%(trailers:key=ALOps-Trained-Round,valueonly)").strip() == "1"
    assert al.recorded[1] == git(clone, "rev-parse", "HEAD")
    pool = (clone / "data/full/unlabelled.csv").read_text()
    assert typos[0].id in pool and not any(q.id in pool for q in al.batch if q not in typos)

    # 19 new labels: most go to training, prepare.test_size (0.2) of them by hash to the test split
    assert al.train_rows[0] + 12 <= al.train_rows[1] <= al.train_rows[0] + 19
    assert al.metrics_after.keys() == al.metrics_before.keys() and 0.9 <= al.metrics_after["accuracy"] <= 1

    lines = text.splitlines()
    start = lines.index("al/digits")
    top = al.batch[0]
    assert lines[start + 3] == (
        "  query     20 of 356 pool samples by hybrid (score@full wrote the pool's probabilities); the top 5:"
    )
    assert lines[start + 5].split() == [top.id, top.predicted, f"{top.confidence:.3f}", f"{top.score:.3f}", top.answer]
    assert f"            commit {al.commit[:12]} on al/digits: alops al ingest: round 1, +19 labels (0 pseudo)" in lines
    v = al.versions[0]
    assert f"            data/full.dvc    {v.before[:12]} → {v.after[:12]}" in lines
    assert "  version   round 1: +19 labels, the labelled set 1,457 rows, the pool 340" in lines
    before, after = al.metrics_before["accuracy"], al.metrics_after["accuracy"]
    assert f"  retrain   trained on {al.train_rows[1]:,} rows: accuracy {before:.4g} → {after:.4g}" in text
    assert f"            rejected {typos[0].id}: {typos[0].rejected} (it stays in the pool)" in lines
    assert any(line.startswith("  time      the round ") for line in lines)
    assert (
        al.pushed
        and (
            "  push      the trainings pushed outputs and run-cache, as the al flow does in CI; the new data version "
            "and its commit stay here (in CI `alops al ingest --push` pushes both)"
        )
        in lines
    )
