"""``alops.baseline`` on real git repositories (and shallow clones of them); GitLab faked with ``responses``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import responses
from responses import matchers

from alops import baseline
from alops.config import Config, load_config
from alops.errors import DataError
from alops.flow import Plan, current_plan

CONFIG = """version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: [train]
  metrics: ["metrics/{dataset}.json"]
"""
LOCK = """schema: '2.0'
stages:
  prepare@dev:
    cmd: python src/prepare.py dev
    deps:
    - path: data/dev
      hash: md5
      md5: {dev}
    outs:
    - path: data/prepared/dev
      hash: md5
      md5: {prepared}
  prepare@full:
    cmd: python src/prepare.py full
    outs:
    - path: data/prepared/full
      hash: md5
      md5: ffffffffffffffffffffffffffffffff.dir
  evaluate@dev:
    cmd: python src/evaluate.py dev
    outs:
    - path: metrics/dev.json
      hash: md5
      md5: 0123456789abcdef0123456789abcdef
"""
DEV_DVC = "outs:\n- md5: {md5}\n  size: 20\n  nfiles: 1\n  hash: md5\n  path: dev\n"
SERVER = "https://gitlab.example.com"
pytest_plugins = ["dvc_projects"]  # split_project: a small real git + DVC project
GITLAB = {"CI_PROJECT_ID": "42", "ALOPS_GITLAB_URL": SERVER, "ALOPS_GITLAB_TOKEN": "glpat-secret-token-value"}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def write(root: Path, *, accuracy: float, lr: float, dev: str, prepared: str, metrics: bool = True) -> None:
    (root / "metrics").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    if metrics:
        (root / "metrics/dev.json").write_text(json.dumps({"accuracy": accuracy}), encoding="utf-8")
    (root / "params.yaml").write_text(f"train:\n  lr: {lr}\n  model: logreg\nprepare: {{seed: 42}}\n", "utf-8")
    (root / "data/dev.dvc").write_text(DEV_DVC.format(md5=dev), encoding="utf-8")
    (root / "dvc.lock").write_text(LOCK.format(dev=dev, prepared=prepared), encoding="utf-8")


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A repository whose main has metrics 0.9, and a branch feature/x with 0.95 and other data."""
    root = tmp_path / "origin"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    write(root, accuracy=0.9, lr=0.01, dev="a" * 32 + ".dir", prepared="b" * 32 + ".dir")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main")
    git(root, "checkout", "-q", "-b", "feature/x")
    write(root, accuracy=0.95, lr=0.1, dev="c" * 32 + ".dir", prepared="b" * 32 + ".dir")
    git(root, "commit", "-q", "-am", "feature")
    return root


def setup(root: Path) -> tuple[Config, Plan]:
    config = load_config(root / "alops.yaml")
    return config, current_plan(config, {}, branch="feature/x", default_branch="main")


def test_current_is_the_workspace_metrics_params_and_the_flow_s_data(origin: Path) -> None:
    config, plan = setup(origin)
    (origin / "metrics/dev.json").write_text('{"accuracy": 0.97}', encoding="utf-8")  # not committed: read anyway

    snap = baseline.current(config, plan, {})

    assert (snap.label, snap.source, snap.commit) == ("workspace", "workspace", git(origin, "rev-parse", "HEAD"))
    assert snap.metrics == {"metrics/dev.json": {"accuracy": 0.97}}
    assert snap.params == {"params.yaml": {"train.lr": 0.1, "train.model": "logreg", "prepare.seed": 42}}
    assert snap.data == {  # the dev dataset's .dvc outs, and dvc.lock's outs of the dev stages only
        "data/dev": "c" * 32 + ".dir",
        "data/prepared/dev": "b" * 32 + ".dir",
        "metrics/dev.json": "0123456789abcdef0123456789abcdef",
    }


def test_the_data_versions_are_what_dvc_add_recorded(split_project: Path) -> None:
    root = split_project
    (root / "alops.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "metrics").mkdir()
    (root / "metrics/dev.json").write_text('{"accuracy": 1}', encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "alops")
    (root / "data/dev/more.csv").write_text("id,label\n3,c\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dvc", "add", "-q", "data/dev"], cwd=root, check=True)
    config, plan = setup(root)
    env = dict(os.environ)

    now = baseline.current(config, plan, env).data
    before = baseline.at_ref(config, plan, "HEAD", env).data

    assert list(now) == list(before) == ["data/dev"]
    assert now["data/dev"].endswith(".dir") and len(now["data/dev"]) == 36
    assert now != before  # dvc add recorded the new file in data/dev.dvc, not yet committed
    git(root, "commit", "-q", "-am", "more data")
    assert baseline.at_ref(config, plan, "HEAD", env).data == now


def test_at_ref_reads_what_git_has_at_the_ref(origin: Path) -> None:
    config, plan = setup(origin)

    snap = baseline.at_ref(config, plan, "main", {})

    assert (snap.label, snap.source, snap.commit) == ("main", "git", git(origin, "rev-parse", "main"))
    assert snap.metrics == {"metrics/dev.json": {"accuracy": 0.9}}
    assert snap.params["params.yaml"]["train.lr"] == 0.01
    assert snap.data["data/dev"] == "a" * 32 + ".dir"
    assert snap.note == ""


