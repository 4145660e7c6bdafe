"""What `alops devset check` reads from ``alops.yaml``: ``datasets.dev.build`` and ``.check``.

The build section is read once, by the builder's :func:`~alops.devset.build.spec.build_spec`;
the check's thresholds are read here with the defaults the schema declares, the
one place a default is written down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alops.config import Config, schema
from alops.devset.build.spec import DEFAULT_LABEL, RULE_THRESHOLDS, build_spec

__all__ = ["DEFAULT_LABEL", "CheckSpec", "spec_from"]


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


def spec_from(config: Config) -> CheckSpec:
    """The check's settings; ConfigError when ``datasets.dev.build`` is missing.

    The build settings come from the builder's own reading of ``alops.yaml``
    (:func:`alops.devset.build.spec.build_spec`), so the check compares against exactly
    what the builder was told to produce.
    """
    build = build_spec(config)
    check: dict[str, Any] = config.document.data["datasets"]["dev"].get("check") or {}
    out = build.outliers
    return CheckSpec(
        source=build.source,
        output=build.output,
        format=build.format,
        manifest=build.manifest,
        label=build.label,
        split=build.split,
        stratify=build.stratify,
        outlier_rule=out.rule if out else None,
        outlier_threshold=out.threshold if out else RULE_THRESHOLDS["iqr"],
        outlier_columns=out.columns if out else None,
        outlier_max_share=out.max_share if out else float(_default("devset_build", "outliers", "max_share")),
        corrupt_max_share=build.corrupt_max_share,
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
