"""The pipeline's shape per branch role, before and after the one-job default, and the
feature pipeline's wall time under gitlab-ci-local against plain `alops run`.

For each role (a pipeline of each kind, as tests/ci/gitlab_ci_local.py's SCENARIOS):
the jobs on the critical path (the longest chain of `needs`, stages where a job has
none), the GPU jobs (each takes a GPU slot), and the bytes a rerun restores from the
GitLab cache of `.dvc/cache` on runners without a shared DVC cache: every job with a
cache policy that pulls restores its dataset's cache (the example project's data, as
DVC stores it). On runners with a shared DVC cache (ALOPS_DVC_CACHE_DIR) the GitLab
cache is empty in both shapes.

"Before" is the template as of commit ad69eb0 (`git show`: plan -> data -> train ->
evaluate); "after" is templates/alops.yml, default inputs. Then the example project's
feature pipeline runs, cold, with each template under gitlab-ci-local's shell
executor, and `alops run` runs the same flow in a fresh clone.

    .venv/bin/python benchmarks/pipeline_shape.py [--no-run]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the gitlab-ci-local helpers the tests use
from feature_pipeline import isolate  # noqa: E402

from ci.gitlab_ci_local import (  # noqa: E402
    GCL,
    SCENARIOS,
    SHELL_RUN,
    GitlabCiLocal,
    Scenario,
    example_project,
    git,
    include_file,
    init_repo,
    job_env,
    push,
    skeleton_inputs,
)

BEFORE = "ad69eb0"  # the last commit with data, train and evaluate as three jobs
FEATURE = push("feature", "feature", "feature/benchmark")
ROLES = ("feature", "other", "default", "experiment", "release", "al", "schedule", "tag")


def before_template() -> str:
    out = subprocess.run(
        ["git", "show", f"{BEFORE}:ci-templates/alops.yml"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"error: cannot read the previous template ({BEFORE}) from git: {out.stderr.strip()}")
    return out.stdout


def shape(
    jobs: Mapping[str, dict[str, Any]], preview: Mapping[str, Any], sizes: Mapping[str, int]
) -> tuple[int, int, int]:
    """(jobs on the critical path, GPU jobs, bytes restored from the GitLab cache)."""
    stages = [".pre", "build", "test", "deploy", ".post"]
    depth: dict[str, int] = {}

    def chain(name: str) -> int:
        if name not in depth:
            needs = preview[name].get("needs")
            if needs is None:  # no needs: after every job of the earlier stages
                rank = stages.index(preview[name].get("stage", "test"))
                before = [j for j in jobs if stages.index(preview[j].get("stage", "test")) < rank]
            else:
                before = [n["job"] for n in needs if n["job"] in jobs]
            depth[name] = 1 + max((chain(b) for b in before), default=0)
        return depth[name]

    critical = max((chain(name) for name in jobs), default=0)
    gpu = sum(1 for name in jobs if name.endswith("-gpu"))
    restored = 0
    for name in jobs:
        for cache in preview[name].get("cache") or []:
            if cache.get("policy", "pull-push") in ("pull", "pull-push"):
                restored += sizes["full" if "-dvc-full" in cache["key"]["prefix"] else "dev"]
    return critical, gpu, restored


def dataset_sizes(project: Path) -> dict[str, int]:
    return {
        name: sum(p.stat().st_size for p in (project / "data" / name).rglob("*") if p.is_file())
        for name in ("dev", "full")
    }


def scenario_of(role: str) -> Scenario:
    return next(s for s in SCENARIOS if s.role == role)


def static_table(tmp: Path, sizes: Mapping[str, int]) -> None:
    inputs = skeleton_inputs()
    repo = init_repo(
        tmp / "shapes",
        {
            "before.gitlab-ci.yml": include_file("before.yml", inputs),
            "after.gitlab-ci.yml": include_file("alops.yml", inputs),
            "ci-templates/before.yml": before_template(),
            "ci-templates/alops.yml": ROOT / "templates" / "alops.yml",
            "alops.yaml": ROOT / "examples" / "project-skeleton" / "alops.yaml",
        },
    )
    print(f"data: dev {sizes['dev'] / 1e3:.0f} kB, full {sizes['full'] / 1e3:.0f} kB (the example project)")
    print(f"\n{'role':<11} {'critical path (jobs)':>21} {'GPU jobs':>9} {'GitLab cache restored, no shared cache':>40}")
    print(f"{'':<11} {'before':>10} {'after':>10} {'before':>4} {'after':>4} {'before':>19} {'after':>20}")
    for role in ROLES:
        row = []
        for name in ("before", "after"):
            gcl = GitlabCiLocal(repo, file=f"{name}.gitlab-ci.yml")
            jobs = {n: j for n, j in gcl.jobs(scenario_of(role)).items() if "devset" not in n}
            row.append(shape(jobs, gcl.preview(), sizes))
        (cb, gb, rb), (ca, ga, ra) = row
        print(f"{role:<11} {cb:>10} {ca:>10} {gb:>4} {ga:>4} {rb / 1e3:>16.0f} kB {ra / 1e3:>17.0f} kB")


def timed(what: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = what()
    return time.perf_counter() - start, result


def wall_times(tmp: Path) -> int:
    inputs = skeleton_inputs()
    project = example_project(
        tmp,
        {
            "before.gitlab-ci.yml": include_file("before.yml", inputs),
            "ci-templates/before.yml": before_template(),
        },
    )
    clone = tmp / "clone"
    git(tmp, "clone", "-q", str(project), str(clone))
    git(clone, "checkout", "-q", "-B", FEATURE.branch)
    alops = str(Path(sys.executable).parent / "alops")
    plain, _ = timed(
        lambda: subprocess.run(
            [alops, "run", "--flow", "feature"], cwd=clone, env=job_env(), check=True, capture_output=True
        )
    )
    rows = [("alops run --flow feature, no CI", plain, "pull dev data, train, evaluate in one process")]
    for name, file in (
        ("before: plan, validate, data, train, evaluate", "before.gitlab-ci.yml"),
        ("after: plan, validate, run", ".gitlab-ci.yml"),
    ):
        shutil.rmtree(project / ".gitlab-ci-local", ignore_errors=True)  # cold: no cache, no artifacts
        gcl = GitlabCiLocal(project, file=file)
        seconds, result = timed(
            lambda gcl=gcl: gcl(*SHELL_RUN, "--no-json-schema-validation", scenario=FEATURE, check=False)
        )
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            print(f"error: the feature pipeline ({file}) failed", file=sys.stderr)
            return 1
        passed = sum(1 for line in result.stdout.splitlines() if line.strip().startswith("PASS"))
        rows.append((name, seconds, f"{passed} jobs, cold, + {seconds - plain:.1f} s over plain alops run"))
    print(f"\n{'feature pipeline':<48} {'wall s':>7}   note")
    for name, seconds, note in rows:
        print(f"{name:<48} {seconds:>7.2f}   {note}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="only the static shape table, no pipeline runs")
    args = parser.parse_args()
    if not GCL.exists():
        print(f"error: {GCL} is missing: run `make setup` (npm ci)", file=sys.stderr)
        return 3
    tmp = Path(tempfile.mkdtemp(prefix="alops-shape-"))
    try:
        isolate(tmp / "home")
        from alops.demo import prepare_project

        sizes = dataset_sizes(
            prepare_project(tmp / "sizes" / "project", tmp / "sizes" / "remote", env=dict(os.environ))
        )
        static_table(tmp, sizes)
        return 0 if args.no_run else wall_times(tmp / "run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
