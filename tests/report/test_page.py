"""The report page, opened in headless Chromium: it reads well, shows its values, loads nothing from outside."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.report import page
from alops.report.content import Content

HOSTILE = "experiment/<img src=x onerror=alert(1)>|@all`#1"


CHROMIUM = Path("/usr/bin/chromium")
#: Read before the autouse fixture strips CI: in CI a missing Chromium fails, elsewhere it skips.
IN_CI = bool(os.environ.get("CI"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: scripts/ensure-system-tools installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; in CI this test fails)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def open_page(browser, html: str, requests: list[str]):  # type: ignore[no-untyped-def]
    tab = browser.new_page(viewport={"width": 1100, "height": 900})
    tab.on("request", lambda request: requests.append(request.url))

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        requests.append(route.request.url)
        route.abort()

    tab.route("**/*", refuse)
    tab.set_content(html, wait_until="load")
    return tab


def test_the_page_shows_its_tables_and_plots_and_requests_nothing(
    browser, tmp_path: Path, make_content: Callable[..., Content]
) -> None:  # type: ignore[no-untyped-def]
    from matplotlib import image

    requests: list[str] = []
    tab = open_page(browser, page.render(make_content()), requests)

    shot = tmp_path / "report.png"
    tab.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    pixels = image.imread(io.BytesIO(data), format="png")
    height, width = pixels.shape[:2]
    assert width == 1100 and 1500 <= height <= 6000
    assert pixels.std() > 0.05  # not blank

    tables = tab.eval_on_selector_all(
        "table", "ts => ts.map(t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim())))"
    )
    gate, metrics, params, data_versions = tables[:4]
    assert gate == [
        ["", "metric", "bound", "check"],
        ["pass", "accuracy", "min", "accuracy = 0.97 meets min 0.85 (must be >= 0.85)"],
        ["pass", "accuracy", "max_regression", "accuracy: 0.95 → 0.97 at main, 0 worse, within max_regression 0.02"],
    ]
    assert metrics == [
        ["file", "metric", "baseline", "current", "change"],
        ["metrics/full.json", "accuracy", "0.95", "0.97", "+0.02"],
        ["metrics/full.json", "<b>loss</b>", "0.15", "0.12", "-0.03"],
    ]
    assert params == [
        ["file", "parameter", "baseline", "current", "change"],
        ["params.yaml", "train.C", "1", "0.1", "-0.9"],
    ]
    assert data_versions == [["path", "baseline", "current"], ["models/full", "abcd.dir", "1234.dir"]]
    assert tab.inner_text(".badge.pass >> nth=0") == "PASS"

    images = tab.eval_on_selector_all("img", "is => is.map(i => [i.alt, i.naturalWidth, i.complete])")
    assert [alt for alt, _, _ in images] == ["Confusion matrix", "Per-class"]
    assert all(width > 0 and done for _, width, done in images)
    assert tab.inner_text("pre >> nth=0").splitlines()[1] == "alops reproduce alops-manifest.json"
    assert "NVIDIA H200" in tab.inner_text("body")
    assert tab.inner_text("details > summary") == "Run manifest (alops-manifest.json)"
    assert '"gpu-runner-1"' in (tab.text_content("details pre") or "")  # folded: not rendered, but there
    assert requests == []
    tab.close()


def test_a_failing_gate_and_a_hostile_branch_render_as_text(browser, make_content: Callable[..., Content]) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    html = page.render(make_content(HOSTILE, with_plots=False, failing=True))
    tab = open_page(browser, html, requests)

    assert tab.inner_text("h1") == f"Experiment report: {HOSTILE}"
    assert tab.eval_on_selector_all("img", "is => is.length") == 0  # the branch's <img> is text
    assert tab.inner_text(".badge.fail >> nth=0") == "FAIL"
    assert "no earlier pipeline of <b>x</b>" in tab.inner_text("ul")
    assert requests == []
    tab.close()
