"""What is wrong with an ``alops.yaml`` document, one message per problem.

Each message is ``file:line: key.path: what is wrong and what is allowed``.
Values from the file are quoted only as short, redacted, escaped excerpts
(:func:`alops.text.excerpt`): a secret pasted into the wrong file, or a
megabyte-long scalar, never ends up in a CI log.

Three passes: values anywhere (invisible characters, non-finite numbers),
the JSON Schema, then what the schema cannot say (branch patterns compile
with RE2, stage placeholders, paths stay inside the repository).
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Iterator
from typing import Any

from alops.errors import ConfigError
from alops.patterns import compile_pattern
from alops.schema.defaults import parts as schema_parts
from alops.text import clip, escape_non_ascii, excerpt, safe
from alops.yamlfile import Document, KeyPath, format_path

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("dataset", "role")


def value_problems(doc: Document) -> list[str]:
    """Problems of single values, whatever the document's shape."""
    out = []
    for path, value in _values(doc.data, ()):
        if isinstance(value, str) and not value.isprintable():
            out.append(
                f"{doc.where(path)}: {format_path(path)}: {excerpt(value)} holds control or invisible characters "
                "(newline, tab, NUL, C1 controls, bidi overrides, zero-width…); they are not allowed"
            )
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(
                f"{doc.where(path)}: {format_path(path)}: {excerpt(value)} is not a finite number; "
                "use a number such as 0.1 (NaN and infinities are not allowed)"
            )
    return out


def _values(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """Every key (as a string at its own path) and every scalar."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from _values(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _values(item, (*path, i))
    else:
        yield path, value


def schema_problems(doc: Document, schema: dict[str, Any]) -> list[str]:
    """Every violation of the schema, as ``file:line: key.path: what is allowed``."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    found = []
    for error in validator.iter_errors(doc.data):
        path: KeyPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # One problem per unknown key, each on its own line.
            allowed = sorted(error.schema.get("properties", {}))
            patterns = list(error.schema.get("patternProperties", {}))
            for key in error.instance:
                if key not in allowed and not any(re.search(p, key) for p in patterns):
                    found.append((doc.line((*path, key)) or 0, format_path((*path, key)), unknown_key(key, allowed)))
            continue
        found.append((doc.line(path) or 0, format_path(path), _explain(error, path)))
    found.sort(key=lambda item: item[:2])
    return [
        f"{doc.name}:{line}: {where}: {what}" if line else f"{doc.name}: {where}: {what}" for line, where, what in found
    ]


def unknown_key(key: str, allowed: list[str]) -> str:
    """The message for an unknown key; one that only looks like an allowed key is shown escaped."""
    import difflib

    guess = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if not key.isascii():
        # A homoglyph ('dеv' with a Cyrillic е) would print the same as its guess.
        odd = ", ".join(sorted({escape_non_ascii(c)[1:-1] for c in key if not c.isascii()}))
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        return (
            f"unknown key {escape_non_ascii(key)}: it contains non-ASCII characters ({odd}); "
            f"{hint}allowed: {', '.join(allowed)}"
        )
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    return f"unknown key {excerpt(key)}; {hint}allowed: {', '.join(allowed)}"


def _explain(error: Any, path: KeyPath) -> str:
    kind, value, sub, limit = error.validator, error.instance, error.schema, error.validator_value
    shown = excerpt(value)
    if kind in ("enum", "const", "pattern") and isinstance(value, str) and not value.isascii():
        # 'dеv' (Cyrillic е) would look exactly like the allowed 'dev'.
        shown += f" (written {escape_non_ascii(clip(value))}: it contains non-ASCII characters)"
    if kind == "required":
        # jsonschema reports each missing key on its own, naming it first in its message.
        missing = [k for k in limit if isinstance(value, dict) and k not in value]
        named = [k for k in missing if str(error.message).startswith(repr(k))]
        return f"missing required key {(named or missing or ['?'])[0]!r}"
    if kind == "enum":
        return f"{shown} is not allowed; use one of: {', '.join(map(str, limit))}"
    if kind == "const":
        return f"{shown} is not supported; the only allowed value is {limit!r}"
    if kind == "type":
        wanted = " or ".join(limit) if isinstance(limit, list) else limit
        return f"expected {_article(wanted)}, got {_type_name(value)}" + (
            f" {shown}" if not isinstance(value, (dict, list)) and value is not None else ""
        )
    if kind == "pattern":
        what = sub.get("description") or f"text matching {limit}"
        return f"{shown} is not valid here: expected {what[0].lower() + what[1:]}"
    if kind == "not" and path and path[-1] == "build":
        return "set either fraction or count, not both"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        relation = {
            "minimum": "is less than the minimum of",
            "exclusiveMinimum": "is too small: it must be greater than",
            "maximum": "is greater than the maximum of",
            "exclusiveMaximum": "is too large: it must be less than",
        }[kind]
        return f"{shown} {relation} {limit}"
    if kind in ("minLength", "maxLength"):
        n = len(value) if isinstance(value, str) else 0
        if kind == "minLength":
            return "must not be empty" if limit == 1 else f"{shown} is shorter than {limit} characters"
        return f"{shown} is longer than {limit} characters ({n:,})"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        what = "item" if "Items" in kind else "key"
        if limit == 1 and kind.startswith("min"):
            return f"must not be empty: give at least one {what}"
        return f"{'at least' if kind.startswith('min') else 'at most'} {limit} {what}s allowed, got {len(value)}"
    if kind == "uniqueItems":
        seen: list[Any] = []
        for item in value:
            if any(item == s and type(item) is type(s) for s in seen):
                return f"{excerpt(item)} is listed twice; each item may appear once"
            seen.append(item)
        return "each item may appear once"
    return f"not allowed here ({kind})"


def _article(word: str) -> str:
    word = {"object": "mapping", "array": "list", "string": "string"}.get(word, word)
    return ("an " if word[0] in "aeiou" else "a ") + word


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def semantic_problems(doc: Document, schema: dict[str, Any]) -> list[str]:
    """What the schema cannot say; ``doc`` already matches the schema."""
    data, out = doc.data, []
    for role, pattern in (data.get("branches") or {}).items():
        try:
            compile_pattern(pattern)
        except ConfigError as exc:
            out.append(f"{doc.where(('branches', role))}: branches.{role}: {exc}")
    for job in ("train", "evaluate"):
        for i, stage in enumerate((data.get("pipeline") or {}).get(job) or []):
            problem = _stage_problem(stage)
            if problem:
                where: KeyPath = ("pipeline", job, i)
                out.append(f"{doc.where(where)}: {format_path(where)}: {problem}")
    for key, value in _schema_paths(schema, schema, data, ()):
        problem = _path_problem(value, data, key)
        if problem:
            out.append(f"{doc.where(key)}: {format_path(key)}: {problem}")
    return out


def _stage_problem(stage: str) -> str | None:
    for name in _PLACEHOLDER.findall(stage):
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{safe(clip(name))}}} in {excerpt(stage)}; allowed: {{dataset}}, {{role}}"
    rest = stage
    for name in PLACEHOLDERS:
        rest = rest.replace("{" + name + "}", "")
    if "{" in rest or "}" in rest:
        return (
            f"unbalanced '{{' or '}}' in {excerpt(stage)}: braces are only allowed around the placeholders "
            "{dataset} and {role}"
        )
    return None


