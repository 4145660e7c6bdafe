"""`alops report` on the example project: goal under 3 s, GitLab left out (no server, `--no-post`).

The project is made as `alops demo` makes it: main trained and its metrics
committed, then an experiment branch with `train.C=10.0` trained on the full
data. Measured in the same run, as baselines: the bare interpreter, importing
matplotlib's figure and Agg canvas (the floor of any command that draws a
plot), and `alops metrics diff` (the same reads of the workspace and of main,
without the plots, the gate or the page).

    .venv/bin/python benchmarks/report_speed.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GOAL_S = 3.0
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@alops.invalid", "-c", "commit.gpgsign=false"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    times = times[1:]  # one warm-up: the page cache, as on a runner with its image pulled
    return statistics.median(times), max(times)


def project(work: Path, env: dict[str, str]) -> Path:
    from alops.demo import prepare_project

    repo = prepare_project(work / "project", work / "remote", env=env)
    alops = str(BIN / "alops")

    def run(*args: str) -> None:
        subprocess.run(list(args), cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run(alops, "run")  # main: the default flow, full data
    run("git", "add", "dvc.lock", "metrics")
    run("git", *IDENTITY, "commit", "-qm", "main: model and metrics")
    run("git", "checkout", "-qb", "experiment/bench")
    run(alops, "run", "--set", "train.C=10.0")
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI", "GITLAB_", "ALOPS_", "AWS_"))}
    env["DVC_NO_ANALYTICS"] = "1"
    py, alops = sys.executable, str(BIN / "alops")
    subprocess.run([py, "-m", "compileall", "-q", str(ROOT / "src" / "alops")], check=True)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="alops-bench-report-") as tmp:
        repo = project(Path(tmp), env)
        rows = [
            ("python -c pass", [py, "-c", "pass"]),
            ("import matplotlib figure + Agg", [py, "-c", "import matplotlib.figure, matplotlib.backends.backend_agg"]),
            ("alops metrics diff --against main", [alops, "metrics", "diff", "--against", "main"]),
            ("alops report --no-post --against main", [alops, "report", "--no-post", "--against", "main"]),
        ]
        print(f"{'command':<40} {'median s':>9} {'max s':>7}   ({args.runs} runs each, the example project)")
        results = {}
        for name, cmd in rows:
            median, worst = timed(cmd, repo, env, args.runs)
            results[name] = median
            print(f"{name:<40} {median:>9.2f} {worst:>7.2f}")
        page = repo / "alops-report" / "index.html"
        print(f"page: {page.stat().st_size / 1024:.0f} KiB, {len(list(page.parent.glob('*.png')))} plots")
    report = results["alops report --no-post --against main"]
    floor = results["alops metrics diff --against main"]
    print(f"report {report:.2f} s = metrics diff {floor:.2f} s + {report - floor:.2f} s for the gate, plots and page")
    ok = report < GOAL_S
    print(f"goal: under {GOAL_S:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
