"""``alops devset build``: the dev dataset from the full one, in one streaming pass.

1. Locate the source (:mod:`alops.devset.dataset.locate`) and check the configured
   columns exist (:mod:`alops.devset.build.columns`).
2. Read a small, evenly spread sample to type the CSV columns (:mod:`alops.devset.dataset.columns`)
   and fix the outlier bounds (:mod:`alops.devset.build.settings`), so each row is classified as it is read.
3. Stream every table: threads parse fixed byte blocks (:mod:`alops.devset.dataset.scan`,
   :mod:`alops.devset.dataset.csvblock`); each keeps only the rows that can still end up in the
   dev set (:mod:`alops.devset.build.sampler`), whose lines wait in a spill file.
4. Choose the dev set from the kept rows (:mod:`alops.devset.build.select`), write it and its
   report (:mod:`alops.devset.build.write`, :mod:`alops.devset.build.report`) into a staging folder git ignores,
   and swap them in with its ``.dvc`` file (:mod:`alops.atomic`), which ``dvc add``
   writes once the new data is in place.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from alops import atomic
from alops.devset.build import columns as build_columns
from alops.devset.build import output as output_guard
from alops.devset.build import report, sampler, select, write
from alops.devset.build.report import (
    BuildReport,
    ColumnOutlierReport,
    CorruptReport,
    CorruptRow,
    OutlierReport,
    StratumCount,
)
from alops.devset.build.settings import settings as pass_settings
from alops.devset.build.spec import BuildSpec
from alops.devset.dataset import columns, csvblock, datafiles, manifest, parquet, scan
from alops.devset.dataset.locate import Dataset, Table, locate


def build(
    spec: BuildSpec, *, threads: int | None = None, track: bool = True, env: Mapping[str, str] | None = None
) -> BuildReport:
    """Build the dev set of ``spec``, write it and its report, and (with ``track``) ``dvc add`` it.

    ``env`` is the environment ``dvc add`` runs in: the caller's, required with ``track``.

    Raises ConfigError for a missing source or column, or an output alops must not
    replace (:mod:`alops.devset.build.output`); nothing is written then. The new dev set, its
    ``.dvc`` file and its reports are written beside the old ones and swapped in
    together (:class:`.atomic.Stage`): a failure, an interrupt or a kill leaves the
    previous dev set as it was, or (a kill in the swap itself) the next build restores it.
    """
    if track and env is None:
        raise TypeError("build(track=True) needs the environment dvc add runs in: pass env=")
    started = time.monotonic()
    threads = threads or scan.default_threads()
    output = output_guard.place(spec)
    rel = os.path.relpath(output, spec.root.resolve())
    elsewhere = " (or point datasets.dev.build.output elsewhere)"
    with atomic.writing_to(output, elsewhere, shown=rel):
        stage = atomic.Stage(output)  # first undoes what a killed build left
    output_guard.check_replaceable(spec, output)
    src = locate(
        spec.root,
        spec.source,
        fmt=spec.format,
        manifest=spec.manifest,
        at=spec.at("source"),
        manifest_at=spec.at("manifest"),
        beside=(spec.output, spec.at("output")),
    )
    output_guard.check_kind(spec, src)
    strata = build_columns.strata_columns(spec, src)
    text = {*strata, *([manifest.PATH_COLUMN] if src.files_base is not None else [])}
    rule = spec.outliers
    samples = columns.sample(
        src, text, lambda name: rule is not None and (rule.columns is None or name in rule.columns)
    )
    numeric = {t.rel: samples[t.rel].numeric for t in src.tables}
    for t in src.tables:
        build_columns.check_numeric(spec, t, numeric[t.rel])
    settings = pass_settings(spec, src, strata, samples)
    try:
        with atomic.writing_to(output, elsewhere, shown=rel):
            new = stage.new(output.name)
            # Kept lines wait in an anonymous file in the staging folder (gone when closed, even after a crash).
            with tempfile.TemporaryFile(dir=stage.dir) as spill:
                merger = select.Merger(settings, spill)
                for i, table in enumerate(src.tables):
                    for kept in _stream(settings, merger.running, i, table, numeric[table.rel], strata, threads):
                        merger.add(kept)
                chosen = merger.select()
                spill.flush()  # the rows are read back by position, below Python's buffer
                copied = write.dev_set(src, chosen, new, spec.manifest, spill)
            seconds = time.monotonic() - started  # the build itself; `dvc add` hashes the output again
            tracked = rel + ".dvc" if track else None
            result = _report(spec, src, settings, merger, chosen, strata, copied, seconds, threads, tracked)
            report.write(result, new)
            swapped = [output.name, *(p.name for p in report.paths(output))]
            tracking = [output.name + ".dvc", ".gitignore"] if track else []
            stage.commit(swapped, tracking, between=(lambda: _track(rel, spec.root, env or {})) if track else None)
    finally:
        stage.discard()
    return result


def _track(rel: str, root: Path, env: Mapping[str, str]) -> None:
    from alops import dvc

    dvc.add([rel], cwd=root, env=env)


def _columns(table: Table, numeric: tuple[str, ...], strata: tuple[str, ...], listed: bool) -> csvblock.Columns:
    assert table.csv is not None
    texts = (manifest.PATH_COLUMN,) if listed else ()
    return csvblock.Columns(table.names, table.csv.delimiter, numeric, strata, texts)


def _stream(
    settings: sampler.PassSettings,
    running: sampler.Running,
    i: int,
    table: Table,
    numeric: tuple[str, ...],
    strata: tuple[str, ...],
    threads: int,
) -> Iterator[sampler.Kept]:
    if table.kind == "parquet":
        first = 0
        for batch in parquet.batches(table.handle, table.path):
            yield sampler.parquet_batch(settings, running, i, table.rel, batch, first, numeric)
            first += batch.num_rows
        return
    assert table.csv is not None
    layout = _columns(table, numeric, strata, settings.files_base is not None)
    csv_table = table.csv

    def work(index: int, data: memoryview | bytes) -> sampler.Kept:
        return sampler.csv_block(settings, running, i, csv_table, layout, index, data)

    yield from scan.scan(csv_table, work, threads=threads)


def _report(
    spec: BuildSpec,
    src: Dataset,
    settings: sampler.PassSettings,
    merger: select.Merger,
    chosen: select.Selection,
    strata: tuple[str, ...],
    copied: int | None,
    seconds: float,
    threads: int,
    tracked: str | None,
) -> BuildReport:
    by = (["table"] if src.kind == "tables" else []) + list(strata)
    counts = []
    for s in chosen.strata:
        values = dict(zip(strata, s.values[1:], strict=True))
        if src.kind == "tables":
            values = {"table": s.values[0], **values}
        counts.append(StratumCount(values, s.full, s.quota, s.dev))
    bad = []
    for kept, mask in zip(chosen.blocks, chosen.chosen, strict=True):
        table = src.tables[kept.table]
        for j in (mask & (kept.kind == sampler.CORRUPT)).nonzero()[0].tolist():
            where = int(kept.where[j])
            # A Parquet row counts from 1; a CSV line too, the header being line 1.
            before = 0 if table.kind == "parquet" else merger.lines_before[(kept.table, kept.block)] + 1
            bad.append(CorruptRow(table.rel or table.path.name, before + where + 1, kept.why.get(j, "")))
    rule = spec.outliers
    found = None
    if rule is not None:
        per_column = {
            name: ColumnOutlierReport(
                low=_number(b.low),
                high=_number(b.high),
                full=chosen.columns[name].full,
                dev=chosen.columns[name].dev,
                most_extreme_full=_number(chosen.columns[name].full_farthest),
                most_extreme_dev=_number(chosen.columns[name].dev_farthest),
            )
            for name, b in sorted(settings.bounds.items())
        }
        full, dev = chosen.outliers
        found = OutlierReport(rule.rule, rule.threshold, per_column, full, dev, chosen.most_extreme, rule.max_share)
    out_paths = report.paths(output_guard.place(spec))
    return BuildReport(
        source=spec.source,
        output=spec.output,
        kind=src.kind,
        seed=spec.seed,
        fraction=spec.fraction if spec.count is None else None,
        count=spec.count,
        rows_full=merger.running.total,
        rows_dev=chosen.rows,
        target=chosen.target,
        stratified_by=by,
        strata=counts,
        outliers=found,
        corrupt=CorruptReport(chosen.corrupt[0], chosen.corrupt[1], spec.corrupt_max_share),
        corrupt_rows=bad,
        files_copied=copied,
        short=chosen.short,
        seconds=seconds,
        bytes_read=sum(datafiles.size(t.path) for t in src.tables),
        threads=threads,
        tracked=tracked,
        reports=[os.path.relpath(p, spec.root.resolve()) for p in out_paths],
    )


def _number(value: float | None) -> float | str | None:
    # JSON has no infinity: a bound or value of ±inf is written as text.
    return value if value is None or math.isfinite(value) else str(value)
