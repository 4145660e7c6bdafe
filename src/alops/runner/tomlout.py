"""Write the TOML subset of runner configurations: tables, arrays of tables, strings, integers,
booleans and arrays of strings. Keys and strings are escaped, so no value can start a new key."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    return "\\" + char if char in '"\\' else f"\\u{ord(char):04x}"


def key(name: str) -> str:
    """``name`` as a TOML key: bare when it may be, else a basic string."""
    return name if _BARE_KEY.fullmatch(name) else value(name)


def value(item: object) -> str:
    """A TOML value; strings are basic strings with ``"``, ``\\`` and every control character
    escaped (https://toml.io/en/v1.0.0#string), so a value never ends its line or its string."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str):
        return '"' + _ESCAPE.sub(_escaped, item) + '"'
    if isinstance(item, Sequence):
        return "[" + ", ".join(value(v) for v in item) + "]"
    raise TypeError(f"no TOML form for {type(item).__name__}")


def dumps(doc: Mapping[str, Any]) -> str:
    """``doc`` as TOML text, sub-tables indented two spaces per level like GitLab's examples."""
    lines: list[str] = []
    _table(doc, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table_array(item: object) -> bool:
    return isinstance(item, list) and bool(item) and all(isinstance(v, Mapping) for v in item)


def _table(doc: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    indent = "  " * len(path)
    for name, item in doc.items():
        if not isinstance(item, Mapping) and not _is_table_array(item):
            lines.append(f"{indent}{key(name)} = {value(item)}")
    for name, item in doc.items():
        sub = [*path, name]
        header = ".".join(key(p) for p in sub)
        inner = "  " * (len(sub) - 1)
        if isinstance(item, Mapping):
            lines.extend(["", f"{inner}[{header}]"])
            _table(item, sub, lines)
        elif _is_table_array(item):
            for entry in item:
                lines.extend(["", f"{inner}[[{header}]]"])
                _table(entry, sub, lines)
