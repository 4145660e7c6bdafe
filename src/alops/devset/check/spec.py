"""What `alops devset check` reads from ``alops.yaml``: ``datasets.dev.build`` and ``.check``.

The build settings are the builder's own (:func:`~alops.devset.build.spec.build_spec`),
so the check compares against exactly what the builder was told to produce; the
thresholds come typed, defaults applied, from :attr:`alops.config.Config.devset`.
"""

from __future__ import annotations

from dataclasses import dataclass

from alops.config import Config
from alops.devset.build.spec import DEFAULT_LABEL, build_spec

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
    """The check's settings; ConfigError when ``datasets.dev.build`` is missing."""
    build = build_spec(config)
    check = config.devset.check
    out = build.outliers or config.devset.outlier_defaults  # no rule: the check still bounds with `outliers: {}`
    return CheckSpec(
        source=build.source,
        output=build.output,
        format=build.format,
        manifest=build.manifest,
        label=build.label,
        split=build.split,
        stratify=build.stratify,
        outlier_rule=build.outliers.rule if build.outliers else None,
        outlier_threshold=out.threshold,
        outlier_columns=build.outliers.columns if build.outliers else None,
        outlier_max_share=out.max_share,
        corrupt_max_share=build.corrupt_max_share,
        ks_pvalue=check.ks_pvalue,
        chi2_pvalue=check.chi2_pvalue,
        psi_max=check.psi_max,
        share_tolerance=check.share_tolerance,
    )
