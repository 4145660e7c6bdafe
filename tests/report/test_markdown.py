from __future__ import annotations

from collections.abc import Callable

from alops.report import markdown
from alops.report.content import Content

HOSTILE = "experiment/<img src=x onerror=alert(1)>|@all`#1"


def test_code_spans_hold_any_text() -> None:
    assert markdown.code("a|b") == "`a|b`"
    assert markdown.code("a|b", cell=True) == "`a\\|b`"
    assert markdown.code("x`y") == "``x`y``"
    assert markdown.code("`x") == "`` `x ``"
    assert markdown.code("a\nb") == "`a\ufffdb`"
    assert markdown.fenced("a ``` b") == "````\na ``` b\n````"


def test_url_takes_only_http_and_cannot_end_the_link_early() -> None:
    assert markdown.url("javascript:alert(1)") is None
    assert markdown.url("https://g.example/p/-/jobs/1 x)y") == "https://g.example/p/-/jobs/1%20x%29y"


def test_the_note_starts_with_the_marker_and_shows_every_part(make_content: Callable[..., Content]) -> None:
    images = {"confusion.png": "![c](/uploads/1/c.png)", "per-class.png": "![p](/uploads/2/p.png)"}
    note = markdown.render(make_content(), images)
    lines = note.splitlines()
    assert lines[0] == "<!-- alops-report flow=experiment -->"
    assert lines[1] == "## Experiment report: `experiment/lr`"
    assert (
        lines[3]
        == "Flow **experiment**, dataset `full`, compared with `main` (git, commit `bbbbbbbb`) · commit `aaaaaaaa`"
    )
    assert "**Quality gate: ✅ pass (2 checks)**" in lines
    assert "- ✅ pass: `accuracy = 0.97 meets min 0.85 (must be >= 0.85)`" in lines
    assert "![c](/uploads/1/c.png) ![p](/uploads/2/p.png)" in lines
    assert "- accuracy across pipelines: `no earlier pipeline of <b>x</b>`" in lines
    assert (
        "[Pipeline](https://gitlab.example.com/grp/proj/-/pipelines/1001) · [Report page]"
        "(https://gitlab.example.com/grp/proj/-/jobs/5001/artifacts/file/alops-report/index.html)"
    ) in lines
    assert "```shell\nalops reproduce https://gitlab.example.com/grp/proj/-/pipelines/1001\n" in note
    assert "| runner | `gpu-runner-1 (gpu)` |" in lines
    assert "| GPU | `NVIDIA H200 (143771 MiB, driver 570.1)` |" in lines
    assert (
        "| device | `cuda · CUDA 12.8 (driver 570.1) · torch 2.13.0, CUDA 13.0 build · CUDA_VISIBLE_DEVICES=0` |"
        in lines
    )
    assert note.rstrip().endswith("</details>")


def test_a_failing_gate_and_a_hostile_branch(make_content: Callable[..., Content]) -> None:
    note = markdown.render(make_content(HOSTILE, failing=True, with_plots=False), {})
    assert note.splitlines()[1] == "## Experiment report: ``experiment/<img src=x onerror=alert(1)>|@all`#1``"
    assert "**Quality gate: ❌ FAIL (2 of 2 checks failed)**" in note
    assert "- ❌ FAIL: `accuracy = 0.81 misses min 0.85 (must be >= 0.85)`" in note
    assert "<img" not in note.replace("`experiment/<img src=x onerror=alert(1)>|@all`#1`", "")
