"""``alops.devset.build.report``: the JSON and Markdown reports beside the dev set, reproducible byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from alops.devset.build import report
from alops.devset.build.report import (
    BuildReport,
    ColumnOutlierReport,
    CorruptReport,
    CorruptRow,
    OutlierReport,
    StratumCount,
)


def made(**changes: object) -> BuildReport:
    fields: dict[str, object] = dict(
        source="data/full.csv",
        output="data/dev.csv",
        kind="table",
        seed=0,
        fraction=0.1,
        count=None,
        rows_full=1000,
        rows_dev=100,
        target=100,
        stratified_by=["label"],
        strata=[StratumCount({"label": "a|b"}, 900, 90, 90), StratumCount({"label": ""}, 60, 6, 6)],
        outliers=OutlierReport("iqr", 1.5, {"x": ColumnOutlierReport(-3.0, "inf", 20, 2, 9.5, 8.0)}, 20, 2, 1, 0.02),
        corrupt=CorruptReport(20, 2, 0.02),
        corrupt_rows=[CorruptRow("full.csv", 7, "expected 3 fields,\nfound 2")],
        files_copied=None,
        short=[],
        seconds=1.25,
        bytes_read=2_000_000,
        threads=4,
    )
    fields.update(changes)
    return BuildReport(**fields)  # type: ignore[arg-type]


def test_the_json_holds_what_follows_from_data_and_settings_only() -> None:
    data = json.loads(report.to_json(made()))
    assert data["built_by"] == report.BUILT_BY and "seconds" not in data and "threads" not in data
    assert report.to_json(made(seconds=9.0, threads=1)) == report.to_json(made())
    assert data["outliers"]["columns"]["x"] == {
        "low": -3.0,
        "high": "inf",
        "full": 20,
        "dev": 2,
        "most_extreme_full": 9.5,
        "most_extreme_dev": 8.0,
    }
    assert data["corrupt"] == {"full": 20, "dev": 2, "max_share": 0.02}
    assert list(data)[:4] == ["built_by", "source", "output", "kind"]


def test_the_markdown_escapes_values_from_the_data() -> None:
    md = report.to_markdown(made())
    assert "| a\\|b | 900 | 90 | 10.0% |" in md and "| (empty) | 60 | 6 | 10.0% |" in md
    assert "| x | -3 | inf | 20 | 2 | 9.5 | 8 |" in md
    assert "- `full.csv` line 7: expected 3 fields,\\nfound 2" in md  # the reason stays on its line
    assert "**Outliers** (iqr, threshold 1.5, over 1 columns): 20 rows of the full data, 2 in the dev set" in md
    assert "**Outliers**" not in report.to_markdown(made(outliers=None))


def test_reports_are_written_beside_the_output(tmp_path: Path) -> None:
    written = report.write(made(), tmp_path / "dev.csv")
    assert [p.name for p in written] == ["dev.csv.report.json", "dev.csv.report.md"]
    assert report.paths(tmp_path / "dev.csv") == tuple(written)
    assert made().mb_per_s == 1.6 and made(seconds=0.0).rows_per_s == 0.0
