"""alops data pull/push against a real S3 endpoint (moto's server), counting what goes over the wire.

DVC reaches the bucket through tests/s3.py's proxy, so every byte the server
sends or receives is counted there, independently of what alops reports.
The project: data/full (6 files, 12 MB) and data/dev (3 files, 300 kB), both
on the bucket, and a stage per dataset that writes a model of several MB.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from dvc_projects import cached_objects

from alops import dvc
from alops.cli import cli
from alops.errors import EXIT_DATA, EXIT_FAILURE

from helpers import isolate
from s3 import (
    CREDENTIALS,
    S3,
    CountingProxy,
    MotoServer,
    authenticating_server,
    tree_bytes,
    write_random,
)

#: How long a push may take to report a network cut, measured generously: with
#: alops's defaults (alops.dvc.TRANSFER_DEFAULTS) a reset connection is reported
#: in a few seconds and a silent one after 2 x 2 x the read timeout (10 s: about 45 s
#: measured here), as alops stops DVC once one object's transfer has failed so.
CUT_REPORTED_WITHIN = 30

FULL = {f"part-{i}.bin": 2_000_000 for i in range(6)}
DEV = {f"part-{i}.bin": 100_000 for i in range(3)}
FULL_BYTES, DEV_BYTES = sum(FULL.values()), sum(DEV.values())
#: HTTP headers, listings and the .dir objects around the data itself.
OVERHEAD = 64_000

ALOPS_YAML = """\
version: 1
datasets:
  full: {targets: [data/full.dvc]}
  dev: {targets: [data/dev.dvc]}
pipeline:
  train: ["train@{dataset}"]
"""
DVC_YAML = """\
stages:
  train:
    foreach: [dev, full]
    do:
      cmd: python train.py ${item}
      deps: ["train.py", "data/${item}"]
      outs: ["models/${item}"]
"""
# A "model": 4 incompressible parts, half the data's size, a pure function of
# the data. Each run appends a line to $TRAIN_RUNS_LOG, so a test can tell a
# stage that ran from one restored from the run-cache.
TRAIN_PY = """\
import hashlib, os, random, sys
from pathlib import Path

name = sys.argv[1]
data = b"".join(p.read_bytes() for p in sorted(Path("data", name).iterdir()))
rng = random.Random(hashlib.sha256(data).digest())
out = Path("models", name)
out.mkdir(parents=True, exist_ok=True)
for i in range(4):
    (out / f"part-{i}.bin").write_bytes(rng.randbytes(len(data) // 8))
if os.environ.get("TRAIN_RUNS_LOG"):
    with open(os.environ["TRAIN_RUNS_LOG"], "a") as log:
        log.write(name + "\\n")
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _dvc(repo: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def s3_template(tmp_path_factory: pytest.TempPathFactory, s3_proxy: CountingProxy) -> Iterator[Path]:
    """The project as a git repository whose default DVC remote is the bucket, through the proxy.

    Its own cache holds every data object; each test's ``s3`` fixture empties
    the bucket, and ``clone`` seeds it again.
    """
    base = tmp_path_factory.mktemp("s3-project")
    repo = base / "repo"
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "home")
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        _dvc(repo, "init", "-q")
        (repo / "alops.yaml").write_text(ALOPS_YAML)
        (repo / "dvc.yaml").write_text(DVC_YAML)
        (repo / "train.py").write_text(TRAIN_PY)
        write_random(repo / "data/full", FULL, seed=1)
        write_random(repo / "data/dev", DEV, seed=2)
        _dvc(repo, "add", "-q", "data/full", "data/dev")
        remote = S3.__new__(S3)  # only for its config text: the proxy's address is fixed for the session
        remote.proxy, remote.url = s3_proxy, "s3://alops-data/store"
        (repo / ".dvc/config").write_text(remote.remote_config())
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "-m", "data on S3")
    yield repo


@pytest.fixture
def clone(s3_template: Path, s3: S3, tmp_path: Path) -> Path:
    """A fresh clone (empty DVC cache) of the project, its data on the emptied bucket; proxy counters at 0."""
    s3.seed(s3_template / ".dvc/cache")
    dest = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(s3_template), str(dest))
    s3.proxy.reset_counts()
    return dest


def alops(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(repo / "alops.yaml"), *args], env=env, catch_exceptions=False)
    for secret in CREDENTIALS.values():
        assert secret not in result.output, "a secret reached the output"
    return result.exit_code, result.stdout, result.stderr


def _can_reflink(where: Path) -> bool:
    (where / "probe").write_bytes(b"x")
    return subprocess.run(["cp", "--reflink=always", "probe", "probe2"], cwd=where, capture_output=True).returncode == 0


