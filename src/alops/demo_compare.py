"""The demo's experiment held to the default branch: the metrics diff, the gate's verdict, the report page.

What ``alops metrics diff``, ``alops gate`` and ``alops report`` show in an
experiment's merge request, here without GitLab: the baseline is ``main`` as
git has it (the demo trained and committed it first), and the page is the one
the report job keeps as its artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alops.compare import Change
from alops.gate import Check

#: The experiment branch's change: a stronger regularisation's inverse, one of alops.yaml's allowed values.
CHANGE = {"train.C": 10.0}


@dataclass(frozen=True)
class Comparison:
    against: str  # the baseline: ref (source, commit)
    metrics: tuple[Change, ...]
    params: tuple[Change, ...]
    data: tuple[Change, ...]
    checks: tuple[Check, ...]
    page: Path
    plots: int


def change_params(clone: Path) -> str:
    """Make the experiment's parameter change in ``clone``'s params.yaml; the commit message for it."""
    from alops import params
    from alops.config import load_config

    config = load_config(clone / "alops.yaml")
    params.apply_overrides(config, params.parse_overrides(config, [f"{k}={v}" for k, v in CHANGE.items()]))
    return "experiment: " + ", ".join(f"{k} = {v}" for k, v in CHANGE.items())


def compare_with_main(clone: Path, out: Path, *, env: Mapping[str, str]) -> Comparison:
    """The experiment in ``clone`` (trained) against ``main``: what its report shows, the page written to ``out``."""
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.report import content, files

    config = load_config(clone / "alops.yaml")
    plan = current_plan(config, {})
    found = content.build(
        config, plan, env, against="main", out=out, gitlab_client=lambda: (None, "the demo has no GitLab server")
    )
    files.write(found, out)
    from alops.compare import describe

    diff = found.diff
    checks = found.gate.checks if found.gate else ()
    return Comparison(
        describe(diff.baseline), diff.metrics, diff.params, diff.data, checks, out / "index.html", len(found.plots)
    )


def render(c: Comparison) -> list[str]:
    """The comparison's lines under the experiment flow of the demo's output."""
    lines = [f"  against   {c.against}"]
    for m in c.metrics:
        if isinstance(m.old, float) and isinstance(m.new, float) and m.delta:  # unchanged ones: in the page
            lines.append(f"            {m.key}: {m.old:.4g} → {m.new:.4g} ({m.delta:+.4g})")
    for p in c.params:
        lines.append(f"            param {p.file}:{p.key}: {p.old} → {p.new}")
    if c.data:
        lines.append(f"            data versions changed: {', '.join(d.file for d in c.data)}")
    marks = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}
    verdict = "FAIL" if any(x.outcome == "failed" for x in c.checks) else "pass"
    lines.append(f"  gate      {verdict} (alops gate would exit {6 if verdict == 'FAIL' else 0})")
    lines += [f"            {marks[x.outcome]}  {x.message}" for x in c.checks]
    lines.append(f"  report    {c.page} ({c.plots} plots; what `alops report` posts to the merge request)")
    return lines
