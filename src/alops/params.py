"""Pipeline parameters (``params.yaml``) checked against their allowed values."""

from __future__ import annotations

import math
from typing import Any

from alops import yamlfile
from alops.config import Config
from alops.errors import ConfigError
from alops.text import excerpt

_MISSING = object()


def check(config: Config) -> list[str]:
    """Problems with the parameters file: a key it lacks, a value not allowed."""
    spec = config.parameters
    if spec is None:
        return []
    path = config.root / spec.file
    declared = config.where("parameters", "file")  # the line of `parameters:` when the file is the default
    root = config.root.resolve()
    try:
        inside = path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:  # a link out of the repository (the path itself was checked with alops.yaml)
        return [f"{declared}: parameters.file: {excerpt(spec.file)} leads outside the repository ({root})"]
    if not path.exists():
        return [f"{declared}: parameters.file: {spec.file} does not exist (looked in {config.root})"]
    doc = yamlfile.load(path)
    out = []
    for key, allowed in spec.allowed.items():
        value = lookup(doc.data, key)
        where = config.where("parameters", "allowed", key)
        vline = doc.where(tuple(key.split(".")))
        if value is _MISSING:
            out.append(f"{where}: parameters.allowed.{key}: {spec.file} has no key {key}")
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(f"{vline}: {key}: {excerpt(value)} is not a finite number; allowed ({where}): {_list(allowed)}")
        elif not _allowed(value, allowed):
            out.append(f"{vline}: {key}: {excerpt(value)} is not an allowed value; allowed ({where}): {_list(allowed)}")
    return out


def _list(values: tuple[Any, ...]) -> str:
    return ", ".join(excerpt(v) for v in values)


def lookup(data: Any, dotted: str) -> Any:
    """``data['a']['b']`` for ``a.b``, or a sentinel when a part is missing."""
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _allowed(value: Any, allowed: tuple[Any, ...]) -> bool:
    # True == 1 in Python; a boolean parameter must match a boolean value exactly.
    return any(type(value) is type(a) and value == a or _numeric(value, a) for a in allowed)


def _numeric(a: Any, b: Any) -> bool:
    num = (int, float)
    return isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool) and a == b


def require_valid(config: Config) -> None:
    problems = check(config)
    if problems:
        raise ConfigError("parameters are invalid:\n" + "\n".join(f"  {p}" for p in problems))
