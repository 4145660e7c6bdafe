"""How many times an `alops run` starts DVC, and what a start costs: DVC's command line (before) vs one child.

Before (alops up to 0.x): each DVC command was one `python -m dvc …` process:
pull, status (to say what was reproduced), repro, and for a push `status --cloud`
and push: 3 starts for a feature branch, 5 with a push. After: one child
process (`python -m alops.dvc.child`) runs pull, repro and push on one
`dvc.repo.Repo`. Both are measured in the same run, on the example project
(a local DVC remote), each in a fresh clone; the starts are counted by
wrapping alops.proc.run, which every program alops runs goes through.

    .venv/bin/python benchmarks/dvc_starts.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES = ["prepare@dev", "train@dev", "evaluate@dev"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - start


def counting(calls: list[list[str]]) -> Callable[..., Any]:
    from alops import proc

    real = proc.run

    def run(args: list[str], **kwargs: Any) -> Any:
        calls.append(list(args))
        return real(args, **kwargs)

    return run


def main() -> int:
    from alops import proc
    from alops.config import load_config
    from alops.demo import prepare_project
    from alops.flow import current_plan
    from alops.run import run_flow

    with tempfile.TemporaryDirectory(prefix="alops-dvc-starts-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CI", "GITLAB_", "ALOPS_"))}
        env |= {"HOME": str(work / "home"), "DVC_NO_ANALYTICS": "1"}
        # the stages' `python` is this one, as alops.dvc.environment gives it to DVC
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
        (work / "home").mkdir()
        os.environ.clear()
        os.environ.update(env)  # prepare_project's set-up helpers run DVC in this process's environment
        prepare_project(work / "project", work / "remote", env=dict(os.environ))
        py = sys.executable

        def clone(name: str) -> Path:
            dest = work / name
            subprocess.run(["git", "clone", "-q", str(work / "project"), str(dest)], check=True)
            subprocess.run(["git", "checkout", "-q", "-b", "feature/x"], cwd=dest, check=True)
            return dest

        version = min(timed([py, "-m", "dvc", "--version"], work, env) for _ in range(3))
        opened = min(
            timed([py, "-c", "from dvc.repo import Repo; Repo('.').index"], work / "project", env) for _ in range(3)
        )
        print(f"python -m dvc --version              {version:.2f} s")
        print(f"import dvc.repo + Repo() + index     {opened:.2f} s")

        before = clone("before")
        dvc = [py, "-m", "dvc"]
        steps = [
            ("pull data/dev.dvc", [*dvc, "pull", "data/dev.dvc"]),
            ("status --with-deps", [*dvc, "status", "--json", "--with-deps", *STAGES]),
            ("repro", [*dvc, "repro", *STAGES]),
            ("status --cloud", [*dvc, "status", "--cloud", "--json", *STAGES]),
            ("push --run-cache", [*dvc, "push", "--run-cache", *STAGES]),
        ]
        # A second round in the same clones: everything is up to date, so what is left is DVC's starts.
        rounds = ("first run", "second run, up to date")
        for round_ in rounds:
            total = 0.0
            print(f"\nbefore, {round_}: one `python -m dvc` per command")
            for name, cmd in steps:
                seconds = timed(cmd, before, env)
                total += seconds
                print(f"  {name:<20} {seconds:.2f} s")
            print(f"  {len(steps)} DVC starts with a push (3 without), {total:.2f} s in all")

        real = proc.run
        for push in (False, True):
            after = clone(f"after-{push}")
            what = "with a push" if push else "no push"
            for round_ in rounds:
                calls: list[list[str]] = []
                proc.run = counting(calls)  # type: ignore[assignment,unused-ignore]
                config = load_config(after / "alops.yaml")
                plan = current_plan(config, {})
                started = time.perf_counter()
                result = run_flow(config, plan, quiet=True, push=push, env=env)
                seconds = time.perf_counter() - started
                proc.run = real  # type: ignore[assignment,unused-ignore]
                starts = sum(1 for c in calls if "alops.dvc.child" in c)
                fetched = result.pulled.fetched if result.pulled else 0
                print(f"\nafter, {what}, {round_}: alops run_flow, {starts} DVC start(s), {seconds:.2f} s")
                print(f"  reproduced {', '.join(result.reproduced) or 'nothing'}; fetched {fetched}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