def cache_keys(repo: Path) -> set[str]:
    cache = repo / ".dvc/cache"
    return {str(p.relative_to(cache)) for p in (cache / "files").rglob("*") if p.is_file()} if cache.exists() else set()


def dataset_keys(repo: Path, target: str) -> set[str]:
    cache = repo / ".dvc/cache"
    return {str(p.relative_to(cache)) for p in cached_objects(repo, [target])}


# --- pulls --------------------------------------------------------------------------------


def test_a_feature_branch_pulls_the_dev_objects_only(clone: Path, s3: S3, s3_template: Path) -> None:
    code, out, err = alops(clone, "data", "pull", "--branch", "feature/x")

    assert (code, err) == (0, "")
    assert re.fullmatch(
        r"pulled dev \(data/dev\.dvc\) from storage: 4 objects, 300\.\d kB fetched, 0 objects already cached, "
        r"\d+\.\d s\n",
        out,
    ), out
    # What the server sent: the dev data and a little HTTP, far from the full data's 12 MB.
    assert DEV_BYTES <= s3.proxy.received < DEV_BYTES + OVERHEAD
    assert cache_keys(clone) == dataset_keys(clone, "data/dev.dvc")
    assert not (clone / "data/full").exists()
    assert tree_bytes(clone / "data/dev") == tree_bytes(s3_template / "data/dev")


def test_an_experiment_branch_pulls_the_full_data(clone: Path, s3: S3) -> None:
    code, out, _ = alops(clone, "data", "pull", "--branch", "experiment/x")

    assert code == 0
    assert out.startswith("pulled full (data/full.dvc) from storage: 7 objects, 12.0 MB fetched, 0 objects already")
    assert FULL_BYTES <= s3.proxy.received < FULL_BYTES + OVERHEAD
    assert not (clone / "data/dev").exists()


def test_a_second_pull_fetches_nothing_and_asks_the_server_nothing(clone: Path, s3: S3) -> None:
    alops(clone, "data", "pull", "--dataset", "dev")
    s3.proxy.reset_counts()

    code, out, _ = alops(clone, "data", "pull", "--dataset", "dev")

    assert code == 0
    assert re.fullmatch(
        r"pulled dev \(data/dev\.dvc\) from storage: 0 objects, 0 B fetched, 4 objects already cached, "
        r"\d+\.\d s\n",
        out,
    ), out
    assert (s3.proxy.received, s3.proxy.sent, s3.proxy.connections) == (0, 0, 0)


def test_a_restored_dvc_cache_fetches_nothing(clone: Path, s3: S3, tmp_path: Path, s3_template: Path) -> None:
    # What a GitLab `cache:` keyed on data/dev.dvc gives the next job: .dvc/cache of an earlier one.
    alops(clone, "data", "pull", "--dataset", "dev")
    later = tmp_path / "later-job"
    _git(tmp_path, "clone", "-q", str(s3_template), str(later))
    shutil.copytree(clone / ".dvc/cache", later / ".dvc/cache")
    s3.proxy.reset_counts()

    code, out, _ = alops(later, "data", "pull", "--dataset", "dev")

    assert code == 0 and ": 0 objects, 0 B fetched, 4 objects already cached" in out
    assert s3.proxy.received == 0
    assert tree_bytes(later / "data/dev") == tree_bytes(clone / "data/dev")


def test_a_shared_runner_cache_serves_the_second_job(clone: Path, s3: S3, tmp_path: Path, s3_template: Path) -> None:
    shared = tmp_path / "dvc-cache"
    env = {"ALOPS_DVC_CACHE_DIR": str(shared)}

    code, out, _ = alops(clone, "data", "pull", "--dataset", "full", env=env)

    assert code == 0
    assert out.startswith(
        f"pulled full (data/full.dvc) from storage into the shared cache {shared}: 7 objects, 12.0 MB"
    )
    assert FULL_BYTES <= s3.proxy.received < FULL_BYTES + OVERHEAD
    assert cache_keys(clone) == set(), "objects went to the shared cache only"
    found = dvc.config(clone, env=os.environ)
    assert (found["cache"]["shared"], found["cache"]["type"]) == ("group", "reflink,hardlink,symlink,copy")
    assert Path(found["cache_dir"]) == shared

    other = tmp_path / "other-job"
    _git(tmp_path, "clone", "-q", str(s3_template), str(other))
    s3.proxy.reset_counts()
    code, out, _ = alops(other, "data", "pull", "--dataset", "full", env=env)

    assert code == 0 and ": 0 objects, 0 B fetched, 7 objects already cached" in out
    assert s3.proxy.received == 0
    assert tree_bytes(other / "data/full") == tree_bytes(s3_template / "data/full")
    linked = other / "data/full/part-0.bin"
    # A link, not a copy: a symlink, a hard link (the cache's inode), or a reflink where the file system has them.
    assert linked.is_symlink() or linked.stat().st_nlink > 1 or _can_reflink(tmp_path), "workspace files are copies"


