"""``alops.compare``: a run against its baseline, and how md, json and text show it."""

from __future__ import annotations

import json
import math

import pytest
from markdown_it import MarkdownIt

from alops.compare import Change, Snapshot, compare, md_escape, render

CURRENT = Snapshot(
    label="workspace",
    source="workspace",
    commit="c" * 40,
    metrics={"metrics/full.json": {"accuracy": 0.95, "loss": 0.2, "f1": 0.5}},
    params={"params.yaml": {"train.model": "logreg", "train.C": 0.1, "prepare.seed": 42}},
    data={"data/full": "aaaaaaaa1111.dir", "models/full": "bbbbbbbb2222.dir"},
)
BASELINE = Snapshot(
    label="main",
    source="git",
    commit="0123456789" * 4,
    metrics={"metrics/full.json": {"accuracy": 0.9, "loss": 0.2, "recall": 0.7}},
    params={"params.yaml": {"train.model": "logreg", "train.C": 1.0, "prepare.seed": 42, "train.old": True}},
    data={"data/full": "aaaaaaaa1111.dir", "models/full": "cccccccc3333.dir"},
)


def test_every_metric_of_either_side_and_only_the_changed_params_and_data() -> None:
    diff = compare(CURRENT, BASELINE)

    f = "metrics/full.json"
    assert diff.metrics[0] == Change(f, "accuracy", 0.9, 0.95, pytest.approx(0.05))  # type: ignore[arg-type]
    assert diff.metrics[1:] == (
        Change(f, "loss", 0.2, 0.2, 0.0),
        Change(f, "f1", None, 0.5, None),
        Change(f, "recall", 0.7, None, None),
    )
    assert diff.params == (
        Change("params.yaml", "train.C", 1.0, 0.1, pytest.approx(-0.9)),  # type: ignore[arg-type]
        Change("params.yaml", "train.old", True, None, None),
    )
    assert diff.data == (Change("models/full", "", "cccccccc3333.dir", "bbbbbbbb2222.dir"),)
    assert (diff.current, diff.baseline) == (CURRENT, BASELINE)


def test_a_metrics_file_dvc_tracks_is_no_data_version() -> None:
    current = Snapshot("workspace", "workspace", metrics={"m.json": {"a": 1.0}}, data={"m.json": "1", "d": "2"})
    baseline = Snapshot("main", "git", metrics={"m.json": {"a": 1.0}}, data={"m.json": "3", "d": "4"})
    assert [c.file for c in compare(current, baseline).data] == ["d"]


def test_booleans_are_not_numbers_so_have_no_delta() -> None:
    a = Snapshot("workspace", "workspace", params={"p": {"x": True}})
    b = Snapshot("main", "git", params={"p": {"x": 1}})
    assert compare(a, b).params == ()  # True == 1: not a change (as YAML reads them)
    assert compare(a, Snapshot("main", "git", params={"p": {"x": False}})).params[0].delta is None


def test_markdown_has_three_tables_with_relative_change_and_short_hashes() -> None:
    md = render(compare(CURRENT, BASELINE), "md")

    lines = md.splitlines()
    assert lines[0] == "Compared with main (git, commit 01234567)"
    assert "| metrics/full.json | accuracy | 0.9 | 0.95 | +0.05 (+5.56%) |" in lines
    assert "| metrics/full.json | loss | 0.2 | 0.2 | 0 |" in lines
    assert "| metrics/full.json | f1 | — | 0.5 | new |" in lines
    assert "| metrics/full.json | recall | 0.7 | — | gone |" in lines
    assert "| params.yaml | train.C | 1 | 0.1 |" in lines
    assert "| models/full | cccccccc | bbbbbbbb |" in lines
    assert [line for line in lines if line.startswith("#### ")] == [
        "#### Metrics",
        "#### Parameters",
        "#### Data versions",
    ]
    tables = [t for t in MarkdownIt("commonmark").enable("table").parse(md) if t.type == "table_open"]
    assert len(tables) == 3


def test_nothing_changed_is_said_in_words() -> None:
    same = Snapshot("main", "git", commit="a" * 40, metrics=CURRENT.metrics, params=CURRENT.params, data=CURRENT.data)
    md = render(compare(CURRENT, same), "md")
    assert "No parameter changed." in md and "No data version changed." in md
    text = render(compare(CURRENT, same), "text")
    assert "Parameters: 0 changed\nData versions: 0 changed\n" in text


HOSTILE = "a|b`c<img src=x onerror=alert(1)>\n| x | @all #1 !2 ~bug $`x`$ **b** [l](http://e) &amp; \\|"


