"""Typed sections of ``alops.yaml`` that the feature packages take, defaults applied.

A feature reads its settings from here (``config.devset.build.fraction``), never
from the document: the document is what the file says, for messages that point
at a line; these are what alops uses. Each section is built from the copy that
:func:`alops.schema.defaults.apply_defaults` filled in, so no default is written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alops.errors import ConfigError
from alops.schema import schema
from alops.schema.defaults import defaults_at


@dataclass(frozen=True)
class Outliers:
    """Which rows are numeric outliers (``datasets.dev.build.outliers``) and how many the dev set takes."""

    rule: str  # "iqr" or "zscore"
    threshold: float
    columns: tuple[str, ...] | None  # None: every numeric column but the strata
    max_share: float


@dataclass(frozen=True)
class DevsetBuild:
    """``datasets.dev.build``: how ``alops devset build`` samples the dev set."""

    source: str
    output: str
    format: str
    manifest: str
    fraction: float | None  # None: count is set
    count: int | None
    label: str | None  # None: the column named `label` when the data has one
    split: str | None
    stratify: tuple[str, ...]
    seed: int
    outliers: Outliers | None  # None: no outlier rule (alops.yaml has no `outliers:`)
    corrupt_max_share: float


@dataclass(frozen=True)
class DevsetCheck:
    """``datasets.dev.check``: when ``alops devset check`` says the dev set no longer represents the full data."""

    ks_pvalue: float
    chi2_pvalue: float
    psi_max: float
    share_tolerance: float


@dataclass(frozen=True)
class Devset:
    """The dev dataset's settings: ``datasets.dev.build`` and ``datasets.dev.check``."""

    build: DevsetBuild | None  # None: alops.yaml has no datasets.dev.build
    check: DevsetCheck
    #: What `outliers: {}` means: the check's bounds use it when no rule is set.
    outlier_defaults: Outliers


def devset(dev: dict[str, Any]) -> Devset:
    """The section from ``datasets.dev`` of a document with its defaults filled in."""
    build = _build(dev["build"]) if "build" in dev else None
    check = DevsetCheck(**{key: float(value) for key, value in dev["check"].items()})
    return Devset(build, check, _outliers(defaults_at(schema(), "datasets", "dev", "build", "outliers")))


def _build(data: dict[str, Any]) -> DevsetBuild:
    count = data.get("count")
    return DevsetBuild(
        source=data["source"],
        output=data["output"],
        format=data["format"],
        manifest=data["manifest"],
        fraction=float(data["fraction"]) if count is None else None,
        count=count,
        label=data.get("label"),
        split=data.get("split"),
        stratify=tuple(data["stratify"]),
        seed=data["seed"],
        outliers=_outliers(data["outliers"]) if "outliers" in data else None,
        corrupt_max_share=float(data["corrupt"]["max_share"]),
    )


def _outliers(data: dict[str, Any]) -> Outliers:
    columns = tuple(data["columns"]) if "columns" in data else None
    return Outliers(data["rule"], float(data["threshold"]), columns, float(data["max_share"]))


@dataclass(frozen=True)
class Annotators:
    """``active_learning.annotators``: how several annotations of one sample become its label."""

    policy: str  # "majority", "unanimous" or "reviewer"
    reviewer: str | None  # set when policy is "reviewer"
    min_votes: int


@dataclass(frozen=True)
class LabelStudioSettings:
    """``active_learning.label_studio``: the Label Studio project of the loop."""

    project: str  # its title: alops finds the project by it
    instructions: str
    fields: dict[str, str] = field(default_factory=dict)  # pool column -> text | image | hypertext


@dataclass(frozen=True)
class ActiveLearning:
    """``active_learning:``: the data of the loop and how ``alops al`` chooses, labels and ingests."""

    pool: str | None  # None: not set (ingest, status and sync need it: :func:`require`)
    labelled: str | None
    label_column: str
    labels: str | None  # the label log folder
    classes: tuple[str, ...] | None
    scores: str | None  # None: not set (``--scores`` must name the file)
    id_column: str
    embeddings: str | None
    labelled_embeddings: str | None  # None: k-center starts from nothing
    strategy: str
    batch_size: int
    seed: int
    quotas: dict[str, int] | None  # class name -> count; None: no per-class quotas
    shortlist_factor: int
    batch_dir: str
    annotators: Annotators
    pseudo_min_confidence: float | None  # None: no pseudo-labels
    label_studio: LabelStudioSettings
    min_new_labels: int