def test_a_shallow_clone_fetches_the_ref_it_lacks(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature/x", f"file://{origin}", str(clone)], check=True
    )
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "origin/main"], cwd=clone).returncode != 0
    config, plan = setup(clone)

    snap = baseline.at_ref(config, plan, "main", dict(os.environ))

    assert (snap.source, snap.commit) == ("git", git(origin, "rev-parse", "main"))
    assert snap.metrics == {"metrics/dev.json": {"accuracy": 0.9}}
    assert git(clone, "rev-parse", "refs/remotes/origin/main") == snap.commit  # fetched, as origin/main
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"  # and the clone is still shallow


def test_a_shallow_clone_refetches_a_ref_it_has_so_it_is_current(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{origin}", str(clone)])
    git(clone, "branch", "main", "origin/main")  # a local main, about to be out of date
    git(origin, "checkout", "-q", "main")
    write(origin, accuracy=0.8, lr=0.01, dev="a" * 32 + ".dir", prepared="b" * 32 + ".dir")
    git(origin, "commit", "-q", "-am", "main moved on")
    config, plan = setup(clone)

    snap = baseline.at_ref(config, plan, "main", dict(os.environ))

    assert snap.commit == git(origin, "rev-parse", "main") and snap.metrics["metrics/dev.json"] == {"accuracy": 0.8}


def test_a_full_clone_fetches_a_missing_branch_without_becoming_shallow(origin: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--branch", "feature/x", f"file://{origin}", str(clone)], check=True)
    git(origin, "branch", "experiment/new", "main")  # made after the clone: not in it
    config, plan = setup(clone)

    snap = baseline.at_ref(config, plan, "experiment/new", dict(os.environ))

    assert (snap.source, snap.commit) == ("git", git(origin, "rev-parse", "main"))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"
    gone = baseline.at_ref(config, plan, "experiment/gone", dict(os.environ))
    assert (
        "(`git fetch origin experiment/gone`: fatal: couldn't find remote ref refs/heads/experiment/gone)" in gone.note
    )


@pytest.mark.parametrize("ref", ["--upload-pack=touch pwned", "-x", "main;touch pwned", "a..b", "x.lock"])
def test_a_ref_git_would_not_allow_as_a_branch_is_never_fetched(origin: Path, ref: str) -> None:
    config, plan = setup(origin)
    snap = baseline.at_ref(config, plan, ref, {})
    assert snap.source == "none"
    assert "not a branch name git allows" in snap.note
    assert not (origin / "pwned").exists()


def test_an_unknown_branch_says_the_fetch_failed(origin: Path) -> None:
    config, plan = setup(origin)
    snap = baseline.at_ref(config, plan, "no-such-branch", {})
    assert snap.source == "none"
    assert snap.note.startswith(
        "'no-such-branch' is not a commit here, nor a branch of origin (`git fetch origin no-such-branch`: "
        "fatal: 'origin' does not appear to be a git repository), and GitLab"
    )
    assert "GitLab is not configured to read the CI artifacts of no-such-branch (set CI_PROJECT_ID" in snap.note


def test_a_ref_without_the_metrics_files_and_no_gitlab_is_no_baseline(origin: Path) -> None:
    config, plan = setup(origin)
    git(origin, "rm", "-q", "metrics/dev.json")
    git(origin, "commit", "-q", "-m", "metrics out of git")

    snap = baseline.at_ref(config, plan, "feature/x", {})

    assert (snap.source, snap.metrics, snap.params, snap.data) == ("none", {}, {}, {})
    commit = git(origin, "rev-parse", "HEAD")[:8]
    assert snap.note.startswith(f"feature/x (commit {commit}) has none of the metrics files (metrics/dev.json) in git")


# --- the baseline from CI artifacts: GitLab's API faked at the network edge ------------------------


def manifest(dataset: str = "dev", **metrics: float) -> bytes:
    return json.dumps(
        {
            "alops_manifest": 1,
            "commit": "e" * 40,
            "ref": "experiment/lr",
            "dataset": dataset,
            "params": {"params.yaml": {"train.lr": 0.5}},
            "metrics": {"metrics/dev.json": metrics},
            "data": {"data/dev": "d" * 32 + ".dir"},
            "ci": {"pipeline_url": f"{SERVER}/grp/proj/-/pipelines/7"},
        }
    ).encode()


@pytest.fixture
def no_metrics(origin: Path) -> Path:
    """origin with branch experiment/lr, whose metrics are not in git (they live in CI artifacts)."""
    git(origin, "checkout", "-q", "-b", "experiment/lr")
    git(origin, "rm", "-q", "metrics/dev.json")
    git(origin, "commit", "-q", "-m", "metrics out of git")
    return origin


ARTIFACT = f"{SERVER}/api/v4/projects/42/jobs/artifacts/experiment%2Flr/raw/alops-manifest.json"


def test_a_ref_whose_metrics_are_only_in_ci_reads_the_manifest_from_artifacts(no_metrics: Path) -> None:
    config, plan = setup(no_metrics)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(ARTIFACT, body=manifest(accuracy=0.91), match=[matchers.query_param_matcher({"job": "alops-run-gpu"})])
        snap = baseline.at_ref(config, plan, "experiment/lr", GITLAB)
        assert "experiment%2Flr" in api.calls[0].request.url  # the ref as one path segment

    assert (snap.label, snap.source, snap.commit) == ("experiment/lr", "artifacts", "e" * 40)
    assert snap.metrics == {"metrics/dev.json": {"accuracy": 0.91}}
    assert snap.params == {"params.yaml": {"train.lr": 0.5}}
    assert snap.data == {"data/dev": "d" * 32 + ".dir"}
    assert snap.pipeline_url == f"{SERVER}/grp/proj/-/pipelines/7"
    assert snap.note.endswith(": read from alops-manifest.json in the artifacts of job alops-run-gpu")


def test_a_run_on_another_dataset_is_no_baseline(no_metrics: Path) -> None:
    """A feature branch's dev metrics are never held to the default branch's full-data run."""
    config, plan = setup(no_metrics)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(ARTIFACT, body=manifest("full", accuracy=0.99))
        snap = baseline.at_ref(config, plan, "experiment/lr", GITLAB)
    assert (snap.source, snap.metrics) == ("none", {})
    assert "used the full dataset, not dev: commit experiment/lr's dev metrics" in snap.note


def test_alops_baseline_job_names_the_job(no_metrics: Path) -> None:
    config, plan = setup(no_metrics)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(ARTIFACT, body=manifest(accuracy=0.5), match=[matchers.query_param_matcher({"job": "train-gpu"})])
        snap = baseline.at_ref(config, plan, "experiment/lr", {**GITLAB, "ALOPS_BASELINE_JOB": "train-gpu"})
    assert snap.source == "artifacts"


def test_no_manifest_in_the_artifacts_is_no_baseline_and_says_what_to_do(no_metrics: Path) -> None:
    config, plan = setup(no_metrics)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(ARTIFACT, status=404, json={"message": "404 Not Found"})
        snap = baseline.at_ref(config, plan, "experiment/lr", GITLAB)
    assert (snap.source, snap.metrics) == ("none", {})
    assert snap.note.endswith(
        "and the latest successful pipeline of experiment/lr has no alops-manifest.json in the artifacts of job "
        "alops-run-gpu: run a pipeline of experiment/lr, or set ALOPS_BASELINE_JOB to the job that keeps the manifest"
    )


@pytest.mark.parametrize(
    ("env", "token"),
    [
        (GITLAB, "ALOPS_GITLAB_TOKEN"),
        ({**GITLAB, "ALOPS_GITLAB_TOKEN": "", "CI_JOB_TOKEN": "job-token-1"}, "CI_JOB_TOKEN"),
    ],
)
@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_named(no_metrics: Path, env: dict[str, str], token: str, status: int) -> None:
    config, plan = setup(no_metrics)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(ARTIFACT, status=status, json={"message": f"{status} refused"})
        with pytest.raises(DataError) as info:
            baseline.at_ref(config, plan, "experiment/lr", env)
    message = str(info.value)
    assert message.startswith("GitLab refused to read alops-manifest.json from the artifacts of job alops-run-gpu")
    assert f"the token in {token} may not read this project's job artifacts" in message
    assert "glpat-secret-token-value" not in message and "job-token-1" not in message


def test_a_broken_manifest_in_the_artifacts_is_a_data_error_naming_it(no_metrics: Path) -> None:
    config, plan = setup(no_metrics)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        api.get(ARTIFACT, body=b"<html>login</html>")
        with pytest.raises(DataError, match="alops-manifest.json of job alops-run-gpu on experiment/lr is not a run"):
            baseline.at_ref(config, plan, "experiment/lr", GITLAB)


# --- which ref is the baseline -----------------------------------------------------------------------


def test_default_ref_is_the_mr_target_then_the_default_branch_then_origin_head(origin: Path) -> None:
    config = load_config(origin / "alops.yaml")
    env = {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "release/1", "CI_DEFAULT_BRANCH": "main"}
    assert baseline.default_ref(config, env) == "release/1"
    assert baseline.default_ref(config, {"CI_DEFAULT_BRANCH": "trunk"}) == "trunk"
    assert baseline.default_ref(config, {}) is None  # no origin
    git(origin, "update-ref", "refs/remotes/origin/develop", "HEAD")
    git(origin, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/develop")
    assert baseline.default_ref(config, {}) == "develop"


def test_the_parameters_are_dotted_keys_with_lists_and_empty_maps_kept_whole(origin: Path) -> None:
    config, plan = setup(origin)
    (origin / "params.yaml").write_text("a: {b: 1, c: {d: [1, 2]}, e: {}}\nf:\n", encoding="utf-8")

    params = baseline.current(config, plan, {}).params

    assert params == {"params.yaml": {"a.b": 1, "a.c.d": [1, 2], "a.e": {}, "f": None}}
