"""k-center (greedy core-set) at N = 1 M, batch 1000, d = 64: alops against scikit-activeml, same input, same run.

    .venv/bin/python benchmarks/al_kcenter.py [--n 1000000] [--k 1000] [--baseline-n 100000 200000]

Goal (issue 8): under 30 s in O(N) memory. The baseline is scikit-activeml's
``skactiveml.pool.CoreSet`` (the ``bench`` group), the same greedy farthest-first
algorithm seeded by the labelled set. It keeps a batch x N float64 matrix of
utilities (8 GB at N = 1 M, k = 1000), so it runs here at the smaller
``--baseline-n`` sizes, on the first rows of the same embeddings, and its time and
memory are extrapolated linearly in N (both are O(k N): its loop over the batch
recomputes distances to one new centre per step). alops runs at every size too.

Embeddings: a mixture of 500 Gaussian clusters of varied spread (a trained model's
embeddings are clustered), float32; the first 1,000 rows are the labelled set both
start from. Each measurement runs in its own process; "extra" is the process's peak
RSS during the call minus its RSS before it (the peak is reset with
/proc/self/clear_refs), so the embeddings themselves do not count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
D, LABELLED, GOAL_S = 64, 1000, 30.0


def embeddings(n: int) -> Any:
    import numpy as np

    rng = np.random.default_rng(1)
    centres = rng.standard_normal((500, D), dtype=np.float32) * 3
    x = centres[rng.integers(0, 500, n + LABELLED)]
    x += rng.standard_normal((n + LABELLED, D), dtype=np.float32) * rng.uniform(0.2, 1.0, (n + LABELLED, 1)).astype(
        np.float32
    )
    return x


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(who: str, n: int, k: int) -> dict[str, Any]:
    import numpy as np

    x = embeddings(n)
    pool, labelled = x[LABELLED:], x[:LABELLED]
    if who == "alops":
        from alops.al.query import k_center
        from alops.al.query.topk import salt_of

        def run() -> Any:
            return k_center(pool, k, salt=salt_of(0), centres=labelled)[0]
    else:
        from skactiveml.pool import CoreSet

        y = np.full(len(x), np.nan)
        y[:LABELLED] = 0  # the labelled set: any label, CoreSet only reads which samples have one

        def run() -> Any:
            return CoreSet(random_state=0).query(x, y, batch_size=k) - LABELLED

    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = rss_mb("VmRSS")
    start = time.perf_counter()
    chosen = run()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "extra_mb": rss_mb("VmHWM") - before, "first": [int(i) for i in chosen[:5]]}


def measure(who: str, n: int, k: int) -> dict[str, Any] | None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    argv = [sys.executable, __file__, "--worker", who, "--n", str(n), "--k", str(k)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(f"  ({who} at N = {n:,} failed: {(done.stderr.strip().splitlines() or [done.returncode])[-1]})")
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--baseline-n", type=int, nargs="*", default=[100_000, 200_000])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.k)))
        return
    one, five, _ = os.getloadavg()
    print(f"k-center, d = {D} float32, batch {args.k}, {LABELLED} labelled to start from; load {one:.2f} / {five:.2f}")
    print(f"{'N':>10} {'alops s':>8} {'extra MB':>9} {'skactiveml s':>13} {'extra MB':>9} {'same picks':>10}")
    scale: list[tuple[int, float, float]] = []
    for n in sorted(set(args.baseline_n)):
        ours, theirs = measure("alops", n, args.k), measure("skactiveml", n, args.k)
        same = "-" if not (ours and theirs) else "yes" if ours["first"] == theirs["first"] else "no"
        print(f"{n:>10,} {cell(ours, 'seconds', 8, 2)} {cell(ours, 'extra_mb', 9, 0)} "
              f"{cell(theirs, 'seconds', 13, 2)} {cell(theirs, 'extra_mb', 9, 0)} {same:>10}")  # fmt: skip
        if theirs:
            scale.append((n, theirs["seconds"] / n, theirs["extra_mb"] / n))
    ours = measure("alops", args.n, args.k)
    line = f"{args.n:>10,} {cell(ours, 'seconds', 8, 2)} {cell(ours, 'extra_mb', 9, 0)}"
    if scale:
        n, per_s, per_mb = scale[-1]
        line += f" {per_s * args.n:>11.1f} s {per_mb * args.n:>9.0f}  (skactiveml extrapolated from N = {n:,})"
    print(line)
    if ours:
        verdict = "met" if ours["seconds"] < GOAL_S else "NOT met"
        print(f"goal: alops under {GOAL_S:g} s at N = {args.n:,} in O(N) memory: {verdict}")


def cell(m: dict[str, Any] | None, key: str, width: int, digits: int) -> str:
    return f"{m[key]:>{width}.{digits}f}" if m else f"{'-':>{width}}"


if __name__ == "__main__":
    main()
