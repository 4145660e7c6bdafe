"""The report of `alops devset check`: Markdown (also a merge request's description), JSON, a terminal summary.

Column names and values come from the data, so they are shown only inside
code spans (no Markdown, HTML or @-mention in them takes effect), with pipes
escaped for the table and control characters replaced.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alops.devset.check.result import CheckResult, Finding
    from alops.devset.check.stats import Moments

#: Where `alops devset check` writes its report unless told: inside the project, in a folder git ignores
#: (a report of the moment is not something to commit; CI jobs pass ``--report-dir`` and keep it as an artifact).
DEFAULT_DIR = Path(".alops") / "devset-check"

_TESTS = {"chi2": "χ²", "ks": "KS", "psi": "PSI", "share": "share", "presence": "present"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_NAME = 80


def numeric_detail(dev: Moments | None, full: Moments | None) -> str:
    if not dev or not full or not dev.n or not full.n:
        return "no values to compare"
    return f"mean {dev.mean:.4g} vs {full.mean:.4g} in the full data; sd {dev.sd:.4g} vs {full.sd:.4g}"


def categorical_detail(dev: Mapping[str | None, int], full: Mapping[str | None, int], *, unlabelled: bool) -> str:
    n, total = sum(dev.values()) or 1, sum(full.values()) or 1
    keys = sorted(set(dev) | set(full), key=lambda k: -abs(dev.get(k, 0) / n - full.get(k, 0) / total))
    parts = []
    for key in keys[:3]:
        d, f = dev.get(key, 0) / n, full.get(key, 0) / total
        name = code(key) if key is not None else ("(unlabelled)" if unlabelled else "(empty)")
        parts.append(f"{name} {d:.1%} vs {f:.1%}" + (" (not in the dev set)" if not dev.get(key) else ""))
    return "share in dev vs full data: " + ", ".join(parts) if parts else "no values to compare"


def code(text: str, *, cell: bool = False) -> str:
    """``text`` as a Markdown code span; with ``cell``, safe in a table cell too (pipes escaped)."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text))
    if len(text) > _MAX_NAME:
        text = text[: _MAX_NAME - 1] + "…"
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def verdict(result: CheckResult, *, quote: Callable[[str], str] | None = None) -> str:
    """One line: representative or not, and which tests failed (names through ``quote``)."""
    q = quote or plain
    total, failed = len(result.findings), result.failures
    if not failed:
        return f"The dev set {q(result.dev)} represents the full data {q(result.full)}: all {total} tests passed."
    names = ", ".join(f"{q(f.column)} ({_TESTS[f.test]})" for f in failed[:5]) + (", …" if len(failed) > 5 else "")
    return (
        f"The dev set {q(result.dev)} no longer represents the full data {q(result.full)}: {len(failed)} of "
        f"{total} tests failed: {names}. Rebuild it with `alops devset refresh` (or `alops devset build`)."
    )