def _schema_paths(schema: dict[str, Any], node: Any, value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """Every value of ``value`` that the schema declares a path (``#/definitions/path``)."""
    parts = list(schema_parts(schema, node))
    target = schema["definitions"]["path"]
    if any(part is target for part in parts):
        if isinstance(value, str):
            yield path, value
        return
    for part in parts:
        if isinstance(value, dict):
            props, extra = part.get("properties", {}), part.get("additionalProperties")
            for key, item in value.items():
                child = props.get(key, extra if isinstance(extra, dict) else None)
                if child is not None:
                    yield from _schema_paths(schema, child, item, (*path, key))
        elif isinstance(value, list) and isinstance(part.get("items"), dict):
            for i, item in enumerate(value):
                yield from _schema_paths(schema, part["items"], item, (*path, i))


_ALLOWED_PATH = "use a path relative to the repository root that stays inside it, like data/full.dvc"


def _path_problem(value: str, data: dict[str, Any], key: KeyPath) -> str | None:
    # Backslashes count as separators here: `..\\x` is refused on every platform.
    text = value.replace("\\", "/")
    if key[-1] == "manifest":  # relative to the build's source (whose own problem is reported for it)
        source = (data.get("datasets", {}).get("dev", {}).get("build") or {}).get("source")
        if isinstance(source, str) and not text.startswith("/"):
            if _path_problem(source, data, (*key[:-1], "source")):
                return None
            text = posixpath.join(source.replace("\\", "/"), text)
    if text.startswith("/") or re.match(r"[A-Za-z]:/", text) or text.startswith("~"):
        return f"{excerpt(value)} is an absolute path: {_ALLOWED_PATH}"
    normal = posixpath.normpath(text)
    if normal == ".." or normal.startswith("../"):
        return f"{excerpt(value)} leads outside the repository: {_ALLOWED_PATH}"
    if normal == "." and key[-1] == "output":
        return f"{excerpt(value)} is the repository root itself: name a folder inside it for the dev dataset, like data/dev"
    if normal in (".git", ".dvc") or normal.startswith((".git/", ".dvc/")):
        return f"{excerpt(value)} is inside git's or DVC's own folder: {_ALLOWED_PATH}, outside .git and .dvc"
    return None
