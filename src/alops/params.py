"""Pipeline parameters (``params.yaml``) checked against their allowed values."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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


def file_of(config: Config) -> str:
    """The parameters file: ``parameters.file``, else DVC's default ``params.yaml``."""
    return config.parameters.file if config.parameters is not None else "params.yaml"


def parse_overrides(config: Config, items: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as key → value, each checked against the parameters file and alops.yaml.

    VALUE is read as a YAML scalar (``0.1`` a number, ``true`` a boolean, ``'1'``
    a string); KEY must be a value of the file already, and when
    ``parameters.allowed`` lists KEY, VALUE must be one of those values.
    Nothing is changed: :func:`apply_overrides` writes them.
    """
    import yaml

    if not items:
        return {}
    name = file_of(config)
    path = config.root / name
    doc = yamlfile.load(path).data if path.is_file() else None
    allowed = config.parameters.allowed if config.parameters is not None else {}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        shown = excerpt(item)
        if not sep or not key:
            raise ConfigError(f"--set {shown}: give KEY=VALUE, a key of {name} such as train.C=0.1")
        if doc is None:
            raise ConfigError(f"--set {shown}: {name} does not exist (looked in {config.root})")
        current = lookup(doc, key)
        if current is _MISSING:
            raise ConfigError(f"--set {shown}: {name} has no key {excerpt(key)}: set one of {_keys(doc)}")
        if isinstance(current, (dict, list)):
            raise ConfigError(
                f"--set {shown}: {excerpt(key)} in {name} is a {type(current).__name__}: set its values one by one"
            )
        try:
            value = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError:
            raise ConfigError(f"--set {shown}: {excerpt(text)} is not a YAML value: quote it ('{text}')") from None
        if isinstance(value, (dict, list)) or not isinstance(value, (str, int, float, bool, type(None))):
            raise ConfigError(f"--set {shown}: the value must be a single value (a number, a string, true or false)")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"--set {shown}: {excerpt(text)} is not a finite number")
        if key in allowed and not _allowed(value, allowed[key]):
            where = config.where("parameters", "allowed", key)
            raise ConfigError(
                f"--set {shown}: {excerpt(value)} is not an allowed value of {excerpt(key)} in {name}; "
                f"allowed ({where}): {_list(allowed[key])}"
            )
        out[key] = value
    return out


def _keys(doc: dict[str, Any]) -> str:
    keys = list(flat(doc))
    return ", ".join(excerpt(k) for k in keys[:12]) + (f" (and {len(keys) - 12} more)" if len(keys) > 12 else "")


def flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """A parameters document as dotted key → value (lists kept whole, as ``dvc params diff`` shows them)."""
    if not isinstance(data, dict):
        return {prefix[:-1]: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def apply_overrides(config: Config, values: Mapping[str, Any]) -> None:
    """Write ``values`` (from :func:`parse_overrides`) into the parameters file, as ``dvc exp run -S`` does.

    Only the text of each value changes: comments, order and the file's other
    lines stay as they were. The result is read back before it replaces the
    file (atomically): each key must read as its new value and every other key
    as before, or nothing is written.
    """
    if not values:
        return
    from alops import atomic

    name = file_of(config)
    path = config.root / name
    text = path.read_text("utf-8")
    edited = set_scalars(text, values, name)
    with atomic.writing_to(path):
        atomic.write_text(path, edited)


def set_scalars(text: str, values: Mapping[str, Any], name: str) -> str:
    """``text`` (YAML) with the scalar at each dotted key replaced by the value, checked by reading it back."""
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    spans = []
    for key, value in values.items():
        node = _scalar_node(root, key.split("."))
        if node is None:
            raise ConfigError(
                f"{name}: cannot set {excerpt(key)} in place (not a plain value of a mapping): edit it by hand"
            )
        spans.append((node.start_mark.index, node.end_mark.index, _render(value, key, name)))
    edited = text
    for start, end, new in sorted(spans, reverse=True):
        edited = edited[:start] + new + edited[end:]
    want = flat(yaml.safe_load(text)) | dict(values)
    try:
        got = flat(yaml.safe_load(edited))
    except yaml.YAMLError:
        got = {}
    if not _same(got, want):
        raise ConfigError(
            f"{name}: cannot set {', '.join(map(excerpt, values))} in place (anchors, aliases or "
            "block values around it): edit the file by hand"
        )
    return edited


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # 1 == 1.0 == True in Python: a changed type is a change here.
    return a.keys() == b.keys() and all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


def _scalar_node(node: Any, parts: list[str]) -> Any:
    import yaml

    for part in parts:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part]
        if len(found) != 1:
            return None
        node = found[0]
    return node if isinstance(node, yaml.ScalarNode) else None


def _render(value: Any, key: str, name: str) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=False, width=1 << 20)
    text = text.removesuffix("\n").removesuffix("\n...").strip()
    if "\n" in text or yaml.safe_load(text) != value:
        raise ConfigError(f"--set {excerpt(key)}: the value cannot be written on one line of {name}: edit it by hand")
    return text
