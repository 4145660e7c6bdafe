"""``alops.yaml``: load, validate against the shipped JSON Schema, apply defaults, and type.

Three steps, once, here: validate the document as the file wrote it, fill in
the schema's defaults on a copy (:mod:`alops.schema.defaults`), build the typed
:class:`Config` from the copy. A compiled check (``alops.schema._check``, made
from the same schema by ``python -m alops.schema``) keeps the path of every CI
job fast; only when it finds a problem is jsonschema imported to say exactly
where and what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops import yamlfile
from alops.errors import ConfigError
from alops.patterns import BranchPattern as BranchPattern  # re-exported: flow.py imports them from here
from alops.patterns import compile_pattern as compile_pattern
from alops.roles import ROLE_DEFAULTS, ROLES
from alops.schema import schema
from alops.schema.defaults import apply_defaults
from alops.yamlfile import Document

if TYPE_CHECKING:
    from alops.sections import ActiveLearning, Devset, Gate, Release, Report, Schedule

DEFAULT_FILE = "alops.yaml"
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
    score: tuple[str, ...] = ()  # the stages that score the pool for `alops al query`

    def stages(self, job: str, *, dataset: str, role: str) -> tuple[str, ...]:
        """The DVC stages of ``job`` (train, evaluate or score) with ``{dataset}`` and ``{role}`` filled in."""
        names = {"train": self.train, "score": self.score}.get(job, self.evaluate)
        return tuple(n.replace("{dataset}", dataset).replace("{role}", role) for n in names)


@dataclass(frozen=True)
class Constraint:
    """One of ``parameters.constraints``: when every ``if`` key has one of its values (``when``), the
    ``irrelevant`` keys are not varied and the ``exclude`` values are never combined with it."""

    when: dict[str, tuple[Any, ...]]
    irrelevant: tuple[str, ...] = ()
    exclude: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Parameters:
    file: str
    allowed: dict[str, tuple[Any, ...]]
    max_combinations: int = 64  # `alops matrix`: beyond this many combinations, a pairwise set
    constraints: tuple[Constraint, ...] = ()


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
    document: Document = field(repr=False, compare=False)  # what the file says: for messages, never for values
    _defaulted: dict[str, Any] = field(repr=False, compare=False)  # what the sections are built from

    # The sections of the feature packages are typed when first read: `alops flow`
    # reads none, and their dataclasses cost ~2.5 ms of its start.
    @cached_property
    def devset(self) -> Devset:
        """``datasets.dev.build`` and ``.check``, typed, defaults applied."""
        from alops.sections import devset

        return devset(self._defaulted["datasets"]["dev"])

    @cached_property
    def al(self) -> ActiveLearning | None:
        """``active_learning:``, typed, defaults applied; None when alops.yaml has no such section."""
        from alops.sections import active_learning

        data = self._defaulted.get("active_learning")
        return None if data is None else active_learning(data)

    @cached_property
    def schedules(self) -> tuple[Schedule, ...]:
        """``schedules:``, typed, defaults applied; empty when alops.yaml has none."""
        from alops.sections import schedules

        return schedules(self._defaulted.get("schedules"))

    @cached_property
    def quality(self) -> tuple[Gate, ...]:
        """``quality.thresholds``, typed: the gates of ``alops gate``; empty when alops.yaml has none."""
        from alops.sections import quality

        return quality(self._defaulted.get("quality"))

    @cached_property
    def report(self) -> Report:
        """``report:``, typed, defaults applied (all of them when alops.yaml has no such section)."""
        from alops.sections import report

        return report(self._defaulted.get("report"))

    @cached_property
    def release(self) -> Release | None:
        """``release:``, typed, defaults applied; None when alops.yaml has no such section."""
        from alops.sections import release

        data = self._defaulted.get("release")
        return None if data is None else release(data)

    @property
    def root(self) -> Path:
        return self.path.parent

    def where(self, *path: str | int) -> str:
        """``alops.yaml:LINE`` of ``path``, or of its nearest parent the file writes."""
        return self.document.where(path)

    def written(self, *path: str | int) -> bool:
        """Whether the file itself sets ``path`` (rather than leaving it to its default)."""
        return path in self.document.lines


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


def _parameters(params: dict[str, Any]) -> Parameters:
    def values(v: Any) -> tuple[Any, ...]:
        return tuple(v) if isinstance(v, list) else (v,)

    constraints = tuple(
        Constraint(
            {k: values(v) for k, v in c["if"].items()},
            tuple(c.get("irrelevant", ())),
            {k: values(v) for k, v in c.get("exclude", {}).items()},
        )
        for c in params["constraints"]
    )
    allowed = {k: tuple(v) for k, v in params["allowed"].items()}
    return Parameters(params["file"], allowed, params["max_combinations"], constraints)


def _build(path: Path, doc: Document) -> Config:
    data = apply_defaults(schema(), doc.data)  # a copy: doc.data stays what the file says
    datasets = {
        name: Dataset(name, tuple(spec["targets"]), spec.get("remote")) for name, spec in data["datasets"].items()
    }
    pipe = data["pipeline"]
    pipeline = Pipeline(tuple(pipe["train"]), tuple(pipe["evaluate"]), tuple(pipe["metrics"]), tuple(pipe["score"]))
    flows = {}
    for role in ROLES:
        base, over = ROLE_DEFAULTS[role], data["flows"][role]
        flows[role] = Flow(role, over["dataset"], base.runner, base.jobs, over["push"])
    runners = {name: tuple(tags) for name, tags in data["runners"].items()}
    params = data.get("parameters")
    parameters = _parameters(params) if params else None
    return Config(path, dict(data["branches"]), datasets, pipeline, flows, runners, parameters, doc, data)
