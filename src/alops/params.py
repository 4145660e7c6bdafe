"""Pipeline parameters (``params.yaml``) checked against their allowed values."""

from __future__ import annotations

from typing import Any

from alops import yamlfile
from alops.config import Config
from alops.errors import ConfigError

_MISSING = object()


def check(config: Config) -> list[str]:
    """Problems with the parameters file: a key it lacks, a value not allowed."""
    spec = config.parameters
    if spec is None:
        return []
    path = config.root / spec.file
    declared = (
        config.where("parameters", "file")
        if "file" in (config.document.data["parameters"])
        else config.where("parameters")
    )
    if not path.exists():
        return [f"{declared}: parameters.file: {spec.file} does not exist (looked in {config.root})"]
    doc = yamlfile.load(path)
    out = []
    for key, allowed in spec.allowed.items():
        value = lookup(doc.data, key)
        where = config.where("parameters", "allowed", key)
        if value is _MISSING:
            out.append(f"{where}: parameters.allowed.{key}: {spec.file} has no key {key}")
        elif not _allowed(value, allowed):
            vline = doc.where(tuple(key.split(".")))
            out.append(
                f"{vline}: {key}: {value!r} is not an allowed value; allowed ({where}): {', '.join(map(repr, allowed))}"
            )
    return out


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
