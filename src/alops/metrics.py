"""alops.yaml's metrics files (``pipeline.metrics``), read from the workspace or as a git revision has them.

A metrics file is JSON or YAML, as DVC's are; its numbers are named by their
key path (``test.accuracy``). Booleans are not numbers here, as in DVC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from alops.config import Config
from alops.errors import DataError


def files(config: Config, dataset: str, role: str) -> list[str]:
    """The metrics files of a flow: ``pipeline.metrics`` with ``{dataset}`` and ``{role}`` filled in."""
    return [p.replace("{dataset}", dataset).replace("{role}", role) for p in config.pipeline.metrics]


def read(config: Config, dataset: str, role: str) -> dict[str, dict[str, float]]:
    """The numbers of each metrics file of the flow that exists in the workspace, by file."""
    found: dict[str, dict[str, float]] = {}
    for name in files(config, dataset, role):
        path = config.root / name
        if path.is_file():
            found[name] = parse(path.read_text("utf-8"), name, where=str(path))
    return found


def at_revision(
    config: Config, revision: str, dataset: str, role: str, env: Mapping[str, str] | None
) -> dict[str, dict[str, float]]:
    """The numbers of each metrics file of the flow as ``revision`` has it (git-tracked files: ``cache: false``)."""
    from alops import proc

    found: dict[str, dict[str, float]] = {}
    for name in files(config, dataset, role):
        done = proc.run(["git", "cat-file", "blob", f"{revision}:./{name}"], cwd=config.root, env=env, check=False)
        if done.returncode == 0:
            found[name] = parse(done.stdout, name, where=f"{name} at {revision}")
    return found


def parse(text: str, name: str, *, where: str) -> dict[str, float]:
    """The numbers of one metrics file's text, by key path; a DataError naming ``where`` when it is not readable."""
    import yaml

    try:
        values = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise DataError(f"{where} is not a readable metrics file ({exc}): run the evaluate stage again") from None
    return {key: float(value) for key, value in numbers(values, "")}


def numbers(value: Any, prefix: str) -> Iterator[tuple[str, float]]:
    """Each number in ``value`` with its key path (``a.b``), booleans left out."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numbers(item, f"{prefix}{key}.")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix[:-1], value
