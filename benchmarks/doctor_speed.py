"""How long `alops doctor` takes on a healthy job environment, against `dvc doctor` in the same run.

A job runs the doctor as its first line, so it is timed the same way: the
`alops` command as a subprocess (interpreter start, imports, the DVC child, the
threads), on the example project with a local DVC remote, several times; the
median is printed. `dvc doctor` (which opens the repository and tests the cache's
link types too) is the baseline. The target: under 2 s.

    .venv/bin/python benchmarks/doctor_speed.py [REPEATS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NVIDIA_XML = (
    '<?xml version="1.0" ?>\n<nvidia_smi_log><driver_version>570.124.06</driver_version>'
    "<cuda_version>12.8</cuda_version><gpu><product_name>NVIDIA H200</product_name>"
    "<fb_memory_usage><total>143771 MiB</total></fb_memory_usage></gpu></nvidia_smi_log>\n"
)


def timed(cmd: list[str], cwd: Path, env: dict[str, str], codes: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in codes:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return seconds


def main(repeats: int) -> int:
    from alops.demo import prepare_project

    bindir = os.path.dirname(sys.executable)
    with tempfile.TemporaryDirectory(prefix="alops-doctor-speed-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CI", "GITLAB_", "ALOPS_"))}
        env |= {"HOME": str(work / "home"), "DVC_NO_ANALYTICS": "1"}
        (work / "home").mkdir()
        fake = work / "bin"
        fake.mkdir()
        (fake / "nvidia-smi").write_text(f"#!/bin/sh\ncat <<'END'\n{NVIDIA_XML}END\n")
        (fake / "nvidia-smi").chmod(0o755)
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", os.defpath)])
        os.environ.clear()
        os.environ.update(env)  # prepare_project's set-up helpers run DVC in this process's environment
        repo = work / "project"
        prepare_project(repo, work / "remote", env=dict(os.environ))
        gpu_env = env | {"PATH": os.pathsep.join([str(fake), env["PATH"]])}
        alops, dvc = os.path.join(bindir, "alops"), os.path.join(bindir, "dvc")
        runs = {
            "dvc doctor (baseline)": ([dvc, "doctor"], env, (0,)),
            "alops doctor --role feature": ([alops, "doctor", "--role", "feature"], env, (0,)),
            # a GPU role with a fake nvidia-smi; exit 8 where torch is a CPU build (this machine's test venv)
            "alops doctor --role experiment (GPU)": ([alops, "doctor", "--role", "experiment"], gpu_env, (0, 8)),
        }
        for cmd, run_env, codes in runs.values():
            timed(cmd, repo, run_env, codes)  # warm the page cache
        medians = {}
        for name, (cmd, run_env, codes) in runs.items():
            times = [timed(cmd, repo, run_env, codes) for _ in range(repeats)]
            medians[name] = statistics.median(times)
            print(f"{name:<40} median {medians[name]:.2f} s  (min {min(times):.2f}, max {max(times):.2f})")
        worst = max(seconds for name, seconds in medians.items() if name.startswith("alops"))
        print(f"slowest alops doctor median: {worst:.2f} s (target < 2 s): {'ok' if worst < 2 else 'TOO SLOW'}")
        return 0 if worst < 2 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 7))
