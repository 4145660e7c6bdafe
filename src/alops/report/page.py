"""The report as one self-contained HTML page (``index.html``): CSS inline, plots as data: URIs."""

from __future__ import annotations

import json
from typing import Any

from alops.compare import Change
from alops.report import html
from alops.report.content import Content, environment

_OUTCOME = {"passed": (True, "pass"), "failed": (False, "FAIL"), "skipped": (True, "skip")}


def render(content: Content) -> str:
    """The whole page."""
    diff = content.diff
    h = html.element
    parts: list[Any] = [
        h("h1", f"Experiment report: {content.branch}"),
        h(
            "p",
            html.join(
                [
                    "Flow ",
                    h("strong", content.role),
                    ", dataset ",
                    h("code", content.dataset),
                    ", compared with ",
                    _baseline(content),
                    *(["; commit ", h("code", diff.current.commit[:8])] if diff.current.commit else []),
                ],
                "",
            ),
            class_="note",
        ),
        *_links(content),
        h("h2", "Quality gate"),
        *_gate(content),
        h("h2", "Metrics"),
        _changes(diff.metrics, ("file", "metric")) if diff.metrics else h("p", "No metrics on either side."),
        h("h2", "Parameters"),
        _changes(diff.params, ("file", "parameter")) if diff.params else h("p", "No parameter changed."),
        h("h2", "Data versions"),
        _data(diff.data) if diff.data else h("p", "No data version changed."),
        h("h2", "Plots"),
        html.Markup('<div class="plots">' + "".join(html.image(p.png, p.title) for p in content.plots) + "</div>"),
    ]
    if content.left_out:
        parts += [
            h("p", "Not shown:", class_="note"),
            h("ul", html.join(h("li", f"{lo.title}: {lo.why}") for lo in content.left_out)),
        ]
    parts += [h("h2", "Reproduce"), html.pre("\n".join(content.reproduce))]
    rows = environment(content.manifest)
    if rows:
        parts += [h("h2", "Environment"), html.table(["", "value"], rows)]
    if content.manifest is not None:
        parts.append(
            html.details("Run manifest (alops-manifest.json)", html.pre(json.dumps(content.manifest, indent=2)))
        )
    return html.page(f"alops report: {content.branch}", html.join(parts))


def _baseline(content: Content) -> html.Markup:
    base = content.diff.baseline
    if base.source == "none":
        return html.join(["no baseline: ", base.note or base.label], "")
    commit = [", commit ", html.element("code", base.commit[:8])] if base.commit else []
    return html.join([html.element("code", base.label), f" ({base.source}", *commit, ")"], "")


def _links(content: Content) -> list[html.Markup]:
    links = []
    if content.pipeline_url:
        links.append(html.link(content.pipeline_url, "Pipeline"))
    if content.page_url:
        links.append(html.link(content.page_url, "This page in the job's artifacts"))
    return [html.element("p", html.join(links, " · "))] if links else []


def _gate(content: Content) -> list[html.Markup]:
    gate = content.gate
    if gate is None:
        return [html.element("p", "None: alops.yaml has no quality.thresholds.")]
    failed = len(gate.failed)
    verdict = f"{failed} of {len(gate.checks)} checks failed" if failed else f"{len(gate.checks)} checks passed"
    rows = []
    for check in gate.checks:
        passed, label = _OUTCOME[check.outcome]
        kind = "skip" if check.outcome == "skipped" else None
        rows.append([html.badge(passed, label, kind=kind), check.metric, check.bound, check.message])
    return [
        html.element("p", html.join([html.badge(not failed), " ", verdict], "")),
        html.table(["", "metric", "bound", "check"], rows),
    ]


def _value(value: Any) -> Any:
    if value is None:
        return "—"
    return value


def _changes(changes: tuple[Change, ...], names: tuple[str, str]) -> html.Markup:
    rows = [
        [c.file, c.key, _value(c.old), _value(c.new), "—" if c.delta is None else html.Markup(_delta(c.delta))]
        for c in changes
    ]
    return html.table([*names, "baseline", "current", "change"], rows)


def _delta(delta: float) -> str:
    return html.element("span", f"{delta:+g}") if delta else "0"


def _data(changes: tuple[Change, ...]) -> html.Markup:
    return html.table(["path", "baseline", "current"], [[c.file, _value(c.old), _value(c.new)] for c in changes])
