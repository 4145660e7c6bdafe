"""``alops.devset.check.run`` on real CSV and Parquet files, folders of tables and of files."""

from __future__ import annotations

from pathlib import Path

import pytest

from alops.config import load_config
from alops.devset.check import report as check_report
from alops.devset.check.result import Finding, ShareRange
from alops.devset.check.run import CheckResult, check
from alops.devset.dataset import scan
from alops.errors import EXIT_DATA, ConfigError, DataError

from devset_data import (
    HEADER,
    builder_sample,
    corrupted,
    relabelled,
    rows,
    sample,
    shifted,
    with_outliers,
    write_config,
    write_csv,
    write_parquet,
)

FULL = rows(10_000)
DEV = sample(FULL)


def counts(finding: Finding) -> ShareRange:
    assert finding.share is not None, finding
    return finding.share


def run(root: Path, full: list[list[object]], dev: list[list[object]], extra: str = "") -> CheckResult:
    write_csv(root / "data/full.csv", full)
    write_csv(root / "data/dev.csv", dev)
    return check(load_config(write_config(root, extra=extra)))


def failed(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.column, f.test) for f in result.failures}


def test_an_unchanged_full_dataset_passes(tmp_path: Path) -> None:
    result = run(tmp_path, FULL, DEV)
    assert result.representative, check_report.summary(result)
    assert (result.full_rows, result.dev_rows) == (10_000, 1_000)
    tested = {(f.column, f.test) for f in result.findings}
    assert tested == {
        *((c, t) for c in ("label", "split", "cat") for t in ("chi2", "psi")),
        *((c, t) for c in ("x0", "x1", "x2") for t in ("ks", "psi")),
        ("corrupt rows", "share"),
    }
    assert result.skipped == (("id", "an identifier: 1000 distinct values in the dev set"),)


def test_a_label_whose_share_doubled_fails_the_label(tmp_path: Path) -> None:
    result = run(tmp_path, relabelled(FULL, "label", "C", 0.25), DEV)
    assert not result.representative
    assert ("label", "chi2") in failed(result)
    why = next(f for f in result.failures if f.column == "label")
    assert "`C` 19.7% vs 40.4%" in why.detail, why.detail


def test_a_numeric_feature_shifted_by_one_sd_fails_that_column_only(tmp_path: Path) -> None:
    result = run(tmp_path, shifted(FULL, "x0", 2.0), DEV)
    assert failed(result) == {("x0", "ks"), ("x0", "psi")}
    ks = next(f for f in result.failures if f.test == "ks")
    assert ks.pvalue is not None and ks.pvalue < 1e-10 and ks.statistic is not None and ks.statistic > 0.3
    assert ks.detail == "mean 9.973 vs 12 in the full data; sd 2.015 vs 2.004"


def test_a_new_category_fails_its_column(tmp_path: Path) -> None:
    result = run(tmp_path, relabelled(FULL, "cat", "purple", 0.1), DEV)
    assert failed(result) == {("cat", "chi2"), ("cat", "psi")}
    why = next(f for f in result.failures if f.test == "chi2")
    assert "`purple` 0.0% vs 10.3% (not in the dev set)" in why.detail, why.detail


def test_a_rare_category_missing_from_the_dev_set_passes(tmp_path: Path) -> None:
    # 3 rows of 10,000: 0.3 expected in a dev set of 1,000; pooled, not a failure.
    full = [*FULL[:-3], *([*r[:6], "violet"] for r in FULL[-3:])]
    assert run(tmp_path, full, DEV).representative


def test_the_unlabelled_share_is_part_of_the_label_distribution(tmp_path: Path) -> None:
    result = run(tmp_path, relabelled(FULL, "label", "", 0.3), DEV)
    assert ("label", "chi2") in failed(result)
    assert "(unlabelled) 0.0% vs 30.1%" in result.failures[0].detail


def test_columns_missing_on_one_side_fail(tmp_path: Path) -> None:
    write_csv(tmp_path / "data/full.csv", [[*r, 1] for r in FULL], [*HEADER, "extra"])
    write_csv(tmp_path / "data/dev.csv", DEV)
    result = check(load_config(write_config(tmp_path)))
    assert failed(result) == {("extra", "presence")}
    assert result.failures[0].detail == "in the full data, not in the dev set"


def is_outlier(row: list[object]) -> bool:
    return row[3] == 1000.0


def is_corrupt(row: list[object]) -> bool:
    return len(row) != len(HEADER) or row[4] == "n/a"


OUTLIERS = "outliers: {rule: zscore, threshold: 4, columns: [x0], max_share: 0.02}"


def test_outliers_in_the_share_the_builder_keeps_pass(tmp_path: Path) -> None:
    full = with_outliers(FULL, 0.01)
    result = run(tmp_path, full, builder_sample(full, is_outlier), OUTLIERS)
    assert result.representative, check_report.summary(result)
    share = next(f for f in result.findings if f.column == "outliers")
    assert counts(share).full == pytest.approx(100, abs=30) and share.passed


