"""The skeleton's train stage with train.model: torch on the full digits data, against the logreg baseline.

The example project's data (scripts/make_data.py: every load_digits image, with
some bad rows) cleaned by its prepare stage, then its train and evaluate stages
run as DVC runs them (`python src/train.py full`, a process each), in a temp
copy of examples/project-skeleton. Baseline, measured in the same run: the same
stage with params.yaml's logreg (scikit-learn). Each model is trained --repeats
times; the median is printed: the stage's wall time (Python and imports
included), its fit time (what src/train.py reports), and the test accuracy.
The device is where torch trains (CUDA when it sees a GPU, else the CPU): the
same command measures a GPU machine.

    .venv/bin/python benchmarks/torch_training.py [--repeats 3] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKELETON = ROOT / "examples" / "project-skeleton"
FIT = re.compile(r"^train full: \S+ fitted on (\d+) rows on (.+) in ([\d.]+) s \(the fit\)$", re.MULTILINE)


def stage(project: Path, name: str) -> str:
    done = subprocess.run(
        [sys.executable, f"src/{name}.py", "full"], cwd=project, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"src/{name}.py failed:\n{done.stderr[-2000:]}")
    return done.stdout


def train(project: Path, model: str, epochs: int | None) -> tuple[float, float, int, str, float]:
    """(wall s, fit s, rows, device, accuracy) of one train stage run, then evaluate's accuracy."""
    import yaml

    params = yaml.safe_load((SKELETON / "params.yaml").read_text())
    params["train"]["model"] = model
    if epochs is not None:
        params["train"]["epochs"] = epochs
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    start = time.perf_counter()
    out = stage(project, "train")
    wall = time.perf_counter() - start
    found = FIT.search(out)
    if found is None:
        raise SystemExit(f"src/train.py printed no fit line:\n{out}")
    stage(project, "evaluate")
    accuracy = json.loads((project / "metrics" / "full.json").read_text())["accuracy"]
    return wall, float(found[3]), int(found[1]), found[2], float(accuracy)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each model (the median is printed)")
    parser.add_argument("--epochs", type=int, default=None, help="train.epochs for torch (default: params.yaml's)")
    args = parser.parse_args()

    from alops import hardware

    device = hardware.probe(dict(os.environ))
    gpus = ", ".join(f"{g.name} ({g.memory_mib} MiB)" for g in device.gpus) or "none"
    torch = f"torch {device.torch.version} (CUDA build {device.torch.cuda})" if device.torch else "torch not installed"
    print(f"machine: {os.cpu_count()} CPUs; GPUs: {gpus}; driver {device.driver}, CUDA {device.cuda}; {torch}")
    print(f"device torch trains on: {device.kind}")
    with tempfile.TemporaryDirectory(prefix="alops-torch-bench-") as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(SKELETON, project, ignore=shutil.ignore_patterns("data", "models", "metrics", "scores"))
        subprocess.run([sys.executable, "scripts/make_data.py"], cwd=project, check=True, capture_output=True)
        stage(project, "prepare")
        print(f"{'model':<8} {'device':<28} {'rows':>5} {'stage s':>8} {'fit s':>7} {'accuracy':>9}")
        results = {}
        for model in ("logreg", "torch"):
            runs = [train(project, model, args.epochs) for _ in range(args.repeats)]
            wall = statistics.median(r[0] for r in runs)
            fit = statistics.median(r[1] for r in runs)
            accuracies = {r[4] for r in runs}
            results[model] = (wall, fit)
            shown = "/".join(f"{a:.4f}" for a in sorted(accuracies))  # one value when the runs agree
            print(f"{model:<8} {runs[0][3]:<28.28} {runs[0][2]:>5} {wall:>8.2f} {fit:>7.2f} {shown:>9}")
    (lw, lf), (tw, tf) = results["logreg"], results["torch"]
    print(f"torch / logreg: {tw / lw:.1f}x the stage's wall time, {tf / lf:.1f}x the fit time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
