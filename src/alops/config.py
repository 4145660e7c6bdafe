"""``alops.yaml``: load, validate against the shipped JSON Schema, and type.

Validation happens once, here. A compiled validator (``_schema_check``, made
from the same schema by ``python -m alops.schema``) keeps the path of every CI
job fast; only when it finds a problem is jsonschema imported to say exactly
where and what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from alops import yamlfile
from alops.errors import ConfigError
from alops.patterns import BranchPattern as BranchPattern  # re-exported: flow.py imports them from here
from alops.patterns import compile_pattern as compile_pattern
from alops.roles import DEFAULT_PATTERNS, ROLE_DEFAULTS, ROLES
from alops.yamlfile import Document

DEFAULT_FILE = "alops.yaml"
SCHEMA_RESOURCE = "alops.schema.json"
MAX_SHOWN = 20


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
    # A plain read beside this module: importlib.resources costs ~6 ms of imports
    # (zipfile, tempfile) at every start, and alops is always installed unzipped.
    text = (Path(__file__).parent / "schema" / SCHEMA_RESOURCE).read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def load_config(path: str | Path = DEFAULT_FILE) -> Config:
    """Load and validate ``alops.yaml``; raise ConfigError naming file, line and key."""
    doc = yamlfile.load(path)
    validate_document(doc)
    return _build(Path(path), doc)


def validate_document(doc: Document) -> None:
    """Raise ConfigError listing every problem of ``doc`` (see :mod:`alops.config_problems`)."""
    from alops import config_problems as check

    problems = check.value_problems(doc)
    if not _fast_valid(doc.data):
        problems += check.schema_problems(doc, schema())
    if not problems:
        problems = check.semantic_problems(doc, schema())
    if problems:
        raise _invalid(doc, problems)


def schema_problems(doc: Document) -> list[str]:
    """Every violation of the schema, as ``file:line: key.path: what is allowed``."""
    from alops import config_problems as check

    return check.schema_problems(doc, schema())


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
