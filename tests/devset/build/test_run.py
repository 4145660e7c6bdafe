"""``alops.devset.build.run`` on real files: stratification, outliers, corrupt rows, determinism, layouts."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from alops.config import load_config
from alops.devset.build import outliers
from alops.devset.build import write as write_module
from alops.devset.build.report import CorruptReport, OutlierReport
from alops.devset.build.run import build
from alops.devset.build.spec import BuildSpec, Outliers, build_spec
from alops.devset.dataset import scan
from alops.errors import EXIT_DATA, AlopsError, ConfigError, DataError

HEADER = "id,label,split,x,y\n"
# The strata of the quota test and the quotas of its 10% sample (see tests/devset/build/test_keys.py: the two small
# strata get one row each, the four big ones share the other 98 rows by largest remainder).
SIZES = {
    ("a", "train"): 600,
    ("a", "test"): 200,
    ("b", "train"): 150,
    ("b", "test"): 40,
    ("", ""): 8,
    ("c", "train"): 2,
}
QUOTAS = {("a", "train"): 59, ("a", "test"): 20, ("b", "train"): 15, ("b", "test"): 4, ("", ""): 1, ("c", "train"): 1}


def configure(root: Path, **build_section: Any) -> BuildSpec:
    """alops.yaml in ``root`` with ``datasets.dev.build`` = ``build_section``; its BuildSpec."""
    config = {
        "version": 1,
        "datasets": {
            "full": {"targets": ["data/full.dvc"]},
            "dev": {"targets": ["data/dev.dvc"], "build": build_section},
        },
        "pipeline": {"train": ["train"]},
    }
    (root / "alops.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return build_spec(load_config(root / "alops.yaml"))


def regular_rows(sizes: dict[tuple[str, str], int], seed: int = 0, start: int = 0) -> list[str]:
    """Rows ``id,label,split,x,y`` (x, y around 0), shuffled; ``sizes`` rows per (label, split)."""
    rng = np.random.default_rng(seed)
    strata = [key for key, n in sizes.items() for _ in range(n)]
    order = rng.permutation(len(strata))
    x, y = np.round(rng.normal(size=len(strata)), 3), np.round(rng.normal(size=len(strata)), 3)
    return [f"{start + i},{strata[k][0]},{strata[k][1]},{x[i]},{y[i]}\n" for i, k in enumerate(order)]


def write(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(lines))
    return path


def read(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))[1:]


def strata_of(rows: list[list[str]]) -> Counter[tuple[str, str]]:
    return Counter((r[1], r[2]) for r in rows if len(r) == 5)


def test_every_stratum_gets_its_exact_quota(tmp_path: Path) -> None:
    write(tmp_path / "data/full.csv", regular_rows(SIZES))
    spec = configure(
        tmp_path, source="data/full.csv", output="data/dev.csv", label="label", split="split", fraction=0.1
    )

    report = build(spec, track=False)

    dev = read(tmp_path / "data/dev.csv")
    assert strata_of(dev) == QUOTAS
    assert (report.rows_full, report.rows_dev, report.target) == (1000, 100, 100)
    full_ids = {r[0]: r for r in read(tmp_path / "data/full.csv")}
    assert all(full_ids[r[0]] == r for r in dev)  # rows as they were, no duplicates
    assert len({r[0] for r in dev}) == 100
    positions = [list(full_ids).index(r[0]) for r in dev]
    assert positions == sorted(positions)


def test_every_split_and_the_share_of_unlabelled_rows_are_kept(tmp_path: Path) -> None:
    sizes = {
        (label, split): n for label in "01234" for split, n in (("train", 560), ("validation", 120), ("test", 120))
    }
    sizes[("", "")] = 1000  # a fifth of the rows: the unlabelled pool
    write(tmp_path / "full.csv", regular_rows(sizes, seed=1))
    spec = configure(tmp_path, source="full.csv", output="dev.csv", label="label", split="split", fraction=0.03)

    build(spec, track=False)

    dev = strata_of(read(tmp_path / "dev.csv"))
    assert sum(dev.values()) == 150
    assert {s for _, s in dev} == {"train", "validation", "test", ""}
    assert dev[("", "")] == 30  # 20% of the dev set, like the full data
    assert all(dev[key] >= 3 for key in sizes if key != ("", ""))


def test_count_gives_exactly_that_many_rows_and_a_stratum_never_goes_missing(tmp_path: Path) -> None:
    write(tmp_path / "full.csv", regular_rows(SIZES))
    spec = configure(tmp_path, source="full.csv", output="dev.csv", label="label", split="split", count=7)

    build(spec, track=False)

    assert strata_of(read(tmp_path / "dev.csv")) == {key: 1 for key in SIZES} | {("a", "train"): 2}


def spoiled(regular: int, n_outliers: int, seed: int = 2) -> tuple[list[str], list[str], set[str]]:
    """Regular rows with ``n_outliers`` of them at x=1000, plus 30 corrupt lines; (lines, corrupt, outlier ids)."""
    lines = regular_rows({("a", "train"): regular // 2, ("b", "train"): regular - regular // 2}, seed=seed)
    ids = set()
    for i in range(0, n_outliers * 7, 7):
        fields = lines[i].split(",")
        lines[i] = ",".join([*fields[:3], "1000", fields[4]])
        ids.add(fields[0])
    corrupt = []
    for k in range(30):
        kind = k % 3
        line = [f"c{k},a,train,0.5,0.5\n".replace(",0.5\n", "\n"), f"c{k},b,train,n/a,1\n", f"c{k},a,train,1,2,3\n"][
            kind
        ]
        corrupt.append(line)
        lines.insert(50 * k + 13, line)
    return lines, corrupt, ids


def test_outliers_and_corrupt_rows_get_their_share_up_to_the_cap(tmp_path: Path) -> None:
    lines, corrupt, outlier_ids = spoiled(2000, 40)
    write(tmp_path / "full.csv", lines)
    spec = configure(
        tmp_path,
        source="full.csv",
        output="dev.csv",
        label="label",
        split="split",
        fraction=0.1,
        outliers={"rule": "zscore", "max_share": 0.05, "columns": ["x"]},  # y has natural outliers too
        corrupt={"max_share": 0.01},
    )

    report = build(spec, track=False)

    text = (tmp_path / "dev.csv").read_text()
    dev_lines = text.splitlines(keepends=True)[1:]
    assert len(dev_lines) == 203  # 10% of 2030 rows
    kept_outliers = [line for line in dev_lines if line.split(",")[0] in outlier_ids]
    assert len(kept_outliers) == 4  # 40 of 2030 rows (2%) of 203, under the 5% cap
    kept_corrupt = [line for line in dev_lines if line in corrupt]
    assert len(kept_corrupt) == 2  # 1.5% of the full data, capped at 1% of 203 rows
    assert report.outliers is not None and (report.outliers.full, report.outliers.dev) == (40, 4)
    assert report.corrupt == CorruptReport(full=30, dev=2, max_share=0.01)
    assert [r.reason for r in report.corrupt_rows] and all(r.line > 1 for r in report.corrupt_rows)
    for row in report.corrupt_rows:  # the line numbers point at the corrupt lines of the full data
        assert (tmp_path / "full.csv").read_text().splitlines(keepends=True)[row.line - 1] in corrupt


def test_rare_outliers_are_always_included(tmp_path: Path) -> None:
    lines, _, outlier_ids = spoiled(2000, 3)
    write(tmp_path / "full.csv", lines)
    spec = configure(
        tmp_path,
        source="full.csv",
        output="dev.csv",
        label="label",
        fraction=0.1,
        outliers={"rule": "zscore", "columns": ["x"]},
    )

    build(spec, track=False)

    dev_ids = [r[0] for r in read(tmp_path / "dev.csv")]
    assert len([i for i in dev_ids if i in outlier_ids]) == 1  # 0.3 rows by share: one all the same


def test_outlier_bounds_follow_the_rule() -> None:
    values = {"x": [np.arange(1, 101, dtype=np.float64)]}
    iqr = outliers.bounds(Outliers("iqr", 1.5, None, 0.02), values)["x"]
    assert (iqr.low, iqr.high) == (25.75 - 1.5 * 49.5, 75.25 + 1.5 * 49.5)
    z = outliers.bounds(Outliers("zscore", 2.0, None, 0.02), values)["x"]
    assert z.low == pytest.approx(50.5 - 2 * np.std(np.arange(1, 101)))
    flat = outliers.bounds(Outliers("zscore", 3.0, None, 0.02), {"x": [np.ones(10)]})["x"]
    assert (flat.low, flat.high) == (-np.inf, np.inf)  # no spread: nothing is an outlier


def test_the_same_data_gives_the_same_bytes_whatever_the_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, _, _ = spoiled(6000, 50)
    write(tmp_path / "full.csv", lines)
    args = dict(source="full.csv", label="label", split="split", fraction=0.1, outliers={"rule": "iqr"})
    monkeypatch.setattr(scan, "BLOCK_BYTES", 4096)  # some 40 blocks, finishing in any order on 3 threads

    results = {}
    for name, threads, seed in (("a", 1, 0), ("b", 3, 0), ("c", 3, 0), ("d", 1, 1)):
        spec = configure(tmp_path, output=f"dev-{name}.csv", seed=seed, **args)
        report = build(spec, threads=threads, track=False)
        results[name] = ((tmp_path / f"dev-{name}.csv").read_bytes(), report)

    assert results["a"][0] == results["b"][0] == results["c"][0]
    assert results["d"][0] != results["a"][0]  # another seed, another sample
    assert results["a"][1].strata == results["b"][1].strata == results["d"][1].strata
    assert results["a"][1].rows_dev == results["d"][1].rows_dev == 603


def test_parquet_table(tmp_path: Path) -> None:
    rows = [line.rstrip("\n").split(",") for line in regular_rows(SIZES)]
    table = pa.table(
        {
            "id": pa.array([int(r[0]) for r in rows], pa.int64()),
            "label": pa.array([r[1] or None for r in rows], pa.string()),  # null: unlabelled
            "split": pa.array([r[2] for r in rows], pa.string()),
            "x": pa.array([float(r[3]) for r in rows]),
        }
    )
    pq.write_table(table, tmp_path / "full.parquet", row_group_size=300)
    spec = configure(tmp_path, source="full.parquet", output="dev.parquet", label="label", split="split", fraction=0.1)

    build(spec, track=False)
    first = (tmp_path / "dev.parquet").read_bytes()
    build(spec, track=False, threads=1)

    dev = pq.read_table(tmp_path / "dev.parquet")
    assert dev.schema == table.schema
    got = Counter(zip([v or "" for v in dev.column("label").to_pylist()], dev.column("split").to_pylist(), strict=True))
    assert got == QUOTAS
    assert (tmp_path / "dev.parquet").read_bytes() == first
    ids = dev.column("id").to_pylist()
    assert ids == sorted(ids) and set(ids) <= set(table.column("id").to_pylist())


def test_a_folder_of_tables_keeps_its_layout_and_each_tables_share(tmp_path: Path) -> None:
    full = tmp_path / "data/full"
    write(full / "labelled.csv", regular_rows({("a", "train"): 700, ("b", "test"): 300}))
    write(full / "unlabelled.csv", regular_rows({("", ""): 250}, seed=3, start=5000))
    nested = regular_rows({("a", "train"): 40}, seed=4, start=9000)
    (full / "more").mkdir()
    columns = HEADER.strip().split(",")
    pq.write_table(
        pa.Table.from_pylist([dict(zip(columns, r.strip().split(","), strict=True)) for r in nested]),
        full / "more/extra.parquet",
    )
    (full / ".hidden.csv").write_text(HEADER + "1,a,train,1,1\n")  # hidden: not part of the data
    spec = configure(tmp_path, source="data/full", output="data/dev", label="label", split="split", fraction=0.2)

    report = build(spec, track=False)

    dev = tmp_path / "data/dev"
    assert sorted(p.relative_to(dev).as_posix() for p in dev.rglob("*") if p.is_file()) == [
        "labelled.csv",
        "more/extra.parquet",
        "unlabelled.csv",
    ]
    assert strata_of(read(dev / "labelled.csv")) == {("a", "train"): 140, ("b", "test"): 60}
    assert strata_of(read(dev / "unlabelled.csv")) == {("", ""): 50}
    assert pq.read_table(dev / "more/extra.parquet").num_rows == 8
    assert report.stratified_by == ["table", "label", "split"]
    assert {tuple(s.values.values()): s.dev for s in report.strata} == {
        ("labelled.csv", "a", "train"): 140,
        ("labelled.csv", "b", "test"): 60,
        ("more/extra.parquet", "a", "train"): 8,
        ("unlabelled.csv", "", ""): 50,
    }


def test_a_folder_of_files_copies_the_kept_files_and_counts_broken_ones_as_corrupt(tmp_path: Path) -> None:
    full = tmp_path / "data/full"
    (full / "img").mkdir(parents=True)
    (tmp_path / "data/secret.txt").write_text("not part of the dataset")
    lines = []
    broken = {"img/missing-0.bin", "img/missing-1.bin", "img/missing-2.bin", "img/empty.bin", "../secret.txt", ""}
    rng = np.random.default_rng(5)
    for i in range(300):
        name = f"img/{i:03d}.bin"
        (full / name).write_bytes(rng.bytes(64))
        lines.append(f"{name},{'ab'[i % 2]},{'train' if i % 3 else 'test'}\n")
    (full / "img/empty.bin").touch()
    lines += [f"{name},a,train\n" for name in sorted(broken)]
    write(full / "manifest.csv", lines, header="path,label,split\n")
    spec = configure(
        tmp_path,
        source="data/full",
        output="data/dev",
        label="label",
        split="split",
        fraction=0.2,
        corrupt={"max_share": 0.5},
    )

    report = build(spec, track=False)

    dev = tmp_path / "data/dev"
    manifest = read(dev / "manifest.csv")
    assert len(manifest) == 61  # 20% of 306
    kept_broken = [r for r in manifest if r[0] in broken]
    assert len(kept_broken) == 1 and report.corrupt.full == 6  # 6 of 306 rows (2%) of 61: 1.2
    files = sorted(p.relative_to(dev).as_posix() for p in dev.rglob("*") if p.is_file())
    good = sorted(r[0] for r in manifest if r[0] not in broken)
    assert files == sorted([*good, "manifest.csv", *(r[0] for r in kept_broken if r[0] == "img/empty.bin")])
    for name in good:
        assert (dev / name).read_bytes() == (full / name).read_bytes()
        assert os.path.samefile(dev / name, full / name)  # a hard link: no bytes copied
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "dev",
        "dev.report.json",
        "dev.report.md",
        "full",
        "secret.txt",
    ]
    assert report.files_copied == len(files) - 1
    assert {r.reason for r in report.corrupt_rows} <= {
        "file 'img/missing-0.bin' is missing",
        "file 'img/missing-1.bin' is missing",
        "file 'img/missing-2.bin' is missing",
        "file 'img/empty.bin' is empty",
        "path '../secret.txt' is not a relative path inside the dataset",
        "empty path",
    }


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` and the bytes of its files (None: a folder)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def test_a_failed_build_leaves_the_previous_dev_set_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "full.csv", regular_rows(SIZES))
    spec = configure(tmp_path, source="full.csv", output="dev.csv", label="label", fraction=0.1)
    build(spec, track=False)
    before = snapshot(tmp_path)
    spec = configure(tmp_path, source="full.csv", output="dev.csv", label="label", fraction=0.1, seed=7)
    real = write_module.one_table

    def half_then_fail(*args: Any) -> None:
        real(*args)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write_module, "one_table", half_then_fail)
    with pytest.raises(AlopsError, match=r"^cannot write dev\.csv: the disk is full: free some space there ") as err:
        build(spec, track=False)

    assert err.value.exit_code == 3
    assert snapshot(tmp_path) == before | {"alops.yaml": (tmp_path / "alops.yaml").read_bytes()}


def test_a_failed_build_of_a_folder_leaves_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "full/a.csv", regular_rows(SIZES))
    write(tmp_path / "full/b.csv", regular_rows(SIZES, seed=9))
    spec = configure(tmp_path, source="full", output="dev", label="label", fraction=0.1)
    build(spec, track=False)
    before = snapshot(tmp_path)
    spec = configure(tmp_path, source="full", output="dev", label="label", fraction=0.2)
    real, calls = write_module.one_table, []

    def second_fails(*args: Any) -> None:
        calls.append(args)
        real(*args)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(write_module, "one_table", second_fails)
    with pytest.raises(KeyboardInterrupt):
        build(spec, track=False)

    assert snapshot(tmp_path) == before | {"alops.yaml": (tmp_path / "alops.yaml").read_bytes()}


@pytest.mark.parametrize(
    ("build_section", "message"),
    [
        (
            {"source": "full.csv", "output": "dev.csv", "label": "lable"},
            r"alops\.yaml:\d+: datasets\.dev\.build\.label: column 'lable' is not in .*full\.csv; "
            r"its columns: id, label, split, x, y$",
        ),
        (
            {"source": "full.csv", "output": "dev.csv", "stratify": ["region"]},
            r"datasets\.dev\.build\.stratify: column 'region' is not in .*full\.csv",
        ),
        (
            {"source": "full.csv", "output": "dev.csv", "outliers": {"columns": ["split"]}},
            r"datasets\.dev\.build\.outliers\.columns: column 'split' of .*full\.csv does not hold numbers; "
            r"numeric columns: id, x, y",
        ),
        (
            {"source": "full.csv", "output": "dev.parquet"},
            r"datasets\.dev\.build\.output: dev\.parquet: the dev set of full\.csv is a table of the same kind: "
            r"give the output a \.csv name",
        ),
        (
            {"source": ".", "output": "dev"},
            r"datasets\.dev\.build\.output: dev is inside the full data \.: keep the dev set somewhere else",
        ),
        (
            {"source": "empty", "output": "dev"},
            r"datasets\.dev\.build\.source: empty holds no table: put \.csv or \.parquet files in it",
        ),
    ],
)
def test_bad_configuration_is_a_config_error_that_says_what_to_do(
    tmp_path: Path, build_section: dict[str, Any], message: str
) -> None:
    write(tmp_path / "full.csv", regular_rows(SIZES))
    (tmp_path / "empty").mkdir()
    spec = configure(tmp_path, **build_section)
    before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(ConfigError, match=message):
        build(spec, track=False)

    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_a_missing_source_is_a_data_error_that_names_the_key(tmp_path: Path) -> None:
    spec = configure(tmp_path, source="data/nothing.csv", output="dev.csv")
    with pytest.raises(DataError) as err:
        build(spec, track=False)
    assert err.value.exit_code == EXIT_DATA
    assert re.fullmatch(
        r".*alops\.yaml:\d+: datasets\.dev\.build\.source: data/nothing\.csv does not exist: "
        r"run `alops data pull` \(or `dvc pull`\) to get it, or fix the path",
        str(err.value),
    )


def test_overrides_and_their_errors(tmp_path: Path) -> None:
    spec = configure(tmp_path, source="full.csv", output="dev.csv", count=10, seed=4)
    assert (spec.fraction, spec.count, spec.seed) == (None, 10, 4)
    spec = build_spec(load_config(tmp_path / "alops.yaml"), fraction=0.5, seed=0)
    assert (spec.fraction, spec.count, spec.seed) == (0.5, None, 0)
    with pytest.raises(ConfigError, match=r"^give either --fraction or --count, not both$"):
        build_spec(load_config(tmp_path / "alops.yaml"), fraction=0.5, count=3)
    with pytest.raises(ConfigError, match=r"--fraction 1\.5 is out of range: give a share in \(0, 1\]"):
        build_spec(load_config(tmp_path / "alops.yaml"), fraction=1.5)
    assert configure(tmp_path, source="f.csv", output="d.csv").fraction == 0.1  # the default
    (tmp_path / "alops.yaml").write_text(
        "version: 1\ndatasets:\n  full: {targets: [f.dvc]}\n  dev: {targets: [d.dvc]}\npipeline: {train: [t]}\n"
    )
    with pytest.raises(ConfigError, match=r"alops\.yaml:4: datasets\.dev\.build is not set: add at least `source:`"):
        build_spec(load_config(tmp_path / "alops.yaml"))


def test_the_report_lists_strata_outliers_and_corrupt_rows(tmp_path: Path) -> None:
    lines, _, _ = spoiled(2000, 40)
    write(tmp_path / "data/full.csv", lines)
    spec = configure(tmp_path, source="data/full.csv", output="data/dev.csv", label="label", fraction=0.1, outliers={})

    build(spec, track=False)

    data = json.loads((tmp_path / "data/dev.csv.report.json").read_text())
    assert {s["values"]["label"]: (s["full"], s["dev"]) for s in data["strata"]} == {
        "a": (data["strata"][0]["full"], data["strata"][0]["dev"]),
        "b": (data["strata"][1]["full"], data["strata"][1]["dev"]),
    }
    assert sum(s["full"] for s in data["strata"]) + data["outliers"]["full"] + data["corrupt"]["full"] == 2030
    assert data["outliers"]["rule"] == "iqr" and set(data["outliers"]["columns"]) == {"id", "x", "y"}
    assert data["rows_dev"] == 203 and data["reports"] == ["data/dev.csv.report.json", "data/dev.csv.report.md"]
    md = (tmp_path / "data/dev.csv.report.md").read_text()
    assert md.startswith("# Dev dataset `data/dev.csv`\n\nBuilt by `alops devset build` from `data/full.csv` ")
    assert "| label | full | dev | dev share |" in md and "**Corrupt rows**: 30 in the full data" in md


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_the_dev_set_is_tracked_with_dvc_and_rebuilding_changes_nothing(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=tmp_path, check=True)
    write(tmp_path / "data/full.csv", regular_rows(SIZES))
    spec = configure(tmp_path, source="data/full.csv", output="data/dev.csv", label="label", fraction=0.1)

    report = build(spec, threads=1, env=dict(os.environ))
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "dev set")
    first = (tmp_path / "data/dev.csv.dvc").read_text()
    again = build(spec, threads=2, env=dict(os.environ))  # another thread count, another duration: the same files

    assert git(tmp_path, "status", "--porcelain", "--untracked-files=all") == ""
    assert (again.threads, report.threads) == (2, 1)
    assert report.tracked == "data/dev.csv.dvc"
    assert (tmp_path / "data/dev.csv.dvc").read_text() == first
    assert git(tmp_path, "check-ignore", "data/dev.csv").strip() == "data/dev.csv"
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "data/dev.csv.dvc"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "up to date" in status.stdout
    written = json.loads((tmp_path / "data/dev.csv.report.json").read_text())
    assert not {"seconds", "threads", "mb_per_s", "rows_per_s"} & set(written)
    assert written["built_by"] == "alops devset build"
    assert " s (" not in (tmp_path / "data/dev.csv.report.md").read_text()  # no timing in the Markdown either


def test_a_built_dev_set_passes_the_check(tmp_path: Path) -> None:
    from alops.devset.check.run import check

    lines, _, _ = spoiled(20_000, 150)
    write(tmp_path / "data/full.csv", lines)
    spec = configure(
        tmp_path,
        source="data/full.csv",
        output="data/dev.csv",
        label="label",
        split="split",
        fraction=0.1,
        outliers={"rule": "zscore"},
    )
    build(spec, track=False)

    result = check(load_config(tmp_path / "alops.yaml"))

    failed = [f for f in result.findings if not f.passed]
    assert not failed, failed


def test_blocks_of_corrupt_lines_only_and_a_table_without_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = regular_rows({("a", "train"): 300}) + [f"c{i},a,train,1\n" for i in range(200)]  # a field missing
    write(tmp_path / "full/a.csv", lines)
    write(tmp_path / "full/b.csv", [])
    spec = configure(tmp_path, source="full", output="dev", label="label", fraction=0.1, corrupt={"max_share": 1})
    monkeypatch.setattr(scan, "BLOCK_BYTES", 1024)  # the last blocks hold nothing but corrupt lines

    report = build(spec, track=False)

    assert (report.rows_full, report.rows_dev, report.corrupt.dev) == (500, 50, 20)
    assert (tmp_path / "dev/b.csv").read_text() == HEADER
    assert sum(1 for r in read(tmp_path / "dev/a.csv") if len(r) == 4) == 20


def test_capped_outliers_leave_their_place_to_regular_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A quarter of the rows are outliers but the dev set takes 2%: regular rows are sampled at
    # 0.1 x 0.98 / 0.75 = 13%, not 10%, and the candidates kept during the pass must cover that.
    lines = regular_rows({("a", "train"): 40_000, ("b", "train"): 40_000}, seed=8)
    for i in range(0, len(lines), 4):
        fields = lines[i].split(",")
        lines[i] = ",".join([*fields[:3], "1000", fields[4]])
    write(tmp_path / "full.csv", lines)
    spec = configure(
        tmp_path, source="full.csv", output="dev.csv", label="label", fraction=0.1, outliers={"columns": ["x"]}
    )
    monkeypatch.setattr(scan, "BLOCK_BYTES", 65_536)

    report = build(spec, track=False)

    assert report.short == [] and report.rows_dev == report.target == 8000
    assert (
        report.outliers is not None and report.outliers.dev == 160
    )  # 2% of 8000 (their share of the full data is 25%)
    assert sum(1 for r in read(tmp_path / "dev.csv") if r[3] == "1000") == 160
    assert [s.dev for s in report.strata] == [s.quota for s in report.strata]
    assert sum(s.dev for s in report.strata) == 7840


def test_a_fraction_of_one_copies_a_clean_table_byte_for_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = regular_rows(SIZES)
    lines[10] = lines[10].replace("\n", "\r\n")  # line ends kept as they are
    write(tmp_path / "full.csv", ["\n", *lines, "\n"], header="\ufeff" + HEADER)  # a BOM, blank lines
    spec = configure(tmp_path, source="full.csv", output="dev.csv", label="label", split="split", fraction=1.0)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 512)

    report = build(spec, track=False)

    assert report.rows_dev == report.rows_full == 1000
    full = (tmp_path / "full.csv").read_bytes().splitlines(keepends=True)
    assert (tmp_path / "dev.csv").read_bytes() == b"".join(line for line in full if line.strip())  # blank lines go


def test_strata_of_many_columns_with_many_values_are_the_ones_in_the_data(tmp_path: Path) -> None:
    # 7,000 values in each of 5 columns: 7000**5 ≈ 1.7e19 combinations, more than an int64 holds.
    rng = np.random.default_rng(11)
    n, names = 7000, ["s1", "s2", "s3", "s4", "s5"]
    columns = [rng.permutation(n) for _ in names]
    lines = [",".join([str(i), *(f"v{c[i]}" for c in columns)]) + "\n" for i in range(n)]
    write(tmp_path / "full.csv", lines, header="id," + ",".join(names) + "\n")
    spec = configure(tmp_path, source="full.csv", output="dev.csv", stratify=names, fraction=0.1)

    report = build(spec, track=False)

    in_data = {tuple(f"v{c[i]}" for c in columns) for i in range(n)}
    reported = [tuple(s.values[name] for name in names) for s in report.strata]
    assert len(reported) == n and set(reported) == in_data
    assert all(s.full == 1 and s.dev == 1 for s in report.strata)  # each row is its own stratum, all kept


def test_the_most_extreme_outliers_are_kept_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's rule (iqr, 1.5, max_share 0.02) on 60k rows with heavy tails (some 6% flagged) and
    # twelve values of 1e6: the 120 outlier places must hold all twelve, and mild tail rows too.
    rng = np.random.default_rng(21)
    n = 60_000
    x = np.round(rng.standard_t(2.2, size=n), 3)
    y = np.round(rng.standard_t(2.2, size=n), 3)
    huge = rng.choice(n, size=12, replace=False)
    x[huge] = 1e6
    labels = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    lines = [f"{i},{labels[i]},train,{x[i]},{y[i]}\n" for i in range(n)]
    write(tmp_path / "full.csv", lines)
    section = dict(source="full.csv", label="label", fraction=0.1, outliers={"rule": "iqr", "threshold": 1.5})
    monkeypatch.setattr(scan, "BLOCK_BYTES", 16_384)  # some 100 blocks: the bar of the most extreme rises

    reports = [build(configure(tmp_path, output=f"dev{t}.csv", **section), threads=t, track=False) for t in (1, 3)]

    assert (tmp_path / "dev1.csv").read_bytes() == (tmp_path / "dev3.csv").read_bytes()
    report = reports[0]
    o = report.outliers
    assert o is not None and o.full > 0.05 * n and o.dev == 120 and o.most_extreme_first == 60
    dev = read(tmp_path / "dev1.csv")
    dev_ids = {int(r[0]) for r in dev}
    assert set(huge.tolist()) <= dev_ids  # all twelve
    kept_outliers = [r for r in dev if _outside(o, r)]
    assert len(kept_outliers) == 120
    mild = [r for r in kept_outliers if max(abs(float(r[3])), abs(float(r[4]))) < 10]
    assert len(mild) >= 30  # the other half is spread over all outliers: mostly the mild tail
    x_col, y_col = o.columns["x"], o.columns["y"]
    assert (x_col.most_extreme_full, x_col.most_extreme_dev) == (1e6, 1e6)
    assert x_col.dev == sum(1 for r in dev if _outside(o, r, "x")) and x_col.full > x_col.dev
    assert (x_col.full, y_col.full) == (sum(_outside(o, [0, 0, 0, v, 0], "x") for v in x), y_col.full)
    far = np.maximum(y_col.low - y, y - y_col.high)
    assert y_col.most_extreme_full == y[np.argmax(far)]
    dev_y = np.array([float(r[4]) for r in dev])
    assert y_col.most_extreme_dev == dev_y[np.argmax(np.maximum(y_col.low - dev_y, dev_y - y_col.high))]
    md = (tmp_path / "dev1.csv.report.md").read_text()
    assert "| x | " in md and "| 1e+06 | 1e+06 |" in md


def _outside(o: OutlierReport, row: list[str], only: str | None = None) -> bool:
    cols = {"id": 0, "x": 3, "y": 4}
    return any(
        not float(c.low or 0) <= float(row[cols[name]]) <= float(c.high or 0)
        for name, c in o.columns.items()
        if only in (None, name)
    )
