"""``alops.yaml``: load, validate against the shipped JSON Schema, and type.

Validation happens once, here. A compiled validator (``_schema_check``, made
from the same schema by ``python -m alops.schema``) keeps the path of every CI
job fast; only when it finds a problem is jsonschema imported to say exactly
where and what.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from alops import yamlfile
from alops.errors import ConfigError
from alops.roles import DEFAULT_PATTERNS, ROLE_DEFAULTS, ROLES
from alops.yamlfile import Document, KeyPath, format_path

DEFAULT_FILE = "alops.yaml"
SCHEMA_RESOURCE = "alops.schema.json"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDERS = {"dataset", "role"}
MAX_SHOWN = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Dataset:
    name: str
    targets: tuple[str, ...]
    remote: str | None


@dataclass(frozen=True)
class Flow:
    """What a role does: which dataset, which runner class, which jobs, push or not."""

    role: str
    dataset: str
    runner: str
    jobs: tuple[str, ...]
    push: bool


@dataclass(frozen=True)
class Pipeline:
    train: tuple[str, ...]
    evaluate: tuple[str, ...]
    metrics: tuple[str, ...]

    def stages(self, job: str, *, dataset: str, role: str) -> tuple[str, ...]:
        """The DVC stages of ``job`` with ``{dataset}`` and ``{role}`` filled in."""
        names = self.train if job == "train" else self.evaluate
        return tuple(n.replace("{dataset}", dataset).replace("{role}", role) for n in names)


@dataclass(frozen=True)
class Parameters:
    file: str
    allowed: dict[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Config:
    """A validated ``alops.yaml``."""

    path: Path
    branches: dict[str, str]
    datasets: dict[str, Dataset]
    pipeline: Pipeline
    flows: dict[str, Flow]
    runners: dict[str, tuple[str, ...]]
    parameters: Parameters | None
    quality: dict[str, dict[str, float]]
    active_learning: dict[str, Any] | None
    document: Document = field(repr=False, compare=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    def where(self, *path: str | int) -> str:
        return self.document.where(path)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of ``alops.yaml``, as shipped in the package."""
    from importlib import resources

    text = resources.files("alops.schema").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def load_config(path: str | Path = DEFAULT_FILE) -> Config:
    """Load and validate ``alops.yaml``; raise ConfigError naming file, line and key."""
    doc = yamlfile.load(path)
    validate_document(doc)
    return _build(Path(path), doc)


def validate_document(doc: Document) -> None:
    """Raise ConfigError listing every schema problem of ``doc``."""
    if not _fast_valid(doc.data):
        problems = schema_problems(doc)
        if problems:
            raise _invalid(doc, problems)
    problems = _semantic_problems(doc)
    if problems:
        raise _invalid(doc, problems)


def _invalid(doc: Document, problems: list[str]) -> ConfigError:
    n = len(problems)
    shown = problems[:MAX_SHOWN] + ([f"… and {n - MAX_SHOWN} more"] if n > MAX_SHOWN else [])
    head = f"{doc.name} is invalid ({n} problem{'s' if n > 1 else ''}); see `alops config schema` for every key:"
    return ConfigError(head + "\n" + "\n".join(f"  {p}" for p in shown))


def _fast_valid(data: Any) -> bool:
    try:
        from alops.schema import _check
    except ImportError:  # pragma: no cover - a source tree without the compiled check
        return False
    try:
        _check.validate(data)  # type: ignore[no-untyped-call]
    except Exception:  # any failure: let jsonschema explain it
        return False
    return True