def test_outliers_are_capped_at_max_share(tmp_path: Path) -> None:
    full = with_outliers(FULL, 0.05)
    capped = builder_sample(full, is_outlier)  # 2 % of 1,000
    assert sum(map(is_outlier, capped)) == 20
    assert run(tmp_path, full, capped, OUTLIERS).representative
    proportional = builder_sample(full, is_outlier, cap=1.0)  # 5 %: more than the builder keeps
    result = run(tmp_path, full, proportional, OUTLIERS)
    assert failed(result) == {("outliers", "share")}
    assert result.failures[0].detail == (
        "50 of 1000 dev rows (5.00%); expected 20.0 (full data 4.96%, at most 2.00%), allowed 10.0–30.0"
    )


def test_a_dev_set_without_the_outliers_of_the_full_data_fails(tmp_path: Path) -> None:
    full = with_outliers(FULL, 0.01)
    dev = [r for r in builder_sample(full, is_outlier) if not is_outlier(r)]
    result = run(tmp_path, full, dev, OUTLIERS)
    assert failed(result) == {("outliers", "share")}
    assert result.failures[0].detail.startswith("0 of ")


def test_iqr_outliers_use_the_bounds_of_the_full_data(tmp_path: Path) -> None:
    full = with_outliers(FULL, 0.01)
    result = run(tmp_path, full, builder_sample(full, is_outlier), "outliers: {columns: [x0]}")
    share = next(f for f in result.findings if f.column == "outliers")
    # x0 is normal: 1.5 IQR flags about 0.7 % of regular rows, plus the 1 % planted.
    assert 150 < counts(share).full < 220 and share.passed


def test_corrupt_rows_in_proportion_pass_and_missing_ones_fail(tmp_path: Path) -> None:
    full = corrupted(FULL, 0.01)
    dev = builder_sample(full, is_corrupt)
    result = run(tmp_path, full, dev)
    assert result.representative, check_report.summary(result)
    share = next(f for f in result.findings if f.column == "corrupt rows")
    assert (counts(share).full, counts(share).dev) == (100, 10)
    clean = [r for r in dev if not is_corrupt(r)]
    result = run(tmp_path, full, clean)
    assert failed(result) == {("corrupt rows", "share")}


def test_parquet_tables(tmp_path: Path) -> None:
    write_parquet(tmp_path / "data/full.parquet", FULL)
    write_parquet(tmp_path / "data/dev.parquet", DEV)
    config = load_config(write_config(tmp_path, full="data/full.parquet", dev="data/dev.parquet"))
    assert check(config).representative
    write_parquet(tmp_path / "data/full.parquet", shifted(FULL, "x1", 1.0))
    assert failed(check(config)) == {("x1", "ks"), ("x1", "psi")}


def test_folders_of_tables_in_both_formats(tmp_path: Path) -> None:
    labelled = [r for r in FULL if r[0] < "r005000"]
    pool = [[r[0], "", "", *r[3:]] for r in FULL if r[0] >= "r005000"]
    write_csv(tmp_path / "data/full/labelled.csv", labelled)
    write_parquet(tmp_path / "data/full/unlabelled.parquet", pool)
    write_csv(tmp_path / "data/dev/labelled.csv", sample(labelled))
    write_parquet(tmp_path / "data/dev/unlabelled.parquet", sample(pool))
    config = load_config(write_config(tmp_path, full="data/full", dev="data/dev"))
    result = check(config)
    assert result.representative and result.full_rows == 10_000, check_report.summary(result)
    write_parquet(tmp_path / "data/full/more.parquet", pool)  # the pool doubles
    assert ("label", "chi2") in failed(check(config))


