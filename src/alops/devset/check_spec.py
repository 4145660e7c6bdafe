"""What `alops devset check` reads from ``alops.yaml``: ``datasets.dev.build`` and ``.check``.

The typed :class:`Config` does not carry these sections (yet), so they are read
here from the validated document, with the defaults the schema declares: the
schema stays the one place a default is written down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alops.config import Config, schema
from alops.errors import ConfigError


@dataclass(frozen=True)
class CheckSpec:
    """The dev set's build settings and the check's thresholds, defaults applied."""

    source: str
    output: str
    format: str
    manifest: str
    label: str | None  # None: the column DEFAULT_LABEL when every table has one
    split: str | None
    stratify: tuple[str, ...]
    outlier_rule: str | None  # None: no outlier rule configured
    outlier_threshold: float
    outlier_columns: tuple[str, ...] | None  # None: every numeric column but label and split
    outlier_max_share: float
    corrupt_max_share: float
    ks_pvalue: float
    chi2_pvalue: float
    psi_max: float
    share_tolerance: float


#: The label column when alops.yaml names none (used when the data has it, as the builder does).
DEFAULT_LABEL = "label"
#: The threshold of each outlier rule when alops.yaml sets none (the schema's description says so).
RULE_THRESHOLDS = {"iqr": 1.5, "zscore": 3.0}


def spec_from(config: Config) -> CheckSpec:
    """The check's settings; ConfigError when ``datasets.dev.build`` is missing."""
    dev = config.document.data["datasets"]["dev"]
    build: dict[str, Any] | None = dev.get("build")
    if not build:
        raise ConfigError(
            f"{config.where('datasets', 'dev')}: datasets.dev.build is not set: add source (the full data) and "
            "output (the dev set) so that alops knows what to compare; see `alops config schema`"
        )
    check: dict[str, Any] = dev.get("check") or {}
    outliers: dict[str, Any] | None = build.get("outliers")
    rule = (outliers.get("rule") or _default("devset_build", "outliers", "rule")) if outliers is not None else None
    return CheckSpec(
        source=build["source"],
        output=build["output"],
        format=build.get("format", _default("devset_build", "format")),
        manifest=build.get("manifest", _default("devset_build", "manifest")),
        label=build.get("label"),
        split=build.get("split"),
        stratify=tuple(build.get("stratify", ())),
        outlier_rule=rule,
        outlier_threshold=float((outliers or {}).get("threshold") or RULE_THRESHOLDS.get(rule or "iqr", 1.5)),
        outlier_columns=tuple(outliers["columns"]) if outliers and "columns" in outliers else None,
        outlier_max_share=float((outliers or {}).get("max_share", _default("devset_build", "outliers", "max_share"))),
        corrupt_max_share=float(
            (build.get("corrupt") or {}).get("max_share", _default("devset_build", "corrupt", "max_share"))
        ),
        ks_pvalue=float(check.get("ks_pvalue", _default("devset_check", "ks_pvalue"))),
        chi2_pvalue=float(check.get("chi2_pvalue", _default("devset_check", "chi2_pvalue"))),
        psi_max=float(check.get("psi_max", _default("devset_check", "psi_max"))),
        share_tolerance=float(check.get("share_tolerance", _default("devset_check", "share_tolerance"))),
    )


def _default(definition: str, *keys: str) -> Any:
    node = schema()["definitions"][definition]
    for key in keys:
        node = node["properties"][key]
    return node["default"]