# --- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "branch"), [(("--dataset", "full"), "feature/x"), ((), "experiment/lr")], ids=["full", "auto"]
)
def test_full_data_without_credentials_on_an_unprotected_branch(
    clone: Path, s3: S3, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], branch: str
) -> None:
    for key in CREDENTIALS:
        monkeypatch.delenv(key)
    env = {
        "CI": "true",
        "CI_COMMIT_BRANCH": branch,
        "CI_COMMIT_REF_NAME": branch,
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_REF_PROTECTED": "false",
    }

    code, out, err = alops(clone, "data", "pull", *args, env=env)

    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        "Error: the full dataset's remote `storage` (s3://alops-data/store) needs credentials; CI/CD variables "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are given only to protected branches "
        f"(this branch '{branch}' is not protected: CI_COMMIT_REF_PROTECTED=false) — protect it or use the dev dataset\n"
    )
    assert s3.proxy.connections == 0, "refused before DVC ever reached the remote"


def test_the_dev_data_without_credentials_names_the_dev_key(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in CREDENTIALS:
        monkeypatch.delenv(key)
    code, _, err = alops(
        clone, "data", "pull", "--dataset", "dev", env={"CI": "true", "CI_COMMIT_REF_PROTECTED": "false"}
    )
    assert code == EXIT_DATA
    assert err.startswith("Error: the dev dataset's remote `storage` (s3://alops-data/store) needs credentials: give ")


# --- pushes -------------------------------------------------------------------------------------


def test_a_push_cut_mid_transfer_completes_on_the_next_run(
    clone: Path, s3: S3, tmp_path: Path, s3_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alops(clone, "data", "pull", "--dataset", "full")
    _dvc(clone, "repro", "train@full")
    model = tree_bytes(clone / "models/full")
    model_bytes = sum(map(len, model.values()))  # 4 parts, 6 MB
    before = s3.objects()

    # The network goes down 2.5 MB into the upload: connections reset, new ones refused.
    # With botocore's and s3fs's own retries (5 x 5 attempts) this took minutes to report.
    s3.proxy.reset_counts()
    s3.proxy.cut_after(2_500_000)
    started = time.monotonic()
    code, out, err = alops(clone, "data", "push", "--branch", "experiment/x")
    assert time.monotonic() - started < CUT_REPORTED_WITHIN

    assert s3.proxy.down and s3.proxy.sent >= 2_500_000
    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith("Error: the transfer to DVC remote `storage` was cut off (network): run the command again")
    partial = {k for k in set(s3.objects()) - set(before) if k.startswith("files/")}  # DVC sends runs/ entries first
    assert len(partial) < 5, "the cut came before every object was uploaded"
    assert s3.corrupt_objects() == [], "an interrupted upload left no truncated object behind"

    s3.proxy.heal()
    s3.proxy.reset_counts()
    code, out, err = alops(clone, "data", "push", "--branch", "experiment/x")

    assert (code, err) == (0, "")
    missing = 5 - len(partial)
    assert re.fullmatch(
        rf"pushed train@full and the run-cache to storage: {missing} objects?, [\d.]+ MB sent, "
        rf"{5 - missing} objects? already there, \d+\.\d s\n",
        out,
    ), out
    assert s3.proxy.sent < model_bytes + OVERHEAD
    assert s3.corrupt_objects() == []
    assert set(s3.objects()) >= set(before) | dataset_keys(clone, "models/full")
    assert any(k.startswith("runs/") for k in s3.objects())

    # Idempotent: a third push sends no object, only the questions of what the remote has.
    s3.proxy.reset_counts()
    code, out, _ = alops(clone, "data", "push", "--branch", "experiment/x")
    assert code == 0 and ": 0 objects, 0 B sent, 5 objects already there" in out
    assert s3.proxy.sent < OVERHEAD

    # A fresh clone gets everything back, byte for byte.
    fresh = tmp_path / "fresh"
    _git(tmp_path, "clone", "-q", str(clone), str(fresh))
    shutil.copy(clone / "dvc.lock", fresh / "dvc.lock")  # not committed: the job's artifact in CI
    _dvc(fresh, "pull", "data/full.dvc", "data/dev.dvc", "train@full")
    assert tree_bytes(fresh / "models/full") == model
    assert tree_bytes(fresh / "data") == tree_bytes(s3_template / "data")


def test_the_run_cache_lets_another_job_skip_a_stage(
    clone: Path, s3: S3, tmp_path: Path, s3_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs.log"
    monkeypatch.setenv("TRAIN_RUNS_LOG", str(runs))
    alops(clone, "data", "pull", "--dataset", "dev")
    _dvc(clone, "repro", "train@dev")
    code, out, _ = alops(clone, "data", "push", "--branch", "feature/x")
    assert code == 0 and out.startswith("pushed train@dev and the run-cache to storage: 5 objects")

    other = tmp_path / "other-job"
    _git(tmp_path, "clone", "-q", str(s3_template), str(other))
    code, out, _ = alops(other, "data", "pull", "--dataset", "dev", "--run-cache")
    assert code == 0
    assert re.search(
        r"^pulled dev \(data/dev\.dvc\) and the run-cache from storage: 4 objects, .* 1 run-cache entry fetched", out
    )

    repro = _dvc(other, "repro", "--pull", "train@dev")
    assert "Stage 'train@dev' is cached - skipping run" in repro
    assert runs.read_text() == "dev\n", "the stage ran once, in the first job"
    assert tree_bytes(other / "models/dev") == tree_bytes(clone / "models/dev")


def test_a_silent_network_during_a_push_is_reported_within_the_bound(
    clone: Path, s3: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every connection stays open and nothing comes back, as on a link that drops packets:
    # only the read timeout ends each attempt (aiohttp has none while it waits for
    # "100 Continue", so alops.dvc.bounds sends uploads without Expect).
    alops(clone, "data", "pull", "--dataset", "dev")
    _dvc(clone, "repro", "train@dev")
    monkeypatch.setenv("ALOPS_S3_READ_TIMEOUT", "2")  # the default is 10 s: the same bound, 5 times shorter
    s3.proxy.stall_after(20_000)
    started = time.monotonic()

    code, out, err = alops(clone, "data", "push", "--branch", "feature/x")

    took = time.monotonic() - started
    assert s3.proxy.stalled
    assert (code, out) == (EXIT_DATA, ""), err
    assert err.startswith("Error: the transfer to DVC remote `storage` was cut off (network): run the command again")
    assert "Read timeout on endpoint URL" in err
    assert took < CUT_REPORTED_WITHIN, f"reported {took:.0f} s after the network went silent"
    s3.proxy.heal()
    assert s3.corrupt_objects() == []


def test_a_remote_unreachable_from_the_start_is_exit_code_4_naming_the_remote(clone: Path, s3: S3) -> None:
    alops(clone, "data", "pull", "--dataset", "dev")
    _dvc(clone, "repro", "train@dev")
    s3.proxy.cut_after(0)  # `dvc status --cloud`, the first thing a push asks, never gets through

    code, out, err = alops(clone, "data", "push", "--branch", "feature/x")

    assert (code, out) == (EXIT_DATA, "")
    assert err.startswith(
        "Error: DVC remote `storage` (s3://alops-data/store) cannot be reached (network): check the network and "
        "the remote's endpointurl, then run again. DVC said:\n"
    ), err


def test_a_bucket_that_does_not_exist_is_exit_code_4_saying_what_to_check(clone: Path, s3: S3) -> None:
    alops(clone, "data", "pull", "--dataset", "dev")
    _dvc(clone, "repro", "train@dev")
    (clone / ".dvc/config.local").write_text("['remote \"storage\"']\n    url = s3://no-such-bucket/store\n")

    code, out, err = alops(clone, "data", "push", "--branch", "feature/x")

    assert (code, out) == (EXIT_DATA, "")
    assert err == (
        "Error: the bucket of DVC remote `storage` (s3://no-such-bucket/store) does not exist (NoSuchBucket): "
        "check the remote's url and endpointurl (`dvc remote list`, `dvc config --list`), or create the bucket\n"
    )


# --- credentials the server refuses: moto checking signatures ------------------------------


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MotoServer, dict[str, str]]]:
    server, key = authenticating_server(tmp_path_factory.mktemp("auth-moto") / "moto_server.log")
    yield server, key
    server.stop()


REFUSED = {
    "an unknown key": {"AWS_ACCESS_KEY_ID": "AKIAALOPSUNKNOWN0000", "AWS_SECRET_ACCESS_KEY": "not-the-secret-0"},
    "a wrong secret": {"AWS_SECRET_ACCESS_KEY": "not-the-secret-1"},  # the user's key id, another secret
}
#: S3's code depends on the request that was refused first: a HEAD answers a bare 403.
REFUSED_MESSAGE = re.compile(
    re.escape("Error: the dev dataset's remote `storage` (s3://alops-data/store) refused this job's credentials ")
    + r"\((403|InvalidAccessKeyId|SignatureDoesNotMatch)\)"
    + re.escape(
        ": check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, and AWS_SESSION_TOKEN for "
        "temporary keys) are current and allowed to read and write the bucket, and that the remote's url, "
        "endpointurl and region are right (`dvc remote list`)"
    )
)


def _on(repo: Path, server: MotoServer) -> None:
    (repo / ".dvc/config.local").write_text(f"['remote \"storage\"']\n    endpointurl = {server.url}\n")


def test_refused_credentials_are_exit_code_4_for_push_and_pull(
    clone: Path, s3: S3, auth_server: tuple[MotoServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, key = auth_server
    alops(clone, "data", "pull", "--dataset", "dev")
    _dvc(clone, "repro", "train@dev")
    shutil.rmtree(clone / "data/dev")
    shutil.rmtree(clone / ".dvc/cache/files")  # the pull must ask the remote
    _on(clone, server)
    for case, wrong in REFUSED.items():
        for key_name, value in {**key, **wrong}.items():
            monkeypatch.setenv(key_name, value)
        for command in (("push", "--branch", "feature/x"), ("pull", "--dataset", "dev")):
            code, out, err = alops(clone, "data", *command, env={**key, **wrong})
            assert (code, out) == (EXIT_DATA, ""), (case, command, err)
            assert REFUSED_MESSAGE.fullmatch(err.rstrip("\n")), (case, command, err)
            assert key["AWS_SECRET_ACCESS_KEY"] not in err and wrong["AWS_SECRET_ACCESS_KEY"] not in err

    # The same project with the right key pair pushes (the server does check: this is not a refusal of everything).
    for key_name, value in key.items():
        monkeypatch.setenv(key_name, value)
    code, _, err = alops(clone, "data", "pull", "--dataset", "dev")
    assert code == EXIT_DATA and "needed by `dvc pull" in err  # authenticated: the data is just not on this server


def _alops_cli(repo: Path, *args: str, env: dict[str, str], tty: bool) -> tuple[int, str]:
    """``alops ARGS`` as a program: its output through a pseudo-terminal (as in a shell) or a pipe (as in CI)."""
    command = [str(Path(sys.executable).parent / "alops"), "-c", str(repo / "alops.yaml"), *args]
    if not tty:
        done = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout + done.stderr
    leader, follower = pty.openpty()
    child = subprocess.Popen(command, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return child.wait(), b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_a_failed_pull_has_the_same_exit_code_and_message_on_a_terminal_and_in_a_pipe(
    clone: Path, s3: S3, auth_server: tuple[MotoServer, dict[str, str]]
) -> None:
    server, key = auth_server
    _on(clone, server)
    env = {**os.environ, **key, **REFUSED["a wrong secret"]}

    results = {tty: _alops_cli(clone, "data", "pull", "--dataset", "dev", env=env, tty=tty) for tty in (True, False)}

    assert results[True][0] == results[False][0]
    assert [x for x in results[True][1].splitlines() if x.startswith("Error:")] == [
        x for x in results[False][1].splitlines() if x.startswith("Error:")
    ]
    for tty, (code, output) in results.items():
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        assert code == EXIT_DATA and len(errors) == 1 and REFUSED_MESSAGE.fullmatch(errors[0]), (tty, output)
        assert env["AWS_SECRET_ACCESS_KEY"] not in output and key["AWS_SECRET_ACCESS_KEY"] not in output


def test_outputs_on_neither_the_cache_nor_the_remote_are_named_not_pushed(clone: Path, s3: S3) -> None:
    alops(clone, "data", "pull", "--dataset", "dev")
    _dvc(clone, "repro", "train@dev")
    for path in cached_objects(clone, ["train@dev"]):  # what `dvc gc` of another branch does
        path.chmod(0o644)
        path.unlink()
    before = s3.objects()

    code, out, err = alops(clone, "data", "push", "--branch", "feature/x")

    assert (code, out) == (EXIT_FAILURE, "")
    assert err == (
        "Error: nothing pushed: 1 output of train@dev is on neither the local DVC cache nor remote `storage`: "
        "models/dev. Where the workspace still has them, record them with `dvc commit train@dev`; otherwise run "
        "the stages again (`alops run`, or `dvc repro train@dev`), then push\n"
    )
    assert s3.objects() == before, "nothing was sent"