def test_hostile_names_stay_inside_their_cell_as_literal_text() -> None:
    current = Snapshot("workspace", "workspace", metrics={HOSTILE: {HOSTILE: 1.0}}, params={"p": {HOSTILE: HOSTILE}})
    baseline = Snapshot(HOSTILE, "git", commit="a" * 40, metrics={HOSTILE: {HOSTILE: 0.5}}, params={"p": {HOSTILE: 1}})
    md = render(compare(current, baseline), "md")

    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(md)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_inline", "html_block", "code_inline", "link_open", "em_open", "strong_open", "image"}
    rows: list[list[str]] = []
    cell = False
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        cell = token.type in ("th_open", "td_open") or (cell and token.type == "inline")
        if cell and token.type == "inline":
            rows[-1].append(parser.renderInline(token.content))
    literal = HOSTILE.replace("\n", "\\n").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert rows == [
        ["File", "Metric", "Baseline", "Current", "Change"],
        [literal, literal, "0.5", "1", "+0.5 (+100.00%)"],
        ["File", "Parameter", "Baseline", "Current"],
        ["p", literal, "1", literal],
    ]
    assert md.splitlines()[0] == "Compared with " + md_escape(HOSTILE) + " (git, commit aaaaaaaa)"
    assert "\n" not in md_escape(HOSTILE)


def test_md_escape_leaves_plain_names_readable() -> None:
    assert md_escape("metrics/full.json") == "metrics/full.json"
    assert md_escape("test.f1 score") == "test.f1 score"
    assert md_escape("a|b") == "a\\|b"


def test_json_has_a_stable_documented_shape() -> None:
    current = Snapshot("workspace", "workspace", metrics={"m.json": {"acc": math.nan, "loss": 0.5}})
    baseline = Snapshot("main", "git", commit="f" * 40, metrics={"m.json": {"acc": 0.5, "loss": 1.0}}, note="n")
    doc = json.loads(render(compare(current, baseline), "json"))

    assert doc == {
        "against": {"label": "main", "source": "git", "commit": "f" * 40, "note": "n", "pipeline_url": None},
        "current": {"label": "workspace", "source": "workspace", "commit": None},
        "metrics": [
            {
                "file": "m.json",
                "metric": "acc",
                "baseline": 0.5,
                "current": "NaN",
                "delta": "NaN",
                "change_percent": "NaN",
            },
            {
                "file": "m.json",
                "metric": "loss",
                "baseline": 1.0,
                "current": 0.5,
                "delta": -0.5,
                "change_percent": -50.0,
            },
        ],
        "params": [],
        "data": [],
    }
    full = json.loads(render(compare(CURRENT, BASELINE), "json"))
    assert full["data"] == [{"path": "models/full", "baseline": "cccccccc3333.dir", "current": "bbbbbbbb2222.dir"}]
    assert full["params"][0] == {"file": "params.yaml", "param": "train.C", "baseline": 1.0, "current": 0.1}


def test_text_lines_up_columns_and_escapes_controls() -> None:
    text = render(compare(CURRENT, BASELINE), "text")
    assert text.splitlines()[:3] == [
        "Baseline: main (git, commit 01234567)",
        "Metrics:",
        "  file               metric    baseline  current  change",
    ]
    assert "  metrics/full.json  accuracy  0.9       0.95     +0.05 (+5.56%)" in text.splitlines()
    assert "  models/full  cccccccc  →  bbbbbbbb" in text.splitlines()
    odd = Snapshot("workspace", "workspace", metrics={"m": {"a\x1b[31m\u202e": 1.0}})
    assert "a\\x1b[31m\\u202e" in render(compare(odd, BASELINE), "text")


def test_without_a_baseline_md_and_text_say_so_in_one_line_and_list_the_current_metrics() -> None:
    none = Snapshot("main", "none", note="main has none of the metrics files | <b>")
    diff = compare(CURRENT, none)

    md = render(diff, "md").splitlines()
    assert md[0] == "No baseline to compare with: main has none of the metrics files \\| \\<b\\>"
    assert md[4:] == [
        "| File | Metric | Current |",
        "|---|---|---|",
        "| metrics/full.json | accuracy | 0.95 |",
        "| metrics/full.json | loss | 0.2 |",
        "| metrics/full.json | f1 | 0.5 |",
    ]
    text = render(diff, "text").splitlines()
    assert text[0] == "No baseline to compare with: main has none of the metrics files | <b>"
    assert text[2] == "  metrics/full.json  accuracy  0.95"
    assert json.loads(render(diff, "json"))["against"]["source"] == "none"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format 'html'"):
        render(compare(CURRENT, BASELINE), "html")


def test_json_takes_any_parameter_yaml_can_hold() -> None:
    import datetime

    current = Snapshot(
        "workspace", "workspace", params={"p": {"when": datetime.date(2026, 1, 2), "xs": [1.0, math.inf]}}
    )
    doc = json.loads(render(compare(current, Snapshot("main", "git")), "json"))
    assert doc["params"] == [
        {"file": "p", "param": "when", "baseline": None, "current": "2026-01-02"},
        {"file": "p", "param": "xs", "baseline": None, "current": [1.0, "Infinity"]},
    ]
    assert "| p | xs | — | \\[1.0, Infinity\\] |" in render(compare(current, Snapshot("main", "git")), "md")