def manifest(root: Path, table: list[list[object]], missing: set[str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for r in table:
        if r[0] not in missing:
            (root / f"{r[0]}.bin").write_bytes(b"x" * 10)
    write_csv(root / "manifest.csv", [[f"{r[0]}.bin", r[1], r[3]] for r in table], ["path", "label", "size"])


def test_a_folder_of_files_compares_the_manifest_and_counts_files_that_do_not_open(tmp_path: Path) -> None:
    full = FULL[:3000]
    broken = {full[k][0] for k in range(0, 3000, 100)}  # 1 %
    dev = builder_sample(full, lambda r: r[0] in broken)
    manifest(tmp_path / "data/full", full, broken)
    manifest(tmp_path / "data/dev", dev, broken)
    config = load_config(write_config(tmp_path, full="data/full", dev="data/dev"))
    result = check(config)
    assert result.representative, check_report.summary(result)
    assert {(f.column, f.test) for f in result.findings if f.test != "share"} >= {("label", "chi2"), ("size", "ks")}
    assert ("path", "the file path of each sample") in result.skipped
    share = next(f for f in result.findings if f.column == "corrupt rows")
    assert (counts(share).full, counts(share).dev) == (30, 3)
    for p in (tmp_path / "data/dev").glob("*.bin"):
        p.unlink()  # every dev file gone: all corrupt
    assert failed(check(config)) == {("corrupt rows", "share")}


def test_a_line_that_is_not_utf8_is_a_corrupt_row_not_an_error(tmp_path: Path) -> None:
    full = corrupted(FULL, 0.01)
    dev = builder_sample(full, is_corrupt)
    write_csv(tmp_path / "data/full.csv", full)
    write_csv(tmp_path / "data/dev.csv", dev)
    with (tmp_path / "data/full.csv").open("ab") as fh:
        fh.write(b"r999999,A,train,1.0,2.0,3,r\xe9d\n")  # Latin-1, not UTF-8
    result = check(load_config(write_config(tmp_path)))
    share = next(f for f in result.findings if f.column == "corrupt rows")
    assert (counts(share).full, result.full_rows) == (101, 10_001) and result.representative


def test_without_a_label_column_the_label_test_is_left_out(tmp_path: Path) -> None:
    header = [h if h != "label" else "kind" for h in HEADER]
    write_csv(tmp_path / "data/full.csv", FULL, header)
    write_csv(tmp_path / "data/dev.csv", DEV, header)
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("      label: label\n", ""))
    result = check(load_config(path))
    assert result.representative and not any(f.kind == "label" for f in result.findings)
    assert ("kind", "chi2") in {(f.column, f.test) for f in result.findings}


def test_neither_chunk_size_nor_threads_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = corrupted(shifted(FULL, "x0", 0.3), 0.01)
    write_csv(tmp_path / "data/full.csv", full)
    write_csv(tmp_path / "data/dev.csv", DEV)
    config = load_config(write_config(tmp_path, extra=OUTLIERS))
    whole = check(config, threads=1)
    monkeypatch.setattr(scan, "BLOCK_BYTES", 16 << 10)  # about 300 rows a block
    assert check(config, threads=1) == whole
    assert check(config, threads=4) == whole


def test_numeric_row_ids_are_not_compared(tmp_path: Path) -> None:
    full = [[k, *r[1:]] for k, r in enumerate(FULL)]
    full += [[k + 10_000, *r[1:]] for k, r in enumerate(FULL[:2000])]  # new rows, new ids
    result = run(tmp_path, full, [[k, *r[1:]] for k, r in enumerate(FULL) if r in DEV])
    assert ("id", "an identifier: 1000 distinct whole numbers in the dev set") in result.skipped
    assert result.representative, check_report.summary(result)


def test_thresholds_come_from_alops_yaml(tmp_path: Path) -> None:
    result = run(tmp_path, shifted(FULL, "x0", 0.1), DEV, "")
    assert result.representative  # 0.05 sd: too small to fail at the defaults
    (tmp_path / "alops.yaml").write_text(
        (tmp_path / "alops.yaml")
        .read_text()
        .replace("  dev:\n", "  dev:\n    check: {ks_pvalue: 0.9, psi_max: 0.001}\n")
    )
    result = check(load_config(tmp_path / "alops.yaml"))
    assert ("x0", "ks") in failed(result) and ("x0", "psi") in failed(result)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-label", "datasets.dev.build.label: column 'label' is not in "),
        ("no-label", "data/full.csv; its columns: id, split, x0, x1, x2, cat"),
        ("empty-dev", "data/dev.csv has no rows: run `alops devset build`"),
        ("no-build", "datasets.dev.build is not set"),
        ("text-outliers", "datasets.dev.build.outliers.columns: 'cat' is not a numeric column of both"),
    ],
)
def test_bad_input_names_the_file_and_column(tmp_path: Path, change: str, message: str) -> None:
    write_csv(tmp_path / "data/full.csv", FULL)
    write_csv(tmp_path / "data/dev.csv", DEV)
    path = write_config(tmp_path)
    if change == "no-label":
        write_csv(tmp_path / "data/full.csv", [[*r[:1], *r[2:]] for r in FULL], [h for h in HEADER if h != "label"])
    elif change == "empty-dev":
        write_csv(tmp_path / "data/dev.csv", [])
    elif change == "text-outliers":
        path = write_config(tmp_path, extra="outliers: {columns: [x0, cat]}")
    else:
        text = path.read_text()
        path.write_text(text[: text.index("    build:")] + text[text.index("pipeline:") :])
    with pytest.raises(ConfigError) as err:
        check(load_config(path))
    assert message in str(err.value)


def test_missing_data_is_a_data_error_that_says_how_to_get_it(tmp_path: Path) -> None:
    write_csv(tmp_path / "data/full.csv", FULL)
    path = write_config(tmp_path)
    with pytest.raises(DataError) as err:
        check(load_config(path))
    assert (
        str(err.value)
        == "data/dev.csv does not exist: run `alops data pull` (or `dvc pull`) to get it, or fix the path"
    )
    assert err.value.exit_code == EXIT_DATA


def test_a_dev_set_inside_the_full_data_is_refused_as_the_builder_refuses_it(tmp_path: Path) -> None:
    write_csv(tmp_path / "data/full/a.csv", FULL)
    write_csv(tmp_path / "data/full/dev.csv", DEV)
    path = write_config(tmp_path)
    with pytest.raises(ConfigError) as err:
        check(load_config(path), full="data/full", dev="data/full/dev.csv")
    assert str(err.value) == (
        "data/full/dev.csv is inside the full data data/full: keep the dev set somewhere else (e.g. data/dev), "
        "or it would be read as part of the full data"
    )
