"""The child pipeline of ``alops matrix``: one job per combination, each a feature run on the dev data.

Parameter values come from alops.yaml and are hostile: each ``--set`` argument
is one word for the shell (:func:`shlex.quote`), its value written as the YAML
scalar ``alops run --set`` reads back as the same value, and the file itself is
written by a YAML emitter, never by pasting text.
"""

from __future__ import annotations

import math
import shlex
from typing import Any

from alops import metrics
from alops.config import Config
from alops.manifest import FILE as MANIFEST
from alops.matrix.space import Combination, Matrix
from alops.text import clip, safe

ROLE = "feature"  # the matrix runs the feature flow: the dev data, no push
MAX_NAME = 255  # GitLab's limit on a job name


def scalar(value: Any) -> str:
    """``value`` as YAML text that ``alops run --set`` parses back to the same value and type."""
    import yaml

    # A string with a line break would be written on several lines: double quotes escape it (`"\n"`).
    style = '"' if isinstance(value, str) and any(not ch.isprintable() for ch in value) else None
    text: str = yaml.safe_dump(value, default_flow_style=True, default_style=style, allow_unicode=False, width=math.inf)
    text = text.removesuffix("\n").removesuffix("\n...").removesuffix("...").rstrip("\n")
    return text


def job_name(number: int, width: int, row: Combination) -> str:
    """``matrix 01: train.model=logreg train.C=0.1`` (terminal-safe, at most 255 characters)."""
    words = " ".join(f"{k}={scalar(v)}" for k, v in row.values.items())
    name = f"matrix {number:0{width}d}" + (f": {words}" if words else "")
    return clip(safe(name), MAX_NAME - 1)


def script(config: Config, row: Combination) -> list[str]:
    dataset = config.flows[ROLE].dataset
    sets = " ".join(f"--set {shlex.quote(f'{k}={scalar(v)}')}" for k, v in row.values.items())
    return [
        f"alops data pull --dataset {shlex.quote(dataset)}",
        f"alops run --no-pull --flow {ROLE}" + (f" {sets}" if sets else ""),
    ]


def pipeline(config: Config, matrix: Matrix, *, image: str | None = None, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """The child pipeline as a mapping: job name → job."""
    dataset = config.flows[ROLE].dataset
    paths = [*metrics.files(config, dataset, ROLE), MANIFEST]
    width = max(2, len(str(len(matrix.rows))))
    jobs: dict[str, Any] = {}
    for number, row in enumerate(matrix.rows, 1):
        job: dict[str, Any] = {}
        if image:
            job["image"] = image
        if tags:
            job["tags"] = list(tags)
        job["script"] = script(config, row)
        job["artifacts"] = {"when": "always", "paths": list(paths)}
        jobs[job_name(number, width, row)] = job
    return jobs


def render(matrix: Matrix, jobs: dict[str, Any]) -> str:
    """The child pipeline's YAML, with a header comment saying what it is."""
    import yaml

    head = (
        f"# Written by `alops matrix`: {matrix.summary} of alops.yaml's parameters.\n"
        "# Each job runs the feature flow on the dev data with one combination (alops run --set).\n"
    )
    if not jobs:  # GitLab refuses a pipeline without jobs
        raise ValueError("no combination to run")
    return head + yaml.safe_dump(jobs, sort_keys=False, allow_unicode=False, width=1_000_000)
