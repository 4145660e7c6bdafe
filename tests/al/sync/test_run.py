"""alops.al.sync on real git and DVC: an al branch's data versions into an experiment branch, code untouched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import al_repo
import pytest
import yaml
from al_repo import dvc, git

from alops.al.sync.run import sync
from alops.config import load_config
from alops.errors import ConfigError, ToolError

pytestmark = pytest.mark.slow


@pytest.fixture
def _base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """main, al/digits (rounds 1-3, trained after 1 and 2), experiment/lr (code and params changed, retrained)."""
    return al_repo.template(tmp_path_factory.getbasetemp())


@pytest.fixture
def repo(_base: tuple[Path, Path], tmp_path: Path) -> Path:
    return al_repo.copy(*_base, tmp_path / "repo", tmp_path / "remote")


def changed(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "diff", "--name-only", f"{rev}~1", rev).split()


def status(root: Path) -> dict[str, object]:
    return json.loads(dvc(root, "status", "--json"))  # type: ignore[no-any-return]


def test_sync_commits_the_data_files_only_and_dvc_sees_the_data_stage_changed(repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD").strip()
    al_tip = git(repo, "rev-parse", "al/digits").strip()

    report = sync(load_config(repo / "alops.yaml"), "al/digits", env=dict(os.environ))

    assert report.commit == git(repo, "rev-parse", "HEAD").strip() != before
    assert git(repo, "rev-parse", "HEAD~1").strip() == before
    assert changed(repo) == ["data/.gitignore", "data/full.dvc", "data/labels.dvc"]
    assert [c.file for c in report.changes] == ["data/full.dvc", "data/labels.dvc"]
    assert report.changes[1].ours is None  # the label log is new on this branch
    for name in ("data/full.dvc", "data/labels.dvc"):
        assert (repo / name).read_text() == git(repo, "show", f"al/digits:{name}")
    assert "/labels" in (repo / "data/.gitignore").read_text().splitlines()
    assert [i.round for i in report.rounds] == [1, 2, 3]
    assert git(repo, "status", "--porcelain") == ""
    # The commit says where the data came from, in its message and its trailers.
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith(f"alops al sync: data of al/digits@{al_tip[:12]} (rounds 1-3, +12 labels)\n")
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)")
    assert trailers == f"ALOps-Synced-From: al/digits@{al_tip}\nALOps-Synced-Round: 3\n\n"
    # Code, parameters and dvc.lock are this branch's: its own train.py and lr, its own locked outputs.
    assert "rows / 99" in (repo / "src/train.py").read_text()
    assert "lr: 0.5" in (repo / "params.yaml").read_text()
    assert (repo / "dvc.lock").read_text() == git(repo, "show", f"{before}:dvc.lock")
    # Once the data is pulled, DVC sees exactly the stage that reads it as changed; nothing else.
    dvc(repo, "pull", "-q")
    assert status(repo) == {"prepare@full": [{"changed deps": {"data/full": "modified"}}]}
    assert len(al_repo.read_rows(repo / "data/full/labelled.csv")) == 6 + 12
    assert sorted(p.name for p in (repo / "data/labels").iterdir())[-1] == "round-0003.json"


def test_a_second_sync_is_a_no_op(repo: Path) -> None:
    config = load_config(repo / "alops.yaml")
    sync(config, "al/digits", env=dict(os.environ))
    head = git(repo, "rev-parse", "HEAD")

    again = sync(config, "al/digits", env=dict(os.environ))

    assert (again.commit, again.changes, again.rounds) == (None, (), ())
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""


def test_sync_with_pull_fetches_the_new_data(repo: Path) -> None:
    report = sync(load_config(repo / "alops.yaml"), "al/digits", pull=True, env=dict(os.environ))

    assert report.pulled
    assert (repo / "data/labels/round-0001.csv").is_file()
    assert status(repo) == {"prepare@full": [{"changed deps": {"data/full": "modified"}}]}


def test_only_new_rounds_are_named_after_an_earlier_sync(repo: Path) -> None:
    config = load_config(repo / "alops.yaml")
    sync(config, "al/digits", env=dict(os.environ))
    git(repo, "checkout", "-q", "al/digits")
    dvc(repo, "checkout", "-q", "--force")
    al_repo.ingest(repo, 4, {"s020": "b"})
    git(repo, "checkout", "-q", "experiment/lr")
    dvc(repo, "checkout", "-q", "--force")

    report = sync(config, "al/digits", env=dict(os.environ))

    assert [i.round for i in report.rounds] == [4]
    assert changed(repo) == ["data/full.dvc", "data/labels.dvc"]


def test_data_changed_on_both_branches_is_a_conflict_and_nothing_is_written(repo: Path) -> None:
    rows = al_repo.read_rows(repo / "data/full/labelled.csv")
    al_repo.write_rows(repo / "data/full/labelled.csv", [*rows, ["s029", "29", "b", ""]])
    dvc(repo, "add", "-q", "data/full")
    git(repo, "commit", "-q", "-m", "a label of our own", "--", "data/full.dvc")
    head = git(repo, "rev-parse", "HEAD")
    ours = json.dumps(git(repo, "show", "HEAD:data/full.dvc"))
    base = git(repo, "merge-base", "HEAD", "al/digits").strip()

    with pytest.raises(ConfigError) as caught:
        sync(load_config(repo / "alops.yaml"), "al/digits", env=dict(os.environ))

    ours_md5 = _md5(git(repo, "show", "HEAD:data/full.dvc"))
    theirs_md5 = _md5(git(repo, "show", "al/digits:data/full.dvc"))
    text = str(caught.value)
    assert text.startswith(
        f"cannot sync from al/digits: these data files changed on both branches since they diverged at {base[:12]}"
    )
    assert f"  data/full.dvc: this branch {ours_md5}, al/digits@" in text
    assert text.splitlines()[1].endswith(theirs_md5)
    assert "Nothing was changed" in text
    assert git(repo, "rev-parse", "HEAD") == head
    assert json.dumps(git(repo, "show", "HEAD:data/full.dvc")) == ours
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / "data/labels.dvc").exists()  # not even the file without a conflict


def test_uncommitted_changes_to_a_data_file_are_refused(repo: Path) -> None:
    (repo / "data/full.dvc").write_text((repo / "data/full.dvc").read_text() + "# edited\n")

    with pytest.raises(ConfigError, match=r"^cannot sync: data/full.dvc has changes not committed; commit them"):
        sync(load_config(repo / "alops.yaml"), "al/digits", env=dict(os.environ))

    assert git(repo, "log", "-1", "--format=%s") == "experiment: lr 0.5\n"


def test_a_branch_that_is_nowhere_is_refused(repo: Path) -> None:
    with pytest.raises(ConfigError, match="no branch 'al/nope' here, and no git remote 'origin' to fetch it from"):
        sync(load_config(repo / "alops.yaml"), "al/nope", env=dict(os.environ))
    git(repo, "remote", "add", "origin", str(repo))
    with pytest.raises(ConfigError, match="no branch 'al/nope' here or on 'origin'"):
        sync(load_config(repo / "alops.yaml"), "al/nope", env=dict(os.environ))
    with pytest.raises(ConfigError, match="is not a valid branch name"):
        sync(load_config(repo / "alops.yaml"), "-x", env=dict(os.environ))


def test_a_shallow_single_branch_clone_fetches_the_al_branch(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "ci"
    url = f"file://{repo}"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--single-branch", "-b", "experiment/lr", url, str(clone)], check=True
    )
    al_repo.point_at(clone, tmp_path / "remote")

    report = sync(load_config(clone / "alops.yaml"), "al/digits", env=dict(os.environ))

    assert report.ref == "origin/al/digits"
    assert [i.round for i in report.rounds] == [1, 2, 3]
    assert changed(clone) == ["data/.gitignore", "data/full.dvc", "data/labels.dvc"]


def _md5(text: str) -> str:
    return next(line.split(": ")[1] for line in text.splitlines() if "md5:" in line)


def test_a_dataset_a_stage_makes_is_taken_from_dvc_lock_entry_by_entry(repo: Path) -> None:
    config = repo / "alops.yaml"
    config.write_text(config.read_text().replace("[data/full.dvc]", "[data/full.dvc, data/prepared/full]"))
    git(repo, "commit", "-q", "-m", "the prepared data is data too", "--", "alops.yaml")
    ours = (repo / "dvc.lock").read_text()
    theirs = git(repo, "show", "al/digits:dvc.lock")

    report = sync(load_config(config), "al/digits", env=dict(os.environ))

    assert changed(repo) == ["data/.gitignore", "data/full.dvc", "data/labels.dvc", "dvc.lock"]
    assert [(c.file, c.stage, c.output) for c in report.changes][-1] == (
        "dvc.lock",
        "prepare@full",
        "data/prepared/full",
    )
    new, lock = (repo / "dvc.lock").read_text(), yaml.safe_load(ours)
    outs = lock["stages"]["prepare@full"]["outs"]
    outs[0] = yaml.safe_load(theirs)["stages"]["prepare@full"]["outs"][0]
    assert yaml.safe_load(new) == lock  # that entry is theirs, everything else ours
    diff = git(repo, "diff", "-U0", "HEAD~1", "--", "dvc.lock").splitlines()[4:]
    assert [line.split(":")[0] for line in diff if line[0] in "+-"] == [
        "-      md5",
        "-      size",
        "+      md5",
        "+      size",
    ]
    dvc(repo, "pull", "-q")
    assert status(repo) == {
        "prepare@full": [{"changed deps": {"data/full": "modified"}}],
        "train@full": [{"changed deps": {"data/prepared/full": "modified"}}],
    }


def test_other_changes_stay_out_of_the_commit_and_as_they_were(repo: Path) -> None:
    (repo / "src/train.py").write_text("# staged, not synced\n")
    git(repo, "add", "src/train.py")
    (repo / "dvc.lock").write_text((repo / "dvc.lock").read_text() + "# a local repro, not committed\n")

    sync(load_config(repo / "alops.yaml"), "al/digits", env=dict(os.environ))

    assert changed(repo) == ["data/.gitignore", "data/full.dvc", "data/labels.dvc"]
    assert sorted(git(repo, "status", "--porcelain").splitlines()) == [" M dvc.lock", "M  src/train.py"]


def test_a_failed_commit_puts_every_file_back(repo: Path) -> None:
    hook = repo / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho refused by the hook >&2\nexit 1\n")
    hook.chmod(0o755)
    head = git(repo, "rev-parse", "HEAD")

    with pytest.raises(ToolError, match="refused by the hook"):
        sync(load_config(repo / "alops.yaml"), "al/digits", env=dict(os.environ))

    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
