"""What ``alops devset build`` reads from ``alops.yaml`` (``datasets.dev.build``), typed, defaults applied.

Defaults come from the schema, the one place they are written down. Command-line
options (size, seed) replace the file's values here, so the library never sees
where a setting came from, only where to point when it is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alops.config import Config, schema
from alops.errors import ConfigError

#: The threshold of each outlier rule when alops.yaml sets none.
RULE_THRESHOLDS = {"iqr": 1.5, "zscore": 3.0}
DEFAULT_FRACTION = 0.1
#: The label column when alops.yaml names none (used only when the data has it).
DEFAULT_LABEL = "label"
KEY = ("datasets", "dev", "build")


@dataclass(frozen=True)
class Outliers:
    """Which rows are numeric outliers and how many the dev set takes."""

    rule: str  # "iqr" or "zscore"
    threshold: float
    columns: tuple[str, ...] | None  # None: every numeric column but the strata
    max_share: float


@dataclass(frozen=True)
class BuildSpec:
    """``datasets.dev.build`` with defaults and command-line overrides applied."""

    root: Path
    source: str
    output: str
    format: str = "auto"
    manifest: str = "manifest.csv"
    fraction: float | None = DEFAULT_FRACTION
    count: int | None = None
    label: str | None = None  # None: the column DEFAULT_LABEL when the data has one
    split: str | None = None
    stratify: tuple[str, ...] = ()
    seed: int = 0
    outliers: Outliers | None = None  # None: no outlier rule (alops.yaml has no `outliers:`)
    corrupt_max_share: float = 0.02
    where: dict[str, str] = field(default_factory=dict, compare=False)  # key → "alops.yaml:LINE"

    def at(self, key: str) -> str:
        """``alops.yaml:LINE: datasets.dev.build.KEY`` for messages."""
        place = self.where.get(key) or self.where.get("") or "alops.yaml"
        return f"{place}: {'.'.join(KEY)}.{key}"


def build_spec(
    config: Config, *, fraction: float | None = None, count: int | None = None, seed: int | None = None
) -> BuildSpec:
    """The build settings of ``config``; ``fraction``/``count``/``seed`` override the file's.

    ConfigError when ``datasets.dev.build`` is missing or both sizes are given.
    """
    build: dict[str, Any] | None = config.document.data["datasets"]["dev"].get("build")
    if not build:
        raise ConfigError(
            f"{config.where('datasets', 'dev')}: datasets.dev.build is not set: add at least "
            "`source:` (the full data) and `output:` (where the dev set goes); see `alops config schema`"
        )
    if fraction is not None and count is not None:
        raise ConfigError("give either --fraction or --count, not both")
    if fraction is not None and not 0 < fraction <= 1:
        raise ConfigError(f"--fraction {fraction:g} is out of range: give a share in (0, 1], e.g. 0.1")
    if count is not None and count < 1:
        raise ConfigError(f"--count {count} is out of range: give a number of rows of at least 1")
    if seed is not None and seed < 0:
        raise ConfigError(f"--seed {seed} is out of range: give a whole number of at least 0")
    if fraction is None and count is None:
        fraction, count = build.get("fraction"), build.get("count")
        if fraction is None and count is None:
            fraction = DEFAULT_FRACTION
    where = {key: config.where(*KEY, key) for key in build}
    where[""] = config.where(*KEY)
    out = build.get("outliers")
    outliers = None
    if out is not None:
        rule = out.get("rule") or _default("outliers", "rule")
        outliers = Outliers(
            rule=rule,
            threshold=float(out.get("threshold") or RULE_THRESHOLDS[rule]),
            columns=tuple(out["columns"]) if "columns" in out else None,
            max_share=float(out.get("max_share", _default("outliers", "max_share"))),
        )
    return BuildSpec(
        root=config.root,
        source=build["source"],
        output=build["output"],
        format=build.get("format", _default("format")),
        manifest=build.get("manifest", _default("manifest")),
        fraction=float(fraction) if fraction is not None else None,
        count=int(count) if count is not None else None,
        label=build.get("label"),
        split=build.get("split"),
        stratify=tuple(build.get("stratify", ())),
        seed=int(seed if seed is not None else build.get("seed", _default("seed"))),
        outliers=outliers,
        corrupt_max_share=float((build.get("corrupt") or {}).get("max_share", _default("corrupt", "max_share"))),
        where=where,
    )


def _default(*keys: str) -> Any:
    node = schema()["definitions"]["devset_build"]
    for key in keys:
        node = node["properties"][key]
    return node.get("default")