def markdown(result: CheckResult) -> str:
    ok = result.representative
    tested = sum(1 for f in result.findings if f.pvalue is not None)
    lines = [
        f"## Dev set check: {'✅ representative' if ok else '❌ not representative'}",
        "",
        f"**Verdict:** {verdict(result, quote=code)}",
        "",
        f"Dev set: {result.dev_rows:,} rows · full data: {result.full_rows:,} rows · p-values Holm-adjusted "
        f"over the {tested} KS and χ² tests.",
        "",
        "| column | kind | test | statistic | p-value | threshold | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in result.findings:
        if f.kind != "rows":
            lines.append(
                f"| {code(f.column, cell=True)} | {f.kind} | {_TESTS[f.test]} | {_num(f.statistic)} | {_num(f.pvalue)} "
                f"| {_threshold(f)} | {'✅ pass' if f.passed else '❌ fail'} |"
            )
    lines += ["", "| rows | dev set | expected | allowed | result |", "|---|---|---|---|---|"]
    for f in result.findings:
        if f.kind == "rows":
            v = f.share
            assert v is not None
            lines.append(
                f"| {f.column} | {v.dev} ({f.statistic or 0:.2%}) | {v.expected:.1f} "
                f"| {v.low:.1f}–{v.high:.1f} | {'✅ pass' if f.passed else '❌ fail'} |"
            )
    if result.failures:
        lines += ["", "### Why", ""]
        lines += [f"- {code(f.column)} ({_TESTS[f.test]}): {f.detail}" for f in result.failures]
    if result.skipped:
        lines += ["", "### Not compared", ""]
        lines += [f"- {code(name)}: {why}" for name, why in result.skipped]
    lines += [
        "",
        "KS: numeric columns; χ²: categorical columns and the label; PSI: both (10 bins of equal full-data mass). "
        "Corrupt rows and outliers are left out of the column tests and compared by their share.",
    ]
    return "\n".join(lines) + "\n"


def as_json(result: CheckResult) -> dict[str, Any]:
    return {
        "representative": result.representative,
        "verdict": verdict(result),
        "dev": {"path": result.dev, "rows": result.dev_rows},
        "full": {"path": result.full, "rows": result.full_rows},
        "findings": [_finding(f) for f in result.findings],
        "skipped": [{"column": name, "why": why} for name, why in result.skipped],
    }


def summary(result: CheckResult) -> str:
    head = f"Dev set {result.dev} ({result.dev_rows:,} rows) vs full data {result.full} ({result.full_rows:,} rows): "
    if result.representative:
        return head + f"representative, all {len(result.findings)} tests passed."
    lines = [head + f"NOT representative, {len(result.failures)} of {len(result.findings)} tests failed:"]
    for f in result.failures[:10]:
        lines.append(f"  {plain(f.column)}  {_TESTS[f.test]}  {_short(f)}  {plain(f.detail)}")
    if len(result.failures) > 10:
        lines.append(f"  … and {len(result.failures) - 10} more (see the report)")
    return "\n".join(lines)


def default_dir(root: Path) -> Path:
    """:data:`DEFAULT_DIR` of the project at ``root``, with the ``.gitignore`` that keeps it out of git."""
    from alops import atomic

    top = root / DEFAULT_DIR.parts[0]
    atomic.ignored_folder(top)
    return root / DEFAULT_DIR


def write(result: CheckResult, directory: Path, *, stem: str = "report") -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.json`` into ``directory``, each atomically; return their paths.

    An OSError (disk full, read-only) becomes an AlopsError naming the file.
    """
    from alops import atomic

    md, js = directory / f"{stem}.md", directory / f"{stem}.json"
    with atomic.writing_to(directory):
        directory.mkdir(parents=True, exist_ok=True)
        atomic.write_text(md, markdown(result))
        atomic.write_text(js, json.dumps(as_json(result), indent=2, ensure_ascii=False) + "\n")
    return md, js


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "column": f.column,
        "kind": f.kind,
        "test": f.test,
        "statistic": _finite(f.statistic),
        "pvalue": _finite(f.pvalue),
        "threshold": f.threshold,
        "passed": f.passed,
        "detail": f.detail,
        **_test_values(f),
    }


def _test_values(f: Finding) -> dict[str, float | None]:
    """The numbers each kind of test adds (as they were written before they were typed: all floats)."""
    out: dict[str, float | None] = {}
    if f.dof is not None:
        out["dof"] = float(f.dof)
    if f.exact is not None:
        out["exact"] = float(f.exact)
    if f.pvalue_raw is not None:
        out["pvalue_raw"] = _finite(f.pvalue_raw)
    if f.share is not None:
        s = f.share
        out.update(dev=float(s.dev), full=float(s.full), expected=s.expected, low=s.low, high=s.high)
    return out


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return "∞" if math.isinf(value) else f"{value:.4g}"


def _threshold(f: Finding) -> str:
    if f.test == "presence" or f.threshold is None:
        return "in both"
    return f"p ≥ {f.threshold:g}" if f.pvalue is not None else f"≤ {f.threshold:g}"


def _short(f: Finding) -> str:
    if f.pvalue is not None:
        return f"p={f.pvalue:.2g} < {f.threshold:g}"
    if f.test == "psi":
        return f"{f.statistic:.3g} > {f.threshold:g}"
    return ""


def plain(text: str) -> str:
    """``text`` with control characters (newlines, NUL…) replaced: one line, safe in a terminal."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
