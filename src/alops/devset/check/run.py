"""`alops devset check`: does the dev set still represent the full data?

One streaming pass over the full data (on several threads), the dev set
loaded whole, both read by the dataset layer (:mod:`alops.devset.dataset`) the
builder reads through; outlier bounds come from the builder's own spread sample
of the full data, so both commands call the same rows outliers. Each compared
column gets a goodness-of-fit test of the dev set against the full data (KS for
numbers, χ² for categories and the label) and a PSI; the share of outliers and
of corrupt rows is compared with the share the builder aims for. The p-values
are Holm-adjusted over all columns, so a dev set that is a fair sample of the
full data fails by chance with at most the configured probability, however
many columns there are.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from alops.config import Config
from alops.devset.check import roles as column_roles
from alops.devset.check import stats
from alops.devset.check.compare import compare, presence, shares
from alops.devset.check.counts import Tally
from alops.devset.check.result import CheckResult, Finding
from alops.devset.check.spec import DEFAULT_LABEL, CheckSpec, spec_from
from alops.devset.dataset import columns, scan
from alops.devset.dataset.blocks import Block, Wanted, blocks
from alops.devset.dataset.locate import Dataset, locate
from alops.devset.dataset.manifest import PATH_COLUMN
from alops.errors import ConfigError

if TYPE_CHECKING:
    from alops.devset.check.roles import ColumnRoles, Floats

__all__ = ["CheckResult", "Finding", "check"]


def check(
    config: Config, *, full: str | None = None, dev: str | None = None, threads: int | None = None
) -> CheckResult:
    """Compare the dev set with the full data (paths relative to the project; default from alops.yaml).

    ``threads`` read the full data (default: the CPUs available); the result
    does not depend on their number.
    """
    spec = spec_from(config)
    root = config.root
    dev_path, full_path = dev or spec.output, full or spec.source
    full_data = locate(root, full_path, fmt=spec.format, manifest=spec.manifest, beside=(dev_path, None))
    dev_data = locate(root, dev_path, fmt=spec.format, manifest=spec.manifest)
    full_columns, dev_columns = _columns(config, full_data, spec), _columns(config, dev_data, spec)
    label = _label(spec, full_data, dev_data)
    paths = (PATH_COLUMN,) if full_data.files_base is not None else ()
    text = {label, spec.split, *spec.stratify, *paths} - {None}
    sampled = columns.sample(full_data, {t for t in text if t}, _outlier_values(spec))
    numeric_in = _numeric_in(full_data, dev_data, sampled)
    in_full = set(full_columns)
    shared = [c for c in dev_columns if c in in_full]
    numbers, texts = column_roles.candidates(spec, label, shared, (*full_data.tables, *dev_data.tables), numeric_in)
    read = Wanted(numbers, tuple(dict.fromkeys((*([label] if label else []), *texts, *paths))), numeric_in)
    dev_blocks = list(blocks(dev_data, read, _same))
    roles = column_roles.roles(spec, label, dev_data, dev_blocks, numbers, texts)
    edges = {name: stats.edges_from(column_roles.values(dev_blocks, name)) for name in roles.numeric}
    bounds = _bounds(spec, roles, sampled) if roles.outliers else {}
    dev_tally, full_tally = Tally(roles, edges, bounds), Tally(roles, edges, bounds)
    for part in dev_blocks:
        dev_tally.add(part)
    wanted = Wanted(tuple(dict.fromkeys((*roles.numeric, *roles.outliers))), (*roles.texts, *paths), numeric_in)
    counting = functools.partial(_count, roles, edges, bounds)
    for counted in blocks(full_data, wanted, counting, threads=threads or scan.default_threads()):
        full_tally.merge(counted)
    for tally, data in ((full_tally, full_data), (dev_tally, dev_data)):  # the full data first: its cause
        if tally.rows == 0:
            raise ConfigError(f"{data.shown} has no rows: {_rebuild_hint(data is dev_data)}")
    findings = [*presence(dev_columns, full_columns), *compare(spec, roles, dev_tally, full_tally)]
    findings += shares(spec, dev_tally, full_tally)
    return CheckResult(
        full_data.shown,
        dev_data.shown,
        full_tally.rows,
        dev_tally.rows,
        tuple(findings),
        tuple(sorted(roles.skipped.items())),
    )


def _same(block: Block) -> Block:
    return block


def _count(roles: ColumnRoles, edges: dict[str, Floats], bounds: dict[str, tuple[float, float]], block: Block) -> Tally:
    """The counts of one block of the full data (runs on a reader thread)."""
    tally = Tally(roles, edges, bounds)
    tally.add(block)
    return tally


def _rebuild_hint(is_dev: bool) -> str:
    return "run `alops devset build`" if is_dev else "check datasets.dev.build.source in alops.yaml"


def _columns(config: Config, data: Dataset, spec: CheckSpec) -> list[str]:
    """The columns of every table, in order of first appearance; every table must have a configured label."""
    from alops.devset.build.columns import require
    from alops.devset.build.spec import build_spec

    out: dict[str, None] = {}
    for table in data.tables:
        if spec.label:  # the builder's message for the same problem
            require(build_spec(config), "label", spec.label, table)
        out.update(dict.fromkeys(table.names))
    return list(out)


def _label(spec: CheckSpec, *datasets: Dataset) -> str | None:
    """The configured label, else the column ``label`` when every table has one (as the builder does)."""
    if spec.label:
        return spec.label
    every = all(DEFAULT_LABEL in t.names for data in datasets for t in data.tables)
    return DEFAULT_LABEL if every else None


def _outlier_values(spec: CheckSpec) -> functools.partial[bool]:
    return functools.partial(_is_outlier_column, spec.outlier_rule is not None, spec.outlier_columns)


def _is_outlier_column(rule: bool, listed: tuple[str, ...] | None, name: str) -> bool:
    return rule and (listed is None or name in listed)


def _numeric_in(full: Dataset, dev: Dataset, sampled: dict[str, columns.Sampled]) -> dict[Path, tuple[str, ...]]:
    """The numeric columns of every table of both, as the builder types the full data (one definition).

    A dev table is typed as the full table at the same path inside the dataset.
    """
    found = {t.path: sampled[t.rel].numeric for t in full.tables}
    by_rel = {t.rel: sampled[t.rel].numeric for t in full.tables}
    anywhere = tuple(dict.fromkeys(n for names in found.values() for n in names))
    return {**found, **{t.path: by_rel.get(t.rel, anywhere) for t in dev.tables}}


def _bounds(spec: CheckSpec, roles: ColumnRoles, sampled: dict[str, columns.Sampled]) -> dict[str, tuple[float, float]]:
    """Outlier bounds of each column, by the builder's own rule from the builder's own sample of the full data."""
    import numpy as np

    from alops.devset.build import outliers
    from alops.devset.build.spec import Outliers

    # Rows corrupt in any numeric column are NaN in the sample, as the builder leaves them out.
    values = {name: [s.numbers[name] for s in sampled.values() if name in s.numbers] for name in roles.outliers}
    rule = Outliers(spec.outlier_rule or "iqr", spec.outlier_threshold, roles.outliers, spec.outlier_max_share)
    found = outliers.bounds(rule, values)
    return {name: (b.low, b.high) for name, b in found.items() if np.isfinite(b.low) or np.isfinite(b.high)}
