"""The notes of a GitLab Release: what was released, how good it is, from which data, and where it is.

The comparison with the baseline (metrics, parameters and data versions) is
:mod:`alops.compare`'s Markdown, the same as the merge request's report shows;
every value a user or a run controls is escaped by it or here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops.compare import md_escape
from alops.report.markdown import code, url

if TYPE_CHECKING:
    from alops.compare import Snapshot
    from alops.gate import GateResult

_OUTCOME = {"passed": "pass", "failed": "FAIL", "skipped": "skip"}


@dataclass(frozen=True)
class Link:
    """A link of the release: a release asset on GitLab, a line of the notes everywhere."""

    name: str
    url: str
    kind: str = "other"  # GitLab's link_type: other, runbook, image or package


def render(
    *,
    model: str,
    version: str,
    manifest: Mapping[str, Any],
    gate: GateResult,
    current: Snapshot,
    baseline: Snapshot | None,
    links: Sequence[Link],
) -> str:
    """The release notes in GitLab Flavored Markdown."""
    from alops import compare

    ci = manifest.get("ci") or {}
    commit = str(manifest.get("commit") or "")
    lines = [f"## {md_escape(model)} {md_escape(version)}", ""]
    where = f"Trained on the {code(manifest.get('dataset'))} data at commit {code(commit[:12])}"
    if manifest.get("ref"):
        where += f" of {code(manifest['ref'])}"
    pipeline = url(str(ci.get("pipeline_url") or ""))
    lines += [where + (f", in [pipeline]({pipeline})." if pipeline else "."), ""]
    failed = len(gate.failed)
    verdict = f"FAIL ({failed} of {len(gate.checks)} checks)" if failed else f"passed ({len(gate.checks)} checks)"
    lines += [f"### Quality gate: {verdict}", ""]
    lines += [f"- {_OUTCOME[c.outcome]}: {md_escape(c.message)}" for c in gate.checks]
    lines += [""]
    if baseline is not None and baseline.source != "none":
        lines += ["### Against the baseline", "", compare.render(compare.compare(current, baseline), "md")]
    else:
        lines += ["### Metrics", ""] + _metrics(current.metrics)
        lines += ["", "### Data versions", ""] + _data(current.data)
    if links:
        lines += ["", "### Links", ""]
        for link in links:
            target = url(link.url)
            lines.append(f"- [{md_escape(link.name)}]({target})" if target else f"- {md_escape(link.name)}")
    return "\n".join(lines).rstrip("\n") + "\n"


def _metrics(metrics: Mapping[str, Mapping[str, float]]) -> list[str]:
    rows = [(name, key, value) for name, values in metrics.items() for key, value in values.items()]
    if not rows:
        return ["The run recorded no metrics."]
    return ["| File | Metric | Value |", "|---|---|---|"] + [
        f"| {md_escape(name)} | {md_escape(key)} | {value:.6g} |" for name, key, value in rows
    ]


def _data(data: Mapping[str, str]) -> list[str]:
    if not data:
        return ["The run recorded no data versions."]
    return ["| Path | DVC hash |", "|---|---|"] + [f"| {md_escape(p)} | {md_escape(h)} |" for p, h in data.items()]
