"""``alops matrix``: a child pipeline that tests combinations of alops.yaml's parameter values."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from alops.matrix.space import Matrix


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default="alops-matrix.yml",
    show_default=True,
    help="Where to write the child pipeline (for a trigger job's `include: artifact:`).",
)
@click.option("--all", "every", is_flag=True, help="Every combination, however many (else pairwise beyond the cap).")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the pairwise search (same seed, same jobs)."
)
@click.option(
    "--image",
    metavar="IMAGE",
    help="The jobs' image. Default: this job's ($CI_JOB_IMAGE) in CI, else none (the runner's); '' for none.",
)
@click.option(
    "--tags",
    metavar="A,B",
    help="The jobs' runner tags, comma-separated. Default: the feature flow's runner tags "
    "(ALOPS_CPU_TAGS, else alops.yaml's runners); '' for none.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "yaml", "json"]),
    default="text",
    show_default=True,
    help="What to print: the combinations as a table, the child pipeline's YAML, or the combinations as JSON.",
)
@click.pass_obj
def matrix(obj: dict[str, str], output: Path, every: bool, seed: int, image: str | None, tags: str, fmt: str) -> None:
    """Write a child pipeline that runs the feature flow once per combination of parameter values.

    The values are alops.yaml's parameters.allowed, with its constraints: an
    `irrelevant` parameter keeps the parameters file's value, `exclude`d values
    are never combined. While there are at most parameters.max_combinations
    combinations (default 64) every one gets a job (--all: always); beyond
    that, a pairwise set: every two values of any two parameters meet in at
    least one job. Each job pulls the dev data and runs
    `alops run --no-pull --flow feature --set KEY=VALUE ...`, keeping the
    metrics and alops-manifest.json as artifacts.

    \b
    Exit codes: 0 written; 2 bad alops.yaml, parameters file or constraints.
    """
    import json
    import os

    from alops import atomic, flow
    from alops import env as variables
    from alops.config import load_config
    from alops.matrix import child, space

    config = load_config(obj["config"])
    env = dict(os.environ)
    runner = config.flows[child.ROLE].runner
    if tags is None:
        job_tags = flow.runner_tags(env.get(variables.tags(runner)), config.runners[runner])
    else:
        job_tags = tuple(t.strip() for t in tags.split(",") if t.strip())
    job_image = env.get(variables.CI_JOB_IMAGE) if image is None else image
    found = space.combinations(config, every=every, seed=seed)
    jobs = child.pipeline(config, found, image=job_image or None, tags=job_tags)
    text = child.render(found, jobs)
    atomic.write_text(output, text)
    if fmt == "yaml":
        click.echo(text, nl=False)
        return
    if fmt == "json":
        rows = [{"set": r.values, "kept": list(r.kept)} for r in found.rows]
        doc = {"total": found.total, "exact": found.exact, "pairwise": found.pairwise, "jobs": list(jobs), "rows": rows}
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(table(found))
    click.echo(f"{found.summary}: {len(found.rows)} job{'s' if len(found.rows) != 1 else ''} in {output}")


def table(found: Matrix) -> str:
    """The combinations as a text table; a kept value (irrelevant there) in parentheses."""
    from alops.matrix.child import scalar
    from alops.text import safe

    head = ["#", *found.names]
    body = [
        [str(n)]
        + [
            safe(scalar(row.values[k])) if k in row.values else f"({safe(scalar(found.defaults[k]))})"
            for k in found.names
        ]
        for n, row in enumerate(found.rows, 1)
    ]
    widths = [max(len(r[c]) for r in [head, *body]) for c in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [head, *body]
    )
