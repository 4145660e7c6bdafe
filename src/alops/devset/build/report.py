"""The build report: per-stratum counts (full data vs dev set), outliers, corrupt rows, speed.

Written beside the dev set as ``<output>.report.json`` and ``<output>.report.md``
and meant to be committed to git (the dev set itself is in DVC), so a merge
request that rebuilds the dev set shows what changed in its diff. The files
hold only what follows from the data and the settings: rebuilding the same data
with the same seed leaves them byte for byte as they were. Timings and thread
counts (``seconds``, ``threads``) vary from run to run and go to the terminal only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: What identifies a report as alops's (see :mod:`alops.devset.build.output`: alops only replaces an output it built).
BUILT_BY = "alops devset build"
#: Fields of BuildReport that change from run to run: never written to the files.
RUN_ONLY = ("seconds", "threads")
#: Strata listed in the Markdown report; the JSON has all of them.
MAX_MD_STRATA = 100
MAX_MD_CORRUPT = 20


@dataclass(frozen=True)
class StratumCount:
    values: dict[str, str]  # stratum column → value ("" is empty: e.g. unlabelled)
    full: int
    quota: int
    dev: int


@dataclass(frozen=True)
class CorruptRow:
    table: str
    line: int  # line of a CSV file (the header is line 1), or row of a Parquet table (from 1)
    reason: str


@dataclass(frozen=True)
class ColumnOutlierReport:
    """One column's outlier bounds, its outliers in the full data and the dev set, and the farthest of each.

    JSON has no infinity: a bound or value of ±inf is written as text ("inf").
    """

    low: float | str | None
    high: float | str | None
    full: int
    dev: int
    most_extreme_full: float | str | None
    most_extreme_dev: float | str | None


@dataclass(frozen=True)
class OutlierReport:
    """The outlier rule and what it found."""

    rule: str
    threshold: float
    columns: dict[str, ColumnOutlierReport]
    full: int
    dev: int
    most_extreme_first: int  # outliers taken for being the farthest outside the bounds
    max_share: float


@dataclass(frozen=True)
class CorruptReport:
    full: int
    dev: int
    max_share: float


@dataclass(frozen=True)
class BuildReport:
    """What ``alops devset build`` did; :func:`write` puts it beside the dev set."""

    source: str
    output: str
    kind: str  # "table", "tables" or "files"
    seed: int
    fraction: float | None
    count: int | None
    rows_full: int
    rows_dev: int
    target: int
    stratified_by: list[str]
    strata: list[StratumCount]
    outliers: OutlierReport | None  # None: no outlier rule
    corrupt: CorruptReport
    corrupt_rows: list[CorruptRow]
    files_copied: int | None
    short: list[str]
    seconds: float  # terminal only (see the module's docstring)
    bytes_read: int
    threads: int  # terminal only
    tracked: str | None = None  # the .dvc file, when tracked
    reports: list[str] = field(default_factory=list)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows_full / self.seconds if self.seconds > 0 else 0.0


def paths(output: Path) -> tuple[Path, Path]:
    """Where the JSON and Markdown reports of the dev set at ``output`` go."""
    return output.with_name(output.name + ".report.json"), output.with_name(output.name + ".report.md")


def to_json(report: BuildReport) -> str:
    data = {"built_by": BUILT_BY, **asdict(report)}
    for key in RUN_ONLY:
        del data[key]
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def to_markdown(report: BuildReport) -> str:
    r = report
    size = f"fraction {r.fraction:g}" if r.count is None and r.fraction is not None else f"count {r.count}"
    share = r.rows_dev / r.rows_full if r.rows_full else 0.0
    lines = [
        f"# Dev dataset `{r.output}`",
        "",
        f"Built by `alops devset build` from `{r.source}` ({size}, seed {r.seed}): "
        f"**{r.rows_dev:,} of {r.rows_full:,} rows** ({share:.1%}).",
        "",
    ]
    if r.strata:
        by = r.stratified_by or ["(no stratum column)"]
        lines += [
            f"Regular rows per stratum ({', '.join(by)}): every stratum of the full data has at least one row, "
            "the rest in proportion.",
            "",
            "| " + " | ".join(by) + " | full | dev | dev share |",
            "|" + "---|" * len(by) + "---:|---:|---:|",
        ]
        for s in r.strata[:MAX_MD_STRATA]:
            cells = [_cell(s.values.get(c, "")) for c in by]
            pct = f"{s.dev / s.full:.1%}" if s.full else "–"
            lines.append("| " + " | ".join(cells) + f" | {s.full:,} | {s.dev:,} | {pct} |")
        if len(r.strata) > MAX_MD_STRATA:
            lines.append(f"\n… and {len(r.strata) - MAX_MD_STRATA} more strata in the JSON report.")
        lines.append("")
    if r.short:
        lines += [f"**Short**: {', '.join(r.short)} got fewer rows than their quota.", ""]
    if r.outliers is not None:
        o = r.outliers
        lines += [
            f"**Outliers** ({o.rule}, threshold {o.threshold:g}, over {len(o.columns)} columns): "
            f"{o.full:,} rows of the full data, {o.dev:,} in the dev set "
            f"(their share of the full data, at most {o.max_share:.1%} of the dev set; "
            f"the {o.most_extreme_first:,} farthest outside the bounds first, the rest spread over all "
            "outliers).",
            "",
        ]
        if o.columns:
            lines += [
                "| column | low | high | full | dev | most extreme (full) | most extreme (dev) |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            for name, col in list(o.columns.items())[:MAX_MD_STRATA]:
                cells = [_num(col.low), _num(col.high), f"{col.full:,}", f"{col.dev:,}"]
                cells += [_num(col.most_extreme_full), _num(col.most_extreme_dev)]
                lines.append(f"| {_cell(name)} | " + " | ".join(cells) + " |")
            lines.append("")
    c = r.corrupt
    lines.append(
        f"**Corrupt rows**: {c.full:,} in the full data, {c.dev:,} in the dev set, copied as they are "
        f"(their share of the full data, at most {c.max_share:.1%} of the dev set)."
    )
    if r.corrupt_rows:
        lines.append("")
        for row in r.corrupt_rows[:MAX_MD_CORRUPT]:
            lines.append(f"- `{_cell(row.table)}` {'line' if row.line else 'row'} {row.line}: {_cell(row.reason)}")
        if len(r.corrupt_rows) > MAX_MD_CORRUPT:
            lines.append(f"- … and {len(r.corrupt_rows) - MAX_MD_CORRUPT} more in the JSON report")
    if r.files_copied is not None:
        lines += ["", f"Files placed in the dev set (hard links where possible): {r.files_copied:,}."]
    lines += ["", f"Read {r.bytes_read / 1e6:,.1f} MB of full data.", ""]
    return "\n".join(lines)


def _num(value: float | str | None) -> str:
    if value is None:
        return "–"
    return f"{value:.6g}" if isinstance(value, float | int) else str(value)


def _cell(text: str) -> str:
    """A value for a Markdown line: escaped (no newline or control character survives), no table breaks."""
    from alops.text import safe

    return safe(text or "(empty)").replace("|", "\\|").replace("`", "'")


def write(report: BuildReport, output: Path) -> list[Path]:
    """Write both reports beside ``output`` (in the build's staging folder: see :mod:`alops.atomic`)."""
    written = []
    for path, text in zip(paths(output), (to_json(report), to_markdown(report)), strict=True):
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
