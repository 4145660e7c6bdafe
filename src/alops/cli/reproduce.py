"""``alops reproduce``: rerun a run manifest's commit, data and params; compare the metrics."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alops.reproduce import Result


@click.command()
@click.argument("source", metavar="MANIFEST|PIPELINE_URL")
@click.option(
    "--keep", is_flag=True, help="Keep the worktree of the rerun (its path is printed) instead of removing it."
)
@click.option(
    "--workdir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Where the worktree of the rerun goes (a new or empty folder). Default: a temporary folder.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="How far a rerun's metric may be from the manifest's and still count as the same (0: exactly equal).",
)
@click.pass_obj
def reproduce(obj: dict[str, str], source: str, keep: bool, workdir: str | None, tolerance: float) -> None:
    """Rerun a run manifest and check that the metrics come out the same.

    MANIFEST is the alops-manifest.json an `alops run` wrote; PIPELINE_URL
    (https://gitlab.example.com/group/project/-/pipelines/123) reads it from
    the artifacts of that pipeline's run job (ALOPS_GITLAB_TOKEN or
    CI_JOB_TOKEN). The manifest's commit is checked out in a git worktree,
    its --set values applied, its dataset pulled and its stages rerun with
    `dvc repro --force` (nothing from the run-cache); the worktree shares
    this checkout's DVC cache and is removed afterwards unless --keep.

    \b
    Exit codes: 0 reproduced; 2 bad usage or alops.yaml; 4 the manifest is
    unreadable, or its commit is not in this clone; 7 a metric, a parameter
    or the data differ.
    """
    from alops import reproduce as reruns
    from alops.config import load_config
    from alops.errors import NotReproducedError
    from alops.text import safe

    env = dict(os.environ)  # the command line is where the environment comes from: the library is given it
    config = load_config(obj["config"])
    manifest, where = reruns.obtain(source, env)
    commit = str(manifest.get("commit") or "?")
    click.echo(f"Reproducing commit {commit[:12]}{_about(manifest)} from {safe(where)}")
    result = reruns.reproduce(
        config,
        manifest,
        where,
        env,
        keep=keep,
        workdir=workdir,
        tolerance=tolerance,
        warn=lambda line: click.echo(f"Warning: {safe(line)}", err=True),
    )
    click.echo(render(result))
    if not result.reproduced:
        raise NotReproducedError(failure(result))


def _about(manifest: dict[str, object]) -> str:
    """`` (ref main, the feature flow on the dev dataset)``, with what the manifest says."""
    from alops.text import safe

    ref, role, dataset = (manifest.get(k) for k in ("ref", "role", "dataset"))
    parts = [f"ref {safe(str(ref))}"] if ref else []
    flow = f"the {safe(str(role))} flow" if role else ""
    if dataset:
        flow = f"{flow} on the {safe(str(dataset))} dataset" if flow else f"the {safe(str(dataset))} dataset"
    parts += [flow] if flow else []
    return f" ({', '.join(parts)})" if parts else ""


def render(result: Result) -> str:
    """The metrics side by side, then what else differs, for people."""
    from alops.text import safe

    table = [("metric", "manifest", "rerun", "same?")]
    for row in result.metrics:
        table.append((f"{row.file} {row.metric}", _num(row.manifest), _num(row.rerun), "yes" if row.same else "NO"))
    widths = [max(len(safe(r[i])) for r in table) for i in range(3)]
    lines = [
        "  ".join(safe(cell).ljust(widths[i]) if i < 3 else safe(cell) for i, cell in enumerate(r)).rstrip()
        for r in table
    ]
    if not result.metrics:
        lines.append("(no metrics on either side)")
    for path in result.params:
        lines.append(f"params   {safe(path)}: not as the manifest has it")
    for check in result.data:
        lines.append(
            f"data     {safe(check.path)}: {check.what}: manifest {_hash(check.manifest)}, rerun {_hash(check.rerun)}"
        )
    if result.workdir is not None:
        lines.append(f"kept     {safe(str(result.workdir))}")
    if result.reproduced:
        lines.append("Reproduced: the rerun's metrics equal the manifest's.")
    return "\n".join(lines)


def failure(result: Result) -> str:
    """The NotReproducedError message: what differs."""
    from alops.text import safe

    parts = [
        f"{safe(r.file)} {safe(r.metric)}: manifest {_num(r.manifest)}, rerun {_num(r.rerun)}"
        for r in result.metrics
        if not r.same
    ]
    parts += [f"{safe(p)} differs" for p in result.params]
    parts += [
        f"{safe(d.path)}: {'a different data version' if d.data else 'another version'}" for d in result.data if d.input
    ]
    return (
        "not reproduced: "
        + "; ".join(parts)
        + ": the stages depend on something the manifest does not pin (a seed, thread counts, the machine); "
        "fix that, or allow a difference with --tolerance"
    )


def _num(value: float | None) -> str:
    return "-" if value is None else repr(value)


def _hash(value: str | None) -> str:
    return "-" if value is None else value[:12]
