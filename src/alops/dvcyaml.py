"""The stages of a project's ``dvc.yaml``, read without starting DVC.

``alops config validate`` and ``alops init`` need the stage names DVC would
list (``dvc stage list --all``) and each stage's outputs. Starting DVC costs
about a second and says nothing about lines; reading the file with alops's
safe loader is instant and keeps them. The names follow DVC 3's rules
(``dvc/parsing/__init__.py``): a ``foreach`` list of scalars gives
``name@value``, a list holding mappings or lists ``name@index``, a mapping
``name@key``; a ``matrix`` gives ``name@v1-v2`` (``k<index>`` for a mapping
or list value).

Limits, said where they matter: only the project's top-level ``dvc.yaml`` is
read (stages in ``sub/dvc.yaml`` are named ``sub/dvc.yaml:stage`` and are
accepted unchecked). ``${…}`` is resolved from ``item``/``key``, the
top-level ``vars:`` mappings and ``params.yaml``; a ``foreach``/``matrix`` that
stays unresolved makes its group "open" (any ``name@…`` is accepted) and an
unresolved part of an output path matches anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

from alops import yamlfile
from alops.errors import ConfigError
from alops.yamlfile import Document

FILE = "dvc.yaml"
JOIN = "@"
#: Stands for an interpolation that could not be resolved, inside an output path.
UNRESOLVED = "\x00"
_EXPR = re.compile(r"\$\{\s*([^{}]*?)\s*\}")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Stage:
    """One stage as DVC would list it."""

    name: str  # train@dev, or train
    group: str  # the key under stages:, train
    key: str | None  # the foreach/matrix key, dev; None for a plain stage
    outs: tuple[str, ...]  # every output path: outs, metrics, plots
    metrics: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Pipeline:
    """The stages of ``dvc.yaml``."""

    path: Path
    stages: tuple[Stage, ...]
    open_groups: frozenset[str]
    document: Document

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def has(self, name: str) -> bool:
        """Would ``dvc repro NAME`` find a stage (a group name reproduces all its stages)?"""
        if ":" in name:  # another dvc.yaml's stage: not read here
            return True
        group = name.rsplit(JOIN, 1)[0]
        return name in self.names or any(s.group == name for s in self.stages) or group in self.open_groups

    def stage(self, name: str) -> tuple[Stage, ...]:
        """The stages ``name`` stands for: itself, or every member of a group."""
        return tuple(s for s in self.stages if name in (s.name, s.group))


def load(root: Path) -> Pipeline | None:
    """``root/dvc.yaml``, or None when there is none; ConfigError when it is not valid YAML."""
    path = root / FILE
    if not path.is_file():
        return None
    doc = yamlfile.load(path)
    context = _context(root, doc.data.get("vars"))
    stages: list[Stage] = []
    open_groups = set()
    definitions = doc.data.get("stages")
    for group, spec in (definitions if isinstance(definitions, dict) else {}).items():
        if not isinstance(spec, dict):
            continue
        line = doc.line(("stages", group)) or 0
        members = _members(spec, context)
        if members is None:
            open_groups.add(group)
            continue
        template = spec.get("do") if "foreach" in spec else spec
        for key, local in members:
            scope = {**context, **local}
            body = template if isinstance(template, dict) else {}
            wdir = str(body.get("wdir") or ".")
            metrics = _paths(body.get("metrics"), scope, wdir)
            outs = _paths(body.get("outs"), scope, wdir) + metrics + _paths(body.get("plots"), scope, wdir)
            name = group if key is None else f"{group}{JOIN}{key}"
            stages.append(Stage(name, group, key, outs, metrics, line))
    return Pipeline(path, tuple(stages), frozenset(open_groups), doc)


def _members(spec: dict[str, Any], context: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]] | None:
    if "foreach" in spec:
        data = _resolve_value(spec["foreach"], context)
        if isinstance(data, dict):
            return [(_to_str(k), {"key": _to_str(k), "item": v}) for k, v in data.items()]
        if isinstance(data, list):
            if any(isinstance(v, (dict, list)) for v in data):
                return [(str(i), {"key": str(i), "item": v}) for i, v in enumerate(data)]
            return [(_to_str(v), {"item": v}) for v in data]
        return None
    if "matrix" in spec:
        matrix = spec["matrix"]
        if not isinstance(matrix, dict):
            return None
        axes = {k: _resolve_value(v, context) for k, v in matrix.items()}
        if not all(isinstance(v, list) for v in axes.values()):
            return None
        out: list[tuple[str | None, dict[str, Any]]] = []
        for combo in product(*(list(enumerate(v)) for v in axes.values())):
            item = {k: v for k, (_, v) in zip(axes, combo, strict=True)}
            parts = [
                f"{k}{i}" if isinstance(v, (dict, list)) else _to_str(v) for k, (i, v) in zip(axes, combo, strict=True)
            ]
            key = "-".join(parts)
            out.append((key, {"key": key, "item": item}))
        return out
    return [(None, {})]


def _to_str(value: Any) -> str:
    if isinstance(value, bool):  # as DVC's to_str
        return "true" if value else "false"
    return str(value)


def _context(root: Path, var_list: Any) -> dict[str, Any]:
    context: dict[str, Any] = {}
    params = root / "params.yaml"  # DVC's default vars
    if params.is_file():
        try:
            context.update(yamlfile.load(params).data)
        except ConfigError:  # an unreadable params.yaml is the params check's to report
            pass
    for entry in var_list if isinstance(var_list, list) else []:
        if isinstance(entry, dict):
            context.update(entry)
    return context


def lookup(context: dict[str, Any], expr: str) -> Any:
    """``a.b[0]`` in ``context``; raises KeyError when a part is missing."""
    value: Any = context
    for name, index in _PART.findall(expr):
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise KeyError(expr)
    return value


def _resolve_value(value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _EXPR.fullmatch(value.strip())
        if whole:
            try:
                return lookup(context, whole.group(1))
            except KeyError:
                return None
    return value


def interpolate(text: str, context: dict[str, Any]) -> str:
    """``text`` with each ``${expr}`` replaced; what cannot be resolved becomes :data:`UNRESOLVED`."""

    def one(match: re.Match[str]) -> str:
        try:
            value = lookup(context, match.group(1))
        except KeyError:
            return UNRESOLVED
        return UNRESOLVED if isinstance(value, (dict, list)) else _to_str(value)

    return _EXPR.sub(one, text)


def _paths(entries: Any, context: dict[str, Any], wdir: str) -> tuple[str, ...]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        raw = next(iter(entry), None) if isinstance(entry, dict) else entry
        if isinstance(raw, str):
            path = interpolate(raw, context)
            out.append(normalize(path if wdir in ("", ".") else f"{interpolate(wdir, context)}/{path}"))
    return tuple(out)


def normalize(path: str) -> str:
    """A relative path with ``./``, ``//`` and a trailing ``/`` taken out."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def shown(path: str) -> str:
    """An output path for messages: an unresolved part as ``*``."""
    return path.replace(UNRESOLVED, "*")


def covers(out: str, path: str) -> bool:
    """Does output ``out`` (a file or a directory) hold ``path``?"""
    pattern = ".+".join(re.escape(p) for p in out.split(UNRESOLVED))
    return re.fullmatch(f"{pattern}(/.*)?", normalize(path)) is not None
