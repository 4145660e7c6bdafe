"""`alops data pull` against an S3 endpoint (moto's server): cold, warm, and through a shared runner cache.

Baselines measured in the same run: plain `dvc pull` of the same target, cold
and warm. Every byte the server sends is counted by the proxy DVC goes through
(tests/s3.py). Goals: a cold pull costs at most 0.5 s (or 10 %) more than
`dvc pull` (the counting and the checks alops adds), and a warm pull, from the
job's own cache or from the runner's shared cache, transfers 0 bytes.

    .venv/bin/python benchmarks/data_pull.py [--files 40] [--mb 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from s3 import BUCKET, S3, CountingProxy, MotoServer, s3_env, write_random  # noqa: E402

BIN = Path(sys.executable).parent
ALOPS_YAML = "version: 1\ndatasets:\n  full: {targets: [data/full.dvc]}\n  dev: {targets: [data/dev.dvc]}\npipeline:\n  train: [t]\n"


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="files in the full dataset")
    parser.add_argument("--mb", type=float, default=5.0, help="size of each file, MB")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="alops-pull-bench-"))
    server = MotoServer(work / "moto.log")
    proxy = CountingProxy(server.port)
    try:
        server.client().create_bucket(Bucket=BUCKET)
        s3 = S3(server, proxy)
        env = {**os.environ, **s3_env(), "HOME": str(work / "home"), "DVC_NO_ANALYTICS": "1"}
        for key in [k for k in env if k == "CI" or k.startswith(("CI_", "ALOPS_"))]:
            del env[key]
        repo = work / "repo"
        repo.mkdir()
        dvc = [sys.executable, "-m", "dvc"]
        run(["git", "init", "-q", "-b", "main"], repo, env)
        run([*dvc, "init", "-q"], repo, env)
        size = int(args.mb * 1_000_000)
        total = write_random(repo / "data/full", {f"part-{i:03}.bin": size for i in range(args.files)}, seed=1)
        write_random(repo / "data/dev", {"part-0.bin": size}, seed=2)
        run([*dvc, "add", "-q", "data/full", "data/dev"], repo, env)
        (repo / ".dvc/config").write_text(s3.remote_config())
        (repo / "alops.yaml").write_text(ALOPS_YAML)
        run(["git", "add", "-A"], repo, env)
        run(["git", "-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-qm", "data"], repo, env)
        s3.seed(repo / ".dvc/cache")

        def clone(name: str) -> Path:
            dest = work / name
            run(["git", "clone", "-q", str(repo), str(dest)], work, env)
            return dest

        rows: list[tuple[str, float, int]] = []

        def measure(label: str, cmd: list[str], cwd: Path, extra: dict[str, str] | None = None) -> float:
            proxy.reset_counts()
            seconds = run(cmd, cwd, {**env, **(extra or {})})
            rows.append((label, seconds, proxy.received))
            return seconds

        alops = [str(BIN / "alops"), "data", "pull", "--dataset", "full"]
        a, b = clone("dvc-job"), clone("alops-job")
        dvc_cold = measure("dvc pull data/full.dvc (cold)", [*dvc, "pull", "-q", "data/full.dvc"], a)
        alops_cold = measure("alops data pull --dataset full (cold)", alops, b)
        measure("dvc pull data/full.dvc (warm)", [*dvc, "pull", "-q", "data/full.dvc"], a)
        measure("alops data pull (warm: the job's cache)", alops, b)
        restored = clone("restored-job")
        shutil.copytree(b / ".dvc/cache", restored / ".dvc/cache")
        measure("alops data pull (a restored GitLab cache)", alops, restored)
        shared = {"ALOPS_DVC_CACHE_DIR": str(work / "shared-cache")}
        measure("alops data pull (shared cache, 1st job, cold)", alops, clone("shared-1"), shared)
        measure("alops data pull (shared cache, 2nd job)", alops, clone("shared-2"), shared)

        print(f"full dataset: {args.files} files, {total / 1e6:.0f} MB on S3 (moto) through a counting proxy\n")
        print(f"{'command':<44} {'seconds':>8} {'MB from S3':>11}")
        for label, seconds, received in rows:
            print(f"{label:<44} {seconds:>8.2f} {received / 1e6:>11.2f}")
        overhead = alops_cold - dvc_cold
        ok_cold = overhead <= max(0.5, 0.1 * dvc_cold)
        warm = [received for label, _, received in rows if label.startswith("alops") and "cold" not in label]
        ok_warm = all(received == 0 for received in warm)
        print(
            f"\ncold pull: alops {overhead:+.2f} s vs dvc pull (goal <= +0.5 s or +10 %): {'ok' if ok_cold else 'MISSED'}"
        )
        print(f"warm pulls transfer 0 bytes: {'ok' if ok_warm else 'MISSED'}")
        return 0 if ok_cold and ok_warm else 1
    finally:
        proxy.close()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
