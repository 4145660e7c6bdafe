"""Safe YAML loading that remembers where every value came from.

Values are built from PyYAML's node graph by hand so that each one keeps its
line, aliases are counted as they expand (a "billion laughs" document is
refused instead of filling memory), recursive aliases and duplicate keys are
errors, and only plain data comes out (no Python objects).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alops.errors import ConfigError, MissingFileError
from alops.text import clip, excerpt, quote, redact, safe

try:  # libyaml is ~10x faster; fall back to the pure-Python loader
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

MAX_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 64
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """A loaded YAML mapping and the 1-based line of each value, by key path."""

    name: str
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(repr=False)

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def where(self, path: KeyPath) -> str:
        """``file:line`` for messages."""
        line = self.line(path)
        return f"{self.name}:{line}" if line else self.name


def format_path(path: KeyPath) -> str:
    """``datasets.dev.targets[0]``-style text for a key path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        # Keys come from the file: escaped and cut short like any value.
        text = part if part.isprintable() and len(part) <= 60 else quote(clip(part, 40))
        out += f".{text}" if out else text
    return out or "(top level)"


def load(path: str | Path) -> Document:
    """Load a YAML file that must hold one mapping.

    Only a regular file is read: a named pipe, a device or a socket given as a
    configuration file would block or never end, so it is refused before a
    byte is read (the file is opened non-blocking and checked by its handle,
    so nothing can be swapped in between).
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise MissingFileError(f"{p}: file not found", path=p) from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, not a YAML file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    except ValueError:  # a NUL byte in the path
        raise ConfigError(f"{p!r}: not a valid path") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{p}: is a directory, not a YAML file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{p}: is {_kind(info.st_mode)}, not a regular file; give the path of a YAML file")
        if info.st_size > MAX_BYTES:
            raise ConfigError(
                f"{p}: {info.st_size:,} bytes, larger than {MAX_BYTES:,}; a configuration file should be small"
            )
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > MAX_BYTES:  # it grew after the check
        raise ConfigError(f"{p}: larger than {MAX_BYTES:,} bytes; a configuration file should be small")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    return loads(text, str(p))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def loads(text: str, name: str = "<string>") -> Document:
    """Parse YAML text that must hold one mapping; ``name`` is used in messages."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in str(exc.context or ""):
            problem = "holds more than one YAML document; keep one"
        raise ConfigError(f"{where}: cannot parse YAML: {_said(problem)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: cannot parse YAML: {_said(str(exc))}") from None
    finally:
        loader.dispose()
    if node is None:
        raise ConfigError(f"{name}: the file is empty; it must be a mapping of keys to values")
    builder = _Builder(loader, name)
    data = builder.build(node, (), 0)
    if not isinstance(data, dict):
        # Never quote it: a file that is one scalar may well be a token given by mistake.
        kind = "a list" if isinstance(data, list) else f"a single value ({_describe(data)})"
        raise ConfigError(
            f"{name}:{node.start_mark.line + 1}: the file must be a mapping of keys to values, not {kind}; "
            "is this the right file?"
        )
    return Document(name, data, builder.lines)


def _said(problem: str) -> str:
    """A parser's message, which may quote the file: redacted, escaped, short."""
    return safe(clip(redact(problem[:1000]), 200))


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"a string of {len(value):,} characters"
    return (
        "null" if value is None else f"{'a' if type(value).__name__[0] not in 'aeiou' else 'an'} {type(value).__name__}"
    )


#: Scalar tags that give plain data; timestamps stay text (as in YAML 1.2), binary is refused.
_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Builder:
    def __init__(self, loader: Any, name: str) -> None:
        self.loader = loader
        self.name = name
        self.lines: dict[KeyPath, int] = {}
        self.count = 0
        self.active: set[int] = set()

    def fail(self, node: yaml.Node, message: str) -> ConfigError:
        return ConfigError(f"{self.name}:{node.start_mark.line + 1}: {message}")

    def build(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(
                node, f"more than {MAX_NODES} values after expanding aliases; refusing to load (alias bomb?)"
            )
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in _PLAIN_TAGS:
            raise self.fail(node, f"the tag {excerpt(node.tag)} at {format_path(path)} is not allowed: plain YAML only")
        if id(node) in self.active:
            raise self.fail(node, f"{format_path(path)} refers to itself through an alias")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, f"the tag {excerpt(node.tag)} at {format_path(path)} is not allowed: plain YAML only")
        try:
            return self.loader.construct_object(node)
        except Exception as exc:  # PyYAML raises ValueError and more for values like 1e99999 digits
            problem = getattr(exc, "problem", None) or "not a value YAML can read"
            raise self.fail(
                node, f"bad value {excerpt(node.value)} at {format_path(path)}: {_said(str(problem))}"
            ) from None

    def _mapping(self, node: yaml.Node, path: KeyPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        merged: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self._merge_sources(value_node, path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, f"a key under {format_path(path)} is a list or mapping; keys must be strings")
            key = self.scalar(key_node, (*path, "?"))
            if not isinstance(key, str):
                raise self.fail(
                    key_node,
                    f"key {excerpt(key_node.value)} under {format_path(path)} is read as {type(key).__name__}; "
                    "quote it to make it a string",
                )
            line = key_node.start_mark.line + 1
            if key in seen:
                raise self.fail(
                    key_node, f"duplicate key {format_path((*path, key))} (first defined on line {seen[key]})"
                )
            seen[key] = line
            child = (*path, key)
            self.lines[child] = line
            out[key] = self.build(value_node, child, depth + 1)
        for source in merged:  # explicit keys win over merged ones, as in YAML's merge spec
            for key, value in source.items():
                out.setdefault(key, value)
        return out

    def _merge_sources(self, node: yaml.Node, path: KeyPath, depth: int) -> Iterator[dict[str, Any]]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for item in nodes:
            value = self.build(item, path, depth + 1)
            if not isinstance(value, dict):
                raise self.fail(item, "<< must merge a mapping or a list of mappings")
            yield value
