"""``alops devset build``: the dev dataset from the full one, per ``datasets.dev.build`` in alops.yaml."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from alops import env as variables

if TYPE_CHECKING:
    from alops.devset.build.report import BuildReport


@click.command()
@click.option(
    "--fraction",
    type=float,
    envvar=variables.DEVSET_FRACTION,
    show_envvar=True,
    help="Share of the full data's rows to keep, in (0, 1] (default: alops.yaml, else 0.1).",
)
@click.option(
    "--count",
    type=int,
    envvar=variables.DEVSET_COUNT,
    show_envvar=True,
    help="Number of rows to keep instead of a fraction.",
)
@click.option(
    "--seed",
    type=int,
    envvar=variables.DEVSET_SEED,
    show_envvar=True,
    help="Seed of the sample (default: alops.yaml, else 0).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    envvar=variables.DEVSET_THREADS,
    show_envvar=True,
    help="Threads parsing the data (default: the CPUs available). The dev set is the same for any number.",
)
@click.option("--no-track", is_flag=True, help="Do not `dvc add` the dev set.")
@click.pass_context
def build(
    ctx: click.Context,
    fraction: float | None,
    count: int | None,
    seed: int | None,
    threads: int | None,
    no_track: bool,
) -> None:
    """Build the dev dataset from the full one, as alops.yaml's datasets.dev.build says.

    A stratified sample (by label, split and the stratify columns; every
    stratum keeps at least one row) plus outliers and corrupt rows up to their
    configured share, the same bytes on every run. Writes the dev set, a report
    beside it (<output>.report.md and .json, for git) and tracks the dev set
    with DVC. It replaces only a dev set it built (the report beside it says
    so); an interrupted build is undone by the next one.

    \b
    Exit codes: 0 built; 2 bad alops.yaml, a file that is not a table, or an
    output it must not replace; 3 DVC failed, or the disk is full or read-only;
    4 data missing or unreadable (`alops data pull`); 130 interrupted.
    """
    from alops.config import load_config
    from alops.devset.build.run import build as build_devset
    from alops.devset.build.spec import build_spec

    if fraction is not None and count is not None:
        # A size on the command line wins over the other size from the environment.
        sources = {name: ctx.get_parameter_source(name) for name in ("fraction", "count")}
        if sources["count"] == click.core.ParameterSource.COMMANDLINE != sources["fraction"]:
            fraction = None
        elif sources["fraction"] == click.core.ParameterSource.COMMANDLINE != sources["count"]:
            count = None
    config = load_config(ctx.obj["config"])
    spec = build_spec(config, fraction=fraction, count=count, seed=seed)
    click.echo(summary(build_devset(spec, threads=threads, track=not no_track, env=dict(os.environ))))


def summary(report: BuildReport) -> str:
    """A few lines for a terminal or a CI log."""
    r = report
    share = r.rows_dev / r.rows_full if r.rows_full else 0.0
    lines = [
        f"Built {r.output} from {r.source}: {r.rows_dev:,} of {r.rows_full:,} rows ({share:.1%}), "
        f"{len(r.strata)} strat{'um' if len(r.strata) == 1 else 'a'}"
        + (f", {r.outliers.dev:,} of {r.outliers.full:,} outliers" if r.outliers else "")
        + f", {r.corrupt.dev:,} of {r.corrupt.full:,} corrupt rows",
        f"Read {r.bytes_read / 1e6:,.1f} MB in {r.seconds:.1f} s ({r.mb_per_s:,.0f} MB/s) on {r.threads} "
        f"thread{'s' if r.threads != 1 else ''}",
        f"Report: {', '.join(r.reports)}",
    ]
    if r.files_copied is not None:
        lines.insert(1, f"Files placed: {r.files_copied:,}")
    if r.short:
        lines.append(f"Warning: fewer rows than their quota in {', '.join(r.short)}")
    lines.append(
        f"Tracked by DVC: {r.tracked} (commit it with the report)" if r.tracked else "Not tracked by DVC (--no-track)"
    )
    return "\n".join(lines)
