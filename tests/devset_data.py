"""Real data files for the devset check and refresh tests: a full table and a dev sample of it.

Rows are ``id, label, split, x0 (normal 10 ± 2), x1 (exponential), x2 (0–16), cat``,
drawn from a seeded generator; the dev set is a seeded random sample. Helpers
change the full data the ways the check must notice.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HEADER = ["id", "label", "split", "x0", "x1", "x2", "cat"]
Row = list[Any]

CONFIG = """\
version: 1
datasets:
  full: {{targets: [data/full.dvc]}}
  dev:
    targets: [{dev}.dvc]
    build:
      source: {full}
      output: {dev}
      label: label
      split: split
      fraction: 0.1
{extra}
pipeline:
  train: ["train@{{dataset}}"]
"""


def rows(n: int, seed: int = 0, start: int = 0) -> list[Row]:
    rng = np.random.default_rng(seed)
    label = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2])
    split = rng.choice(["train", "validation", "test"], size=n, p=[0.7, 0.15, 0.15])
    x0, x1, x2 = rng.normal(10, 2, n).round(3), rng.exponential(1, n).round(3), rng.integers(0, 17, n)
    cat = rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2])
    return [
        [f"r{start + i:06d}", str(label[i]), str(split[i]), float(x0[i]), float(x1[i]), int(x2[i]), str(cat[i])]
        for i in range(n)
    ]


def sample(table: Sequence[Row], fraction: float = 0.1, seed: int = 2) -> list[Row]:
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(table), size=round(len(table) * fraction), replace=False))
    return [table[i] for i in keep]


def builder_sample(
    table: Sequence[Row], special: Callable[[Row], bool], fraction: float = 0.1, cap: float = 0.02, seed: int = 2
) -> list[Row]:
    """A dev set the way the builder makes one: min(full share, cap) of special rows (outliers,
    corrupt rows), the rest a random sample of the regular rows."""
    n = round(len(table) * fraction)
    odd = [r for r in table if special(r)]
    k = round(min(len(odd) / len(table), cap) * n)
    regular = [r for r in table if not special(r)]
    return [*odd[:k], *sample(regular, (n - k) / len(regular), seed)]


def write_csv(path: Path, table: Iterable[Sequence[Any]], header: Sequence[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(table)
    return path


def write_parquet(path: Path, table: Sequence[Row], header: Sequence[str] = HEADER) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {name: [r[i] for r in table] for i, name in enumerate(header)}
    pq.write_table(pa.table(columns), path)
    return path


def write_config(root: Path, *, full: str = "data/full.csv", dev: str = "data/dev.csv", extra: str = "") -> Path:
    path = root / "alops.yaml"
    indented = "\n".join("      " + line for line in extra.strip("\n").splitlines())
    path.write_text(CONFIG.format(full=full, dev=dev, extra=indented))
    return path


def shifted(table: Sequence[Row], column: str, by: float) -> list[Row]:
    i = HEADER.index(column)
    return [[*r[:i], round(r[i] + by, 3), *r[i + 1 :]] for r in table]


def relabelled(table: Sequence[Row], column: str, value: str, share: float, seed: int = 5) -> list[Row]:
    """``share`` of the rows get ``value`` in ``column``."""
    rng = np.random.default_rng(seed)
    i = HEADER.index(column)
    hit = rng.random(len(table)) < share
    return [[*r[:i], value, *r[i + 1 :]] if h else list(r) for r, h in zip(table, hit, strict=True)]


def with_outliers(table: Sequence[Row], share: float, seed: int = 7) -> list[Row]:
    """``share`` of the rows get x0 = 1000 (far beyond any rule's bounds)."""
    rng = np.random.default_rng(seed)
    hit = rng.random(len(table)) < share
    return [[*r[:3], 1000.0, *r[4:]] if h else list(r) for r, h in zip(table, hit, strict=True)]


def corrupted(table: Sequence[Row], share: float) -> list[Row]:
    """Every ``1/share``-th row broken: alternately a field missing, or a number that is not one."""
    step = round(1 / share)
    out: list[Row] = []
    for k, r in enumerate(table):
        if k % step == 0:
            r = r[:-1] if k % (2 * step) else [*r[:4], "n/a", *r[5:]]
        out.append(list(r))
    return out


def make_repo(root: Path, remote: Path, full: Sequence[Row], dev: Sequence[Row], *, push: bool = True) -> Path:
    """A git repository with DVC, both data sets tracked by DVC and (unless not ``push``) pushed to a local
    remote ``remote``, the default remote of ``.dvc/config.local``."""
    import subprocess

    from alops import dvc

    root.mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main"], cwd=root, check=True)
    dvc.init(cwd=root, env=dict(os.environ))
    _point_at(root, remote)
    write_csv(root / "data/full.csv", full)
    write_csv(root / "data/dev.csv", dev)
    write_config(root)
    dvc.add(["data/full.csv", "data/dev.csv"], cwd=root, env=dict(os.environ))
    if push:
        dvc.push(cwd=root, run_cache=False, env=dict(os.environ))
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "--quiet", "-m", "data"], cwd=root, check=True)
    return root


def copy_repo(template: Path, template_remote: Path, root: Path, remote: Path) -> Path:
    """A copy of a ``make_repo`` repository (work tree, ``.git``, DVC cache) at ``root``, with its own copy of the
    DVC remote at ``remote``: what a test may change freely, in milliseconds instead of a new ``make_repo``."""
    import shutil

    shutil.copytree(template, root)
    shutil.copytree(template_remote, remote)
    _point_at(root, remote)
    return root


def _point_at(root: Path, remote: Path) -> None:
    # What `dvc remote add --local -d storage REMOTE` writes, without a DVC start (a second or more each).
    (root / ".dvc/config.local").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {remote}\n"
    )


def remote_objects(remote: Path) -> set[str]:
    """The content hashes a local DVC remote holds."""
    return {p.parent.name + p.name for p in remote.rglob("*") if p.is_file() and len(p.parent.name) == 2}


def adopt(root: Path) -> None:
    """Replace the hand-made dev set of ``make_repo`` by one alops built (a build replaces only its own), commit it."""
    import subprocess

    from alops import dvc
    from alops.config import load_config
    from alops.devset.build.run import build
    from alops.devset.build.spec import build_spec

    (root / "data/dev.csv").unlink()
    build(build_spec(load_config(root / "alops.yaml")), env=dict(os.environ))
    dvc.push(cwd=root, run_cache=False, env=dict(os.environ))
    for args in (["add", "-A"], ["commit", "--quiet", "-m", "the dev set, built by alops"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def git(cwd: Path, *args: str) -> str:
    """``git args`` in ``cwd``: its standard output (a failure raises, with git's message)."""
    import subprocess

    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@dataclass
class Refusing:
    """A git HTTP server on loopback that answers 403 to everything, keeping the headers of each request."""

    url: str
    headers: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def refusing_server() -> Iterator[Refusing]:
    import http.server
    import threading

    def handler(seen: Refusing) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                seen.headers.append(dict(self.headers))
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    seen = Refusing("")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(seen))
    seen.url = f"http://127.0.0.1:{server.server_address[1]}/grp/proj.git"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
