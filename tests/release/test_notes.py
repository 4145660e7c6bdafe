"""alops.release.notes: the GitLab Release's notes, with every value a user or a run controls escaped."""

from __future__ import annotations

import re

from alops.compare import Snapshot
from alops.gate import Check, GateResult
from alops.release.notes import Link, render

GATE = GateResult(
    (Check("accuracy", "min", 0.85, 0.93, None, "passed", "accuracy = 0.93 meets min 0.85"),),
    against="main",
)


def notes(**kwargs: object) -> str:
    args: dict[str, object] = {
        "model": "digits",
        "version": "1.2.0",
        "manifest": {
            "commit": "a" * 40,
            "dataset": "full",
            "ref": "release/1.2",
            "ci": {"pipeline_url": "https://gitlab.example.com/g/p/-/pipelines/9"},
        },
        "gate": GATE,
        "current": Snapshot(
            "this release",
            "manifest",
            "a" * 40,
            {"metrics/full.json": {"accuracy": 0.93}},
            {},
            {"data/full": "d" * 32 + ".dir"},
        ),
        "baseline": None,
        "links": [
            Link(
                "digits-1.2.0.tar.gz",
                "https://gitlab.example.com/api/v4/projects/1/packages/generic/digits/1.2.0/digits-1.2.0.tar.gz",
                "package",
            )
        ],
    }
    return render(**(args | kwargs))  # type: ignore[arg-type]


def test_the_notes_say_what_from_where_how_good_and_where_it_is() -> None:
    text = notes()
    assert text.splitlines()[:3] == [
        "## digits 1.2.0",
        "",
        "Trained on the `full` data at commit `aaaaaaaaaaaa` of `release/1.2`, in "
        "[pipeline](https://gitlab.example.com/g/p/-/pipelines/9).",
    ]
    assert "### Quality gate: passed (1 checks)\n\n- pass: accuracy = 0.93 meets min 0.85" in text
    assert "| metrics/full.json | accuracy | 0.93 |" in text
    assert f"| data/full | {'d' * 32}.dir |" in text
    assert (
        "- [digits-1.2.0.tar.gz](https://gitlab.example.com/api/v4/projects/1/packages/generic/digits/1.2.0/digits-1.2.0.tar.gz)"
        in text
    )


def test_against_a_baseline_the_notes_hold_the_comparison() -> None:
    base = Snapshot(
        "main", "git", "b" * 40, {"metrics/full.json": {"accuracy": 0.9}}, {}, {"data/full": "c" * 32 + ".dir"}
    )
    text = notes(baseline=base)
    assert "### Against the baseline" in text
    assert "| metrics/full.json | accuracy | 0.9 | 0.93 | +0.03 (+3.33%) |" in text


def test_hostile_values_are_escaped() -> None:
    hostile = Snapshot("x", "manifest", None, {"m.json": {"<img src=x onerror=alert(1)>|@all": 1.0}}, {}, {})
    text = notes(
        manifest={
            "commit": "a" * 40,
            "dataset": "full`\n# injected",
            "ref": "release/1.2](javascript:alert(1))",
            "ci": {"pipeline_url": "javascript:alert(1)"},
        },
        current=hostile,
        links=[Link("x](javascript:alert(1)) [y", "javascript:alert(1)")],
    )
    assert re.search(r"(?<!\\)<img", text) is None and "\n# injected" not in text  # escaped, one line
    assert "of `release/1.2](javascript:alert(1))`" in text  # the ref: literal text in a code span
    links = text.split("### Links", 1)[1]
    assert re.search(r"(?<!\\)\]\(javascript:", links) is None  # no link to a script
    assert "[pipeline]" not in text  # a link target that is not http(s) is left out
    assert "\\<img src=x onerror=alert(1)\\>\\|\\@all" in text
