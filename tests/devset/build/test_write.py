"""Faults while ``alops devset build`` writes: real signals at real moments, a full disk, a read-only one.

The command runs in its own process group in a git + DVC repository and is
killed when it reaches a given moment, seen from outside: its staging folder
appears (mid-write), or its ``dvc add`` child starts (the commit). What must
hold after each kill is in :mod:`alops.atomic`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from devset.build.test_run import configure, regular_rows, snapshot, write

from alops import atomic
from alops.cli import cli
from alops.devset.build.run import build
from alops.errors import EXIT_TOOL

STAGING = "data/.dev.csv.alops"
ALOPS = [sys.executable, "-c", "from alops.cli import run; run()"]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git + DVC repository with a dev set built by alops and committed."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet")
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=root, check=True)
    sizes = {("a", "train"): 30_000, ("b", "train"): 20_000, ("c", "test"): 10_000}
    write(root / "data/full.csv", regular_rows(sizes))
    build(
        configure(root, source="data/full.csv", output="data/dev.csv", label="label", split="split"),
        env=dict(os.environ),
    )
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "dev set")
    return root


def committed(root: Path) -> dict[str, bytes | None]:
    """The work tree but .git and .dvc's own folder (its cache and temporary files change on any DVC run)."""
    return {k: v for k, v in snapshot(root).items() if not k.startswith((".git/", ".dvc/", ".git", ".dvc"))}