def schema_problems(doc: Document) -> list[str]:
    """Every violation of the schema, as ``file:line: key.path: what is allowed``."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema())
    found = []
    for error in validator.iter_errors(doc.data):
        path: KeyPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # One problem per unknown key, each on its own line.
            allowed = sorted(error.schema.get("properties", {}))
            patterns = list(error.schema.get("patternProperties", {}))
            for key in error.instance:
                if key not in allowed and not any(re.search(p, key) for p in patterns):
                    found.append((doc.line((*path, key)) or 0, format_path((*path, key)), _unknown_key(key, allowed)))
            continue
        found.append((doc.line(path) or 0, format_path(path), _explain(error, path)))
    found.sort(key=lambda item: item[:2])
    return [
        f"{doc.name}:{line}: {where}: {what}" if line else f"{doc.name}: {where}: {what}" for line, where, what in found
    ]


def _unknown_key(key: str, allowed: list[str]) -> str:
    import difflib

    guess = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    return f"unknown key {key!r}; {hint}allowed: {', '.join(allowed)}"


def _explain(error: Any, path: KeyPath) -> str:
    kind, value, sub = error.validator, error.instance, error.schema
    if kind == "required":
        missing = [k for k in error.validator_value if k not in value]
        return f"missing required key {missing[0]!r}" if missing else str(error.message)
    if kind == "enum":
        return f"{value!r} is not allowed; use one of: {', '.join(map(str, error.validator_value))}"
    if kind == "const":
        return f"{value!r} is not supported; the only allowed value is {error.validator_value!r}"
    if kind == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"expected {_article(wanted)}, got {_type_name(value)} {_short(value)}".rstrip()
    if kind == "pattern":
        what = sub.get("description") or f"text matching {error.validator_value}"
        return f"{_short(value)} is not valid here: expected {what[0].lower() + what[1:]}"
    if kind == "not" and path and path[-1] == "build":
        return "set either fraction or count, not both"
    return error.message  # type: ignore[no-any-return]


def _article(word: str) -> str:
    word = {"object": "mapping", "array": "list", "string": "string"}.get(word, word)
    return ("an " if word[0] in "aeiou" else "a ") + word


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else ""
    return text if len(text) <= 80 else text[:77] + "..."


def _semantic_problems(doc: Document) -> list[str]:
    """What the schema cannot say: regular expressions compile, placeholders exist."""
    data, out = doc.data, []
    for path, text in _strings(data, ()):
        if _CONTROL.search(text):
            out.append(
                f"{doc.where(path)}: {format_path(path)}: control characters (newline, tab, NUL…) are not allowed"
            )
    for role, pattern in (data.get("branches") or {}).items():
        try:
            compile_pattern(pattern)
        except ConfigError as exc:
            out.append(f"{doc.where(('branches', role))}: branches.{role}: {exc}")
    for job in ("train", "evaluate"):
        for i, stage in enumerate((data.get("pipeline") or {}).get(job) or []):
            for name in _PLACEHOLDER.findall(stage):
                if name not in _PLACEHOLDERS:
                    key = ("pipeline", job, i)
                    out.append(
                        f"{doc.where(key)}: {format_path(key)}: unknown placeholder {{{name}}} in {stage!r}; "
                        f"allowed: {{dataset}}, {{role}}"
                    )
    return out


def _strings(value: Any, path: KeyPath) -> Any:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a GitLab rules regular expression ``/regex/`` (flag ``i`` allowed)."""
    if len(pattern) < 3 or not pattern.startswith("/") or not (pattern.endswith("/") or pattern.endswith("/i")):
        raise ConfigError(f"{pattern!r} is not a GitLab regular expression: write it as /regex/, e.g. /^feature\\//")
    flags = re.IGNORECASE if pattern.endswith("/i") else 0
    body = pattern[1 : -2 if flags else -1]
    try:
        return re.compile(body, flags)
    except re.error as exc:
        raise ConfigError(f"{pattern!r} is not a valid regular expression: {exc}") from None


def _build(path: Path, doc: Document) -> Config:
    data = doc.data
    branches = {**DEFAULT_PATTERNS, **(data.get("branches") or {})}
    datasets = {
        name: Dataset(name, tuple(spec["targets"]), spec.get("remote")) for name, spec in data["datasets"].items()
    }
    pipe = data["pipeline"]
    pipeline = Pipeline(tuple(pipe["train"]), tuple(pipe.get("evaluate", ())), tuple(pipe.get("metrics", ())))
    overrides = data.get("flows") or {}
    flows = {}
    for role in ROLES:
        base, over = ROLE_DEFAULTS[role], overrides.get(role, {})
        flows[role] = Flow(role, over.get("dataset", base.dataset), base.runner, base.jobs, over.get("push", base.push))
    run = data.get("runners") or {}
    runners = {"cpu": tuple(run.get("cpu", ())), "gpu": tuple(run.get("gpu", ("gpu",)))}
    params = data.get("parameters")
    parameters = (
        Parameters(params.get("file", "params.yaml"), {k: tuple(v) for k, v in params["allowed"].items()})
        if params
        else None
    )
    quality = {k: dict(v) for k, v in ((data.get("quality") or {}).get("thresholds") or {}).items()}
    return Config(
        path, branches, datasets, pipeline, flows, runners, parameters, quality, data.get("active_learning"), doc
    )
