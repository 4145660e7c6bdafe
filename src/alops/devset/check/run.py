"""`alops devset check`: does the dev set still represent the full data?

One streaming pass over the full data (on several threads), the dev set
loaded whole; outlier bounds come from the builder's own spread sample of the
full data, so both commands call the same rows outliers. Each compared column gets a goodness-of-fit test of the dev set
against the full data (KS for numbers, χ² for categories and the label) and a
PSI; the share of outliers and of corrupt rows is compared with the share the
builder aims for. The p-values are Holm-adjusted over all columns, so a dev
set that is a fair sample of the full data fails by chance with at most the
configured probability, however many columns there are.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.config import Config
from alops.devset.check import stats
from alops.devset.check.columns import Plan, Rows, not_compared, skipped_reason, typed
from alops.devset.check.compare import Finding, compare, presence, shares
from alops.devset.check.counts import Tally
from alops.devset.check.spec import DEFAULT_LABEL, CheckSpec, spec_from
from alops.devset.dataset.read import PATH_COLUMN, Chunk, Layout, builder_numeric, chunks, header, locate, samples
from alops.errors import ConfigError

if TYPE_CHECKING:
    from alops.devset.check.columns import Floats

__all__ = ["CheckResult", "Finding", "check"]


@dataclass(frozen=True)
class CheckResult:
    """What `alops devset check` found."""

    full: str
    dev: str
    full_rows: int
    dev_rows: int
    findings: tuple[Finding, ...]
    skipped: tuple[tuple[str, str], ...]

    @property
    def representative(self) -> bool:
        return all(f.passed for f in self.findings)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.passed)


def check(
    config: Config, *, full: str | None = None, dev: str | None = None, threads: int | None = None
) -> CheckResult:
    """Compare the dev set with the full data (paths relative to the project; default from alops.yaml).

    ``threads`` read the full data (default: the CPUs available); the result
    does not depend on their number.
    """
    spec = spec_from(config)
    root = config.root
    dev_path = dev or spec.output
    full_layout = locate(root, full or spec.source, fmt=spec.format, manifest=spec.manifest, exclude=root / dev_path)
    dev_layout = locate(root, dev_path, fmt=spec.format, manifest=spec.manifest)
    full_columns, dev_columns = _columns(full_layout, spec), _columns(dev_layout, spec)
    label = _label(spec, full_layout, dev_layout)
    dev_chunks = list(chunks(dev_layout, _same))
    in_full = set(full_columns)
    numeric = _numeric(root, spec, label, full_layout, dev_layout)
    plan = _plan(spec, label, dev_chunks, [c for c in dev_columns if c in in_full], numeric)
    dev_rows = [typed(c, plan) for c in dev_chunks]
    plan = _without_identifiers(plan, dev_rows)
    edges = {name: stats.edges_from(_values(dev_rows, name)) for name in plan.numeric}
    bounds = _bounds(spec, plan, full_layout) if plan.outliers else {}
    dev_tally, full_tally = Tally(plan, edges, bounds), Tally(plan, edges, bounds)
    for part in dev_rows:
        dev_tally.add(part)
    for counted in chunks(full_layout, functools.partial(_count, plan, edges, bounds), threads=threads or _threads()):
        full_tally.merge(counted)
    for tally, layout in ((full_tally, full_layout), (dev_tally, dev_layout)):  # the full data first: its cause
        if tally.rows == 0:
            raise ConfigError(f"{layout.shown} has no rows: {_rebuild_hint(layout is dev_layout)}")
    findings = [*presence(dev_columns, full_columns), *compare(spec, plan, dev_tally, full_tally)]
    findings += shares(spec, dev_tally, full_tally)
    return CheckResult(
        full_layout.shown,
        dev_layout.shown,
        full_tally.rows,
        dev_tally.rows,
        tuple(findings),
        tuple(sorted(plan.skipped.items())),
    )


def _same(chunk: Chunk) -> Chunk:
    return chunk


def _count(plan: Plan, edges: dict[str, Floats], bounds: dict[str, tuple[float, float]], chunk: Chunk) -> Tally:
    """The counts of one chunk of the full data (runs on a reader thread)."""
    tally = Tally(plan, edges, bounds)
    tally.add(typed(chunk, plan))
    return tally


def _threads() -> int:
    from alops.devset.build.run import default_threads

    return default_threads()


def _rebuild_hint(is_dev: bool) -> str:
    return "run `alops devset build`" if is_dev else "check datasets.dev.build.source in alops.yaml"


def _columns(layout: Layout, spec: CheckSpec) -> list[str]:
    """The columns of every table, in order of first appearance; every table must have a configured label."""
    out: dict[str, None] = {}
    for table in layout.tables:
        names = header(table)
        if spec.label and spec.label not in names:
            raise ConfigError(
                f"{table}: no label column {spec.label!r} (its columns: {', '.join(names[:10])}"
                f"{', …' if len(names) > 10 else ''}): set datasets.dev.build.label in alops.yaml to the label column"
            )
        out.update(dict.fromkeys(names))
    return list(out)


def _label(spec: CheckSpec, *layouts: Layout) -> str | None:
    """The configured label, else the column ``label`` when every table has one (as the builder does)."""
    if spec.label:
        return spec.label
    every = all(DEFAULT_LABEL in header(t) for layout in layouts for t in layout.tables)
    return DEFAULT_LABEL if every else None


def _numeric(root: Path, spec: CheckSpec, label: str | None, full: Layout, dev: Layout) -> dict[Path, tuple[str, ...]]:
    """The numeric columns of every table of both, as the builder typed the full data (one definition).

    A dev table is typed as the full table at the same path inside the dataset.
    """
    text = {label, spec.split, *spec.stratify, *([PATH_COLUMN] if full.files_base is not None else [])} - {None}
    found = builder_numeric(full, {t for t in text if t})
    at = {_inside(root, full, t): names for t, names in found.items()}
    anywhere = tuple(dict.fromkeys(n for names in found.values() for n in names))
    return {**found, **{t: at.get(_inside(root, dev, t), anywhere) for t in dev.tables}}


def _inside(root: Path, layout: Layout, table: Path) -> str:
    folder = root / layout.shown
    return table.relative_to(folder).as_posix() if table != folder and table.is_relative_to(folder) else ""


def _plan(
    spec: CheckSpec, label: str | None, dev: list[Any], shared: list[str], typed_as: dict[Path, tuple[str, ...]]
) -> Plan:
    """How each column is compared: numeric where the builder typed it numeric in every table holding it."""
    rows = sum(c.rows for c in dev)
    holding: dict[str, list[bool]] = {}
    for table, names in typed_as.items():
        chosen = set(names)
        for name in header(table):
            holding.setdefault(name, []).append(name in chosen)
    categorical_always = {spec.split, *spec.stratify} - {None}
    numeric, categorical, skipped = [], [], {}
    for name in shared:
        if name == label:
            continue
        why = not_compared(dev, name)
        if why:
            skipped[name] = why
            continue
        if name not in categorical_always and all(holding.get(name, [False])):
            numeric.append(name)
            continue
        why = skipped_reason(dev, name, rows) if name not in categorical_always else None
        if why:
            skipped[name] = why
        else:
            categorical.append(name)
    outliers: tuple[str, ...] = ()
    if spec.outlier_rule:
        outliers = spec.outlier_columns or tuple(numeric)
        for name in outliers:
            if name not in numeric:
                raise ConfigError(
                    f"datasets.dev.build.outliers.columns: {name!r} is not a numeric column of both "
                    f"{spec.source} and {spec.output}: list numeric columns only"
                )
    parsed = tuple(dict.fromkeys(n for names in typed_as.values() for n in names))
    return Plan(label, tuple(numeric), tuple(categorical), outliers, skipped, parsed=parsed, parsed_in=typed_as)


def _without_identifiers(plan: Plan, dev: list[Rows]) -> Plan:
    """Numeric columns whose dev values are distinct whole numbers (row ids) are not compared.

    New rows get new ids, so their distribution moves whenever data is added,
    whether or not the features do. They stay outlier columns if the rule says so.
    """
    import numpy as np

    found = {}
    for name in plan.numeric:
        x = _values(dev, name)
        x = x[np.isfinite(x)]
        if len(x) > 20 and bool(np.all(x == np.round(x))) and len(np.unique(x)) == len(x):
            found[name] = f"an identifier: {len(x)} distinct whole numbers in the dev set"
    numeric = tuple(n for n in plan.numeric if n not in found)
    return dataclasses.replace(plan, numeric=numeric, skipped={**plan.skipped, **found})


def _values(parts: list[Rows], name: str) -> Floats:
    import numpy as np

    return np.concatenate([p.numbers[name][~p.corrupt] for p in parts] or [np.zeros(0)])


def _bounds(spec: CheckSpec, plan: Plan, full: Layout) -> dict[str, tuple[float, float]]:
    """Outlier bounds of each column, by the builder's own rule from the builder's own sample of the full data."""
    import numpy as np

    from alops.devset.build import outliers
    from alops.devset.build.spec import Outliers

    # Rows corrupt in any numeric column are left out, as the builder leaves them out of its sample.
    only = Plan(None, (), (), plan.outliers, {}, parsed=plan.parsed, parsed_in=plan.parsed_in)
    values: dict[str, list[Any]] = {name: [] for name in plan.outliers}
    for chunk in samples(full, plan.outliers):
        part = typed(chunk, only)
        for name in plan.outliers:
            values[name].append(part.numbers[name][~part.corrupt])
    rule = Outliers(spec.outlier_rule or "iqr", spec.outlier_threshold, plan.outliers, spec.outlier_max_share)
    found = outliers.bounds(rule, values)
    return {name: (b.low, b.high) for name, b in found.items() if np.isfinite(b.low) or np.isfinite(b.high)}
