"""Fill in the schema's defaults, on a copy, after validation (cfgv's ``apply_defaults``).

Validation never changes the document, so a value's origin stays plain: what
the file says is in :attr:`alops.yamlfile.Document.data`, what alops uses is
the typed :class:`alops.config.Config` built from the copy made here.

How the schema says a default (``alops.schema.json``):

- ``"default": value`` on a property: a key missing from its mapping takes it.
- ``"default": {}`` on a mapping: when it is missing, it is empty, and its own
  keys take their defaults in turn (``flows``, ``runners``, ``datasets.dev.check``).
  A mapping without one stays missing: no ``outliers:`` means no outlier rule.
- ``additionalProperties`` with a schema: every entry of a mapping of named
  entries (``schedules:``) takes the defaults of that schema.
- ``if``/``then``/``else`` for a default that depends on a sibling (the outlier
  threshold on the rule, the fraction on whether ``count`` is set); the ``if``
  sees the mapping with its plain defaults filled, and may only use ``required``
  and ``const``, so no validator is needed here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


def apply_defaults(schema: dict[str, Any], data: Any) -> Any:
    """A deep copy of ``data`` (valid against ``schema``) with every default filled in."""
    return _fill(schema, schema, copy.deepcopy(data))


def defaults_at(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    """What an empty mapping at the key path ``path`` of ``alops.yaml`` means, e.g. ``("flows",)``."""
    node: Any = schema
    for key in path:
        node = next(p["properties"][key] for p in parts(schema, node) if key in p.get("properties", {}))
    result: dict[str, Any] = _fill(schema, node, {})
    return result


def _fill(root: dict[str, Any], node: Any, value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    found = list(parts(root, node))
    for part in found:
        _fill_keys(part, value)
    for part in found:
        if "if" in part:
            branch = part.get("then") if _holds(part["if"], value) else part.get("else")
            if isinstance(branch, dict):
                _fill_keys(branch, value)
    for part in found:
        named = part.get("properties", {})
        for key, sub in named.items():
            if key in value:
                value[key] = _fill(root, sub, value[key])
        extra = part.get("additionalProperties")
        if isinstance(extra, dict):  # a mapping of named entries (`schedules:`): each entry's defaults
            for key in value.keys() - named.keys():
                value[key] = _fill(root, extra, value[key])
    return value


def _fill_keys(part: dict[str, Any], value: dict[str, Any]) -> None:
    for key, sub in part.get("properties", {}).items():
        if key not in value and isinstance(sub, dict) and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])


def parts(root: dict[str, Any], node: Any) -> Iterator[dict[str, Any]]:
    """``node`` of the schema ``root``, what its ``$ref`` points at, and its ``allOf`` members."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        yield from parts(root, root["definitions"][node["$ref"].rsplit("/", 1)[1]])
    else:
        yield node
    for sub in node.get("allOf", ()):
        yield from parts(root, sub)


def _holds(condition: dict[str, Any], value: dict[str, Any]) -> bool:
    unknown = set(condition) - {"required", "properties"}
    if unknown:
        raise ValueError(f"a default's `if` may use only required and const, not {sorted(unknown)}")
    if any(key not in value for key in condition.get("required", ())):
        return False
    for key, sub in condition.get("properties", {}).items():
        if set(sub) != {"const"}:
            raise ValueError(f"a default's `if` may use only required and const, not {sorted(sub)}")
        if key in value and value[key] != sub["const"]:
            return False
    return True