def children(pid: int) -> Iterator[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return
    for kid in map(int, kids):
        yield kid
        yield from children(kid)


def running_dvc_add(pid: int) -> bool:
    for kid in children(pid):
        try:
            args = Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # `python -m dvc add`, or alops's DVC child (`python -m alops.dvc.child '{"ops": [{"op": "add", …'`).
        adding = b"add" in args or any(b'"op": "add"' in a for a in args)
        if adding and any(b"dvc" in a for a in args):
            return True
    return False


def build_until(
    root: Path, moment: Callable[[int], bool], sig: int, *args: str, settle: float = 0.0
) -> tuple[int, str]:
    """Run ``alops devset build ARGS``; ``settle`` s after ``moment`` send ``sig`` to its process group;
    its exit code and stderr."""
    proc = subprocess.Popen(
        [*ALOPS, "devset", "build", *args],
        cwd=root,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not moment(proc.pid):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the build ended before the moment to kill it: {proc.communicate()[1]}")
        time.sleep(0.002)
    time.sleep(settle)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_sigint_during_dvc_add_leaves_the_old_dev_set_dvc_file_and_report(repo: Path) -> None:
    before = committed(repo)

    # A moment after `dvc add` started: alops is waiting for it (DVC itself takes some 0.5 s to start).
    code, err = build_until(repo, running_dvc_add, signal.SIGINT, "--seed", "1", settle=0.15)

    assert code == 130, err
    assert "Traceback" not in err
    assert committed(repo) == before  # data, .dvc file, reports, .gitignore: all the old ones
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_sigkill_during_dvc_add_is_undone_by_the_next_build(repo: Path) -> None:
    before = committed(repo)

    code, _ = build_until(repo, running_dvc_add, signal.SIGKILL, "--seed", "1")

    assert code == -signal.SIGKILL
    assert (repo / STAGING / "COMMIT").is_file()  # the journal of the cut-short swap
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""  # git sees none of it
    atomic.Stage(repo / "data/dev.csv")  # what the next build does first
    assert committed(repo) == before
    result = subprocess.run([*ALOPS, "devset", "build", "--seed", "1"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (repo / STAGING).exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all").split() == [
        "M",
        "data/dev.csv.dvc",
        "M",
        "data/dev.csv.report.json",
        "M",
        "data/dev.csv.report.md",
    ]
    status = subprocess.run([sys.executable, "-m", "dvc", "status"], cwd=repo, capture_output=True, text=True)
    assert "up to date" in status.stdout


def test_sigterm_during_dvc_add_never_leaves_a_mixed_state_after_the_next_start(repo: Path) -> None:
    before = committed(repo)

    code, err = build_until(repo, running_dvc_add, signal.SIGTERM, "--seed", "1")

    assert code != 0 and "Traceback" not in err
    atomic.Stage(repo / "data/dev.csv")
    assert committed(repo) == before and not (repo / STAGING).exists()


def test_a_kill_mid_write_leaves_nothing_git_sees_and_the_next_build_cleans_up(repo: Path) -> None:
    before = committed(repo)

    code, _ = build_until(repo, lambda pid: (repo / STAGING / "new").exists(), signal.SIGKILL, "--seed", "1")

    assert code == -signal.SIGKILL
    assert (repo / STAGING).exists() and not (repo / STAGING / "COMMIT").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert committed(repo) == {**before, **{k: v for k, v in committed(repo).items() if k.startswith(STAGING)}}
    result = subprocess.run([*ALOPS, "devset", "build"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert committed(repo) == before  # the same seed: the same dev set, reports and .dvc file; no staging folder


def test_a_kill_inside_the_folder_swap_is_restored(tmp_path: Path) -> None:
    # A SIGKILL between renaming the old folder aside and renaming the new one in: no dev set at its path.
    write(tmp_path / "full/a.csv", regular_rows({("a", "train"): 500}))
    configure(tmp_path, source="full", output="dev", label="label")
    result = subprocess.run([*ALOPS, "devset", "build", "--no-track"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before = snapshot(tmp_path)
    code = (
        "import os, signal\n"
        "real = os.rename\n"
        "def rename(a, b):\n"
        "    real(a, b)\n"
        "    if str(b).endswith('/old/dev'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.rename = rename\n"
        "from alops.cli import run\n"
        "run()\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", code, "devset", "build", "--no-track", "--seed", "5"], cwd=tmp_path, check=False
    )

    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "dev").exists()
    again = subprocess.run([*ALOPS, "devset", "build", "--no-track"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert snapshot(tmp_path) == before


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs at ``tmp_path/data/small`` (mounting needs root; the tests skip without)."""
    point = tmp_path / "data/small"
    point.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(root / "alops.yaml"), "devset", "build", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_full_disk_is_an_error_that_says_so_and_leaves_the_old_dev_set(tmp_path: Path, tiny_disk: Path) -> None:
    write(tmp_path / "data/full.csv", regular_rows({("a", "train"): 20_000, ("b", "test"): 5_000}))
    configure(tmp_path, source="data/full.csv", output="data/small/dev.csv", label="label", count=20)
    assert invoke(tmp_path, "--no-track")[0] == 0  # a small dev set fits
    before = snapshot(tiny_disk)

    code, out, err = invoke(tmp_path, "--no-track", "--fraction", "0.5")  # some 500 KB do not

    assert (code, out) == (EXIT_TOOL, "")
    assert err == (
        "Error: cannot write data/small/dev.csv: the disk is full: free some space there (or point "
        "datasets.dev.build.output elsewhere) and run again; nothing was changed\n"
    )
    assert snapshot(tiny_disk) == before


def test_a_read_only_output_folder_is_an_error_that_says_so(tmp_path: Path, tiny_disk: Path) -> None:
    write(tmp_path / "data/full.csv", regular_rows({("a", "train"): 2_000}))
    configure(tmp_path, source="data/full.csv", output="data/small/dev.csv", label="label", count=20)
    assert invoke(tmp_path, "--no-track")[0] == 0
    before = snapshot(tiny_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)

    code, out, err = invoke(tmp_path, "--no-track", "--seed", "2")

    assert (code, out) == (EXIT_TOOL, "")
    assert err.startswith("Error: cannot write data/small/dev.csv: the file system is read-only: make it writable")
    assert snapshot(tiny_disk) == before


def test_a_dev_set_that_dvc_links_to_its_cache_is_rebuilt(tmp_path: Path) -> None:
    # cache.type symlink (DVC's advice for big data): the output itself is a link into .dvc/cache.
    git(tmp_path, "init", "--quiet")
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "config", "cache.type", "symlink"], cwd=tmp_path, check=True)
    write(tmp_path / "data/full.csv", regular_rows({("a", "train"): 3000}))
    build(configure(tmp_path, source="data/full.csv", output="data/dev.csv", label="label"), env=dict(os.environ))
    assert (tmp_path / "data/dev.csv").is_symlink()

    build(
        configure(tmp_path, source="data/full.csv", output="data/dev.csv", label="label", seed=4), env=dict(os.environ)
    )

    assert (tmp_path / "data/dev.csv").is_symlink()
    status = subprocess.run([sys.executable, "-m", "dvc", "status"], cwd=tmp_path, capture_output=True, text=True)
    assert "up to date" in status.stdout
    assert '"seed": 4' in (tmp_path / "data/dev.csv.report.json").read_text()


def test_what_older_builds_left_beside_the_output_is_cleaned_up_or_restored(tmp_path: Path) -> None:
    # alops 0.1.0 wrote `.<name>.alops-tmp-<pid>-<hex>` beside the output, and renamed a folder aside
    # as `.<name>.alops-old-<pid>-<hex>` while swapping: a kill left them there, visible to git.
    (tmp_path / ".dev.csv.alops-tmp-77-0a1b2c3d").write_text("half a dev set")
    (tmp_path / ".dev.csv.report.json.alops-tmp-77").write_text("{")
    (tmp_path / ".dev.alops-old-77-0a1b2c3d").mkdir()
    (tmp_path / ".dev.alops-old-77-0a1b2c3d/a.csv").write_text("the dev set\n")

    atomic.Stage(tmp_path / "dev.csv")  # what a build of each does first
    atomic.Stage(tmp_path / "dev")

    assert snapshot(tmp_path) == {"dev": None, "dev/a.csv": b"the dev set\n"}


def test_one_table_writes_the_header_and_the_chosen_lines_as_they_were_read(tmp_path: Path) -> None:
    import numpy as np

    from alops.devset.build import sampler
    from alops.devset.build import write as write_module
    from alops.devset.dataset import csvblock
    from alops.devset.dataset.locate import open_table

    data = b"a, 1\r\nb,2\nb,n/a\na,3\n"
    (tmp_path / "t.csv").write_bytes(b"label,x\n" + data)
    table = open_table(tmp_path / "t.csv", "", "csv")
    fixed = sampler.PassSettings(seed=0, fraction=1.0, count=None, regular_rate=1.0, strata=("label",), bounds={})
    columns = csvblock.Columns(table.names, ",", ("x",), ("label",))
    kept = sampler.csv_block(fixed, sampler.Running(), 0, table, columns, 0, data)
    with (tmp_path / "spill").open("w+b") as spill:
        write_module.one_table(table, [(kept, np.array([True, False, True, False]))], tmp_path / "dev.csv", spill)
    assert (tmp_path / "dev.csv").read_bytes() == b"label,x\na, 1\r\nb,n/a\n"  # a corrupt line too, verbatim