def active_learning(data: dict[str, Any]) -> ActiveLearning:
    """The section from ``active_learning`` of a document with its defaults filled in."""
    quotas = data.get("quotas")
    classes = data.get("classes")
    annotators = data["annotators"]
    studio = data["label_studio"]
    pseudo = data.get("pseudo_labels")
    return ActiveLearning(
        pool=data.get("pool"),
        labelled=data.get("labelled"),
        label_column=data["label_column"],
        labels=data.get("labels"),
        classes=None if classes is None else tuple(str(name) for name in classes),
        scores=data.get("scores"),
        id_column=data["id_column"],
        embeddings=data.get("embeddings"),
        labelled_embeddings=data.get("labelled_embeddings"),
        strategy=data["strategy"],
        batch_size=data["batch_size"],
        seed=data["seed"],
        quotas=None if quotas is None else {str(name): int(n) for name, n in quotas.items()},
        shortlist_factor=data["shortlist_factor"],
        batch_dir=data["batch_dir"],
        annotators=Annotators(annotators["policy"], annotators.get("reviewer"), annotators["min_votes"]),
        pseudo_min_confidence=None if pseudo is None else float(pseudo["min_confidence"]),
        label_studio=LabelStudioSettings(studio["project"], studio["instructions"], dict(studio.get("fields", {}))),
        min_new_labels=data["retrain"]["min_new_labels"],
    )


def require(al: ActiveLearning | None, *keys: str, command: str) -> ActiveLearning:
    """``al`` when alops.yaml sets every one of ``keys`` of ``active_learning``; else a ConfigError naming them."""
    missing = [key for key in keys if al is None or getattr(al, key) is None]
    if al is None or missing:
        names = ", ".join(f"active_learning.{key}" for key in (missing or keys))
        raise ConfigError(f"{command} needs {names} in alops.yaml (see `alops config schema`).")
    return al


@dataclass(frozen=True)
class Schedule:
    """One entry of ``schedules:``: a GitLab pipeline schedule ``alops schedule sync`` keeps as written."""

    name: str
    cron: str
    ref: str
    timezone: str
    active: bool
    variables: dict[str, str]


def schedules(data: dict[str, Any] | None) -> tuple[Schedule, ...]:
    """The section from ``schedules`` of a document with its defaults filled in; empty when absent."""
    return tuple(
        Schedule(name, entry["cron"], entry["ref"], entry["timezone"], entry["active"], dict(entry["variables"]))
        for name, entry in (data or {}).items()
    )


@dataclass(frozen=True)
class Gate:
    """One entry of ``quality.thresholds``: what ``alops gate`` holds a metric to."""

    metric: str  # a key path of a metrics file, or FILE:KEY
    min: float | None
    max: float | None
    max_regression: float | None  # against the baseline, in the metric's units
    better: str  # "higher" or "lower"


def quality(data: dict[str, Any] | None) -> tuple[Gate, ...]:
    """The gates of ``quality.thresholds``, in alops.yaml's order; empty when there are none."""
    found = []
    for metric, entry in ((data or {}).get("thresholds") or {}).items():
        low, high, drop = (None if entry.get(k) is None else float(entry[k]) for k in ("min", "max", "max_regression"))
        found.append(Gate(metric, low, high, drop, entry["better"]))
    return tuple(found)


@dataclass(frozen=True)
class Report:
    """The ``report`` section: what ``alops report`` shows beside the metrics."""

    confusion: str | None  # a CSV (actual, predicted) with {dataset} in it, or None: no confusion plot
    metric: str | None  # the metric of the history plot; None: the first gate's, else the first metric
    history: int  # the branch's latest successful pipelines the history plot reads
    fail_on_error: bool  # GitLab refusing or failing the note fails the job


def report(data: dict[str, Any] | None) -> Report:
    """The ``report`` section with its defaults filled in (all of them when it is absent)."""
    data = data or {}
    return Report(
        data.get("confusion"), data.get("metric"), int(data.get("history", 10)), bool(data.get("fail_on_error", False))
    )


@dataclass(frozen=True)
class Environment:
    """One of ``release.environments``: where ``alops deploy`` serves a version (a GTO stage)."""

    name: str
    url: str  # the service's base URL; /healthz answers when it is up
    command: tuple[str, ...] | None  # None: alops runs the service itself on the URL's port
    timeout: float  # seconds to wait for /healthz after a deploy


@dataclass(frozen=True)
class Release:
    """The ``release`` section: what ``alops release`` ships and where ``alops deploy`` serves it."""

    model: str  # the GTO artifact, package and registered model name
    path: str  # with {dataset} in it
    bump: str  # "major", "minor" or "patch"
    predictor: str  # a project file with load(model_dir) -> object with predict(instances)
    requirements: tuple[str, ...]  # what the serving image installs beside alops[serve]
    environments: dict[str, Environment]

    def model_path(self, dataset: str) -> str:
        return self.path.replace("{dataset}", dataset)


def release(data: dict[str, Any]) -> Release:
    """The ``release`` section with its defaults filled in."""
    envs = {
        name: Environment(name, e["url"], tuple(e["command"]) if "command" in e else None, float(e["timeout"]))
        for name, e in data["environments"].items()
    }
    return Release(data["model"], data["path"], data["bump"], data["predictor"], tuple(data["requirements"]), envs)
