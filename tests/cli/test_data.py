"""``alops data pull`` and ``alops data push`` on a real clone of the example project (local-directory remote).

tests/test_s3.py runs the same commands against an S3 endpoint and counts the bytes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from dvc_projects import cached_objects

from alops import dvc
from alops.cli import cli
from alops.errors import EXIT_CONFIG, EXIT_DATA, EXIT_FAILURE


def invoke(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["-c", str(project / "alops.yaml"), "data", *args], env=env, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def cached_bytes(project: Path) -> int:
    return sum(p.stat().st_size for p in (project / ".dvc/cache/files").rglob("*") if p.is_file())


def kilobytes(n: int) -> str:
    return f"{n / 1000:.1f} kB"


def test_pull_for_a_feature_branch_prints_one_line_of_counts(project: Path) -> None:
    code, out, err = invoke(project, "pull", "--branch", "feature/x")

    assert (code, err) == (0, "")
    size = kilobytes(cached_bytes(project))  # two CSV files and the directory's listing
    assert re.fullmatch(
        rf"pulled dev \(data/dev\.dvc\) from storage: 3 objects, {re.escape(size)} fetched, "
        r"0 objects already cached, \d+\.\d s\n",
        out,
    ), out
    assert (project / "data/dev/labelled.csv").is_file() and not (project / "data/full").exists()

    code, out, err = invoke(project, "pull", "--branch", "feature/x")

    assert (code, err) == (0, "")
    assert re.fullmatch(
        r"pulled dev \(data/dev\.dvc\) from storage: 0 objects, 0 B fetched, 3 objects already cached, \d+\.\d s\n", out
    )


def test_pull_a_named_dataset_needs_no_branch(project: Path) -> None:
    subprocess.run(["git", "checkout", "--quiet", "--detach"], cwd=project, check=True)
    code, out, err = invoke(project, "pull", "--dataset", "full")
    assert (code, err) == (0, "")
    assert out.startswith("pulled full (data/full.dvc, data/labels.dvc) from storage: 5 objects, ")


def test_pull_into_a_shared_cache_from_the_environment(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "runner-cache"
    code, out, err = invoke(project, "pull", "--dataset", "dev", env={"ALOPS_DVC_CACHE_DIR": str(shared)})
    assert (code, err) == (0, "")
    assert out.startswith(f"pulled dev (data/dev.dvc) from storage into the shared cache {shared}: 3 objects, ")
    found = dvc.config(project, env=os.environ)
    assert Path(found["cache_dir"]) == shared
    assert (found["cache"]["shared"], found["cache"]["type"]) == (
        "group",
        "reflink,hardlink,symlink,copy",
    )


def test_the_cache_dir_option_and_its_variable_are_in_the_help(project: Path) -> None:
    code, out, _ = invoke(project, "pull", "--help")
    assert code == 0
    assert "--cache-dir DIRECTORY" in out and "env var: ALOPS_DVC_CACHE_DIR" in out
    assert "--run-cache / --no-run-cache" in out


def test_pull_without_a_remote_says_how_to_add_one(project: Path) -> None:
    (project / ".dvc/config").write_text("")
    (project / ".dvc/config.local").unlink()
    code, out, err = invoke(project, "pull", "--branch", "feature/x")
    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        "Error: no DVC remote is configured: run `dvc remote add -d storage s3://…` and commit .dvc/config "
        "(or name a remote in alops.yaml, datasets.<name>.remote)\n"
    )


def test_an_unknown_dataset_is_a_usage_error(project: Path) -> None:
    code, out, err = invoke(project, "pull", "--dataset", "huge")
    assert code == EXIT_CONFIG
    assert "Invalid value for '--dataset': 'huge' is not one of 'auto', 'dev', 'full'." in err


def test_push_before_the_stages_ran_says_so(project: Path) -> None:
    code, out, err = invoke(project, "push", "--branch", "experiment/x")
    assert (code, out) == (EXIT_FAILURE, "")
    assert err == (
        "Error: nothing to push: prepare@full, train@full, evaluate@full have no outputs recorded here (dvc.lock): "
        "run them first (`alops run`), then push\n"
    )


def test_push_sends_what_the_remote_lacks_once(project: Path, tmp_path: Path) -> None:
    invoke(project, "pull", "--dataset", "dev")
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q", "prepare@dev"], cwd=project, check=True)
    remote_before = {p for p in (tmp_path / "remote").rglob("*") if p.is_file()}

    code, out, err = invoke(project, "push", "--branch", "feature/x", "--no-run-cache")

    assert (code, err) == (0, "")
    sent = {p for p in (tmp_path / "remote").rglob("*") if p.is_file()} - remote_before
    size = kilobytes(sum(p.stat().st_size for p in sent))
    assert re.fullmatch(
        rf"pushed prepare@dev, train@dev, evaluate@dev to storage: {len(sent)} objects, {re.escape(size)} sent, "
        r"0 objects already there, \d+\.\d s\n",
        out,
    ), out
    assert not any(p.relative_to(tmp_path / "remote").parts[0] == "runs" for p in sent)

    code, out, err = invoke(project, "push", "--branch", "feature/x")

    assert (code, err) == (0, "")
    assert re.fullmatch(
        rf"pushed prepare@dev, train@dev, evaluate@dev and the run-cache to storage: 0 objects, 0 B sent, "
        rf"{len(sent)} objects already there, \d+\.\d s\n",
        out,
    ), out
    remote = tmp_path / "remote"
    assert any(p.relative_to(remote).parts[0] == "runs" for p in remote.rglob("*") if p.is_file())


def _drop_from_cache(project: Path, stages: list[str]) -> None:
    for path in cached_objects(project, stages):
        path.chmod(0o644)
        path.unlink()


def test_push_of_outputs_on_neither_the_cache_nor_the_remote_names_them(project: Path, tmp_path: Path) -> None:
    invoke(project, "pull", "--dataset", "dev")
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q", "prepare@dev"], cwd=project, check=True)
    _drop_from_cache(project, ["prepare@dev"])  # a `dvc gc`, or a clone given dvc.lock but not the cache
    remote_before = {p for p in (tmp_path / "remote").rglob("*") if p.is_file()}

    code, out, err = invoke(project, "push", "--branch", "feature/x", "--no-run-cache")

    assert (code, out) == (EXIT_FAILURE, "")
    assert re.fullmatch(
        r"Error: nothing pushed: (\d+) outputs? of prepare@dev, train@dev, evaluate@dev (is|are) on neither the "
        r"local DVC cache nor remote `storage`: (?P<paths>[^ ]+(, [^ ]+)*)\. Where the workspace still has them, "
        r"record them with `dvc commit prepare@dev train@dev evaluate@dev`; otherwise run the stages again "
        r"\(`alops run`, or `dvc repro prepare@dev train@dev evaluate@dev`\), then push\n",
        err,
    ), err
    assert "data/prepared/dev" in err
    assert {p for p in (tmp_path / "remote").rglob("*") if p.is_file()} == remote_before


def test_push_of_outputs_the_remote_has_already_needs_no_cache(project: Path) -> None:
    invoke(project, "pull", "--dataset", "dev")
    subprocess.run([sys.executable, "-m", "dvc", "repro", "-q", "prepare@dev"], cwd=project, check=True)
    code, out, _ = invoke(project, "push", "--branch", "feature/x", "--no-run-cache")
    assert code == 0
    sent = int(re.search(r": (\d+) objects?, ", out).group(1))  # type: ignore[union-attr]
    _drop_from_cache(project, ["prepare@dev"])

    code, out, err = invoke(project, "push", "--branch", "feature/x", "--no-run-cache")

    assert (code, err) == (0, "")
    assert sent > 1
    # The directory's listing is not here, so only the listing itself can be counted as already there.
    assert re.fullmatch(
        r"pushed prepare@dev, train@dev, evaluate@dev to storage: 0 objects, 0 B sent, 1 object already there, "
        r"\d+\.\d s\n",
        out,
    ), out
