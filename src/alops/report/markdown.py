"""The report as GitLab Markdown: the merge request note (``report.md``).

Names come from users (branch names, metric and parameter names, gate
messages that quote them), so they are shown only inside code spans: no
Markdown, HTML, ``@``-mention or ``#``/``!`` reference in them takes effect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from alops.report.content import Content, environment

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OUTCOME = {"passed": "✅ pass", "failed": "❌ FAIL", "skipped": "⏭️ skip"}


def code(text: object, *, cell: bool = False) -> str:
    """``text`` as a code span (one line); with ``cell``, safe in a table cell too."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text))
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, lang: str = "") -> str:
    """A fenced code block longer than any backtick run inside it."""
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def url(href: str) -> str | None:
    """``href`` fit for a Markdown link target (http(s) only, nothing that ends the link early), else None."""
    if not href.lower().startswith(("http://", "https://")):
        return None
    return quote(href, safe=":/?&=#%~+@!$,;*'-._")


def render(content: Content, images: Mapping[str, str]) -> str:
    """The note: marker, gate verdict, diff tables, plots, links, reproduce commands.

    ``images``: each plot's file name → the Markdown that shows it (an upload's
    ``markdown``, or a relative ``![title](file.png)`` for the report folder).
    """
    from alops import compare

    diff = content.diff
    lines = [
        content.marker,
        f"## Experiment report: {code(content.branch)}",
        "",
        f"Flow **{content.role}**, dataset {code(content.dataset)}, compared with "
        + _baseline(content)
        + (f" · commit {code(diff.current.commit[:8])}" if diff.current.commit else ""),
        "",
        *_gate(content),
        "",
        compare.render(diff, "md").rstrip("\n"),
        "",
    ]
    shown = [f"{images[p.file]}" for p in content.plots if p.file in images]
    if shown or content.left_out:
        lines += ["### Plots", ""]
        lines += [" ".join(shown)] if shown else []
        if content.left_out:
            lines += ["", "Not shown:", ""]
            lines += [f"- {title}: {code(why)}" for title, why in ((lo.title, lo.why) for lo in content.left_out)]
        lines.append("")
    links = []
    if content.pipeline_url and url(content.pipeline_url):
        links.append(f"[Pipeline]({url(content.pipeline_url)})")
    if content.page_url and url(content.page_url):
        links.append(f"[Report page]({url(content.page_url)})")
    if links:
        lines += [" · ".join(links), ""]
    lines += [
        "<details><summary>Reproduce this run</summary>",
        "",
        fenced("\n".join(content.reproduce), "shell"),
        "",
    ]
    rows = environment(content.manifest)
    if rows:
        lines += ["| environment | |", "|---|---|"]
        lines += [f"| {what} | {code(value, cell=True)} |" for what, value in rows]
    else:
        lines.append("No run manifest (alops-manifest.json, written by `alops run`): the environment is unknown.")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _baseline(content: Content) -> str:
    base = content.diff.baseline
    if base.source == "none":
        return "no baseline (see below)"
    where = f"{base.source}" + (f", commit {code(base.commit[:8])}" if base.commit else "")
    return f"{code(base.label)} ({where})"


def _gate(content: Content) -> list[str]:
    gate = content.gate
    if gate is None:
        return ["**Quality gate:** none (alops.yaml has no `quality.thresholds`)"]
    failed = len(gate.failed)
    verdict = (
        f"❌ FAIL ({failed} of {len(gate.checks)} checks failed)" if failed else f"✅ pass ({len(gate.checks)} checks)"
    )
    return [f"**Quality gate: {verdict}**", "", *(f"- {_OUTCOME[c.outcome]}: {code(c.message)}" for c in gate.checks)]
