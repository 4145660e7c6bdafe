"""``alops.devset.check.spec``: the check's thresholds from the typed Config.devset, and the builder's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alops.config import load_config
from alops.devset.check.spec import spec_from


def config_with(root: Path, **dev: Any) -> Path:
    dev = {"targets": ["data/dev.dvc"], "build": {"source": "full.csv", "output": "dev.csv"}, **dev}
    data = {"version": 1, "datasets": {"full": {"targets": ["f.dvc"]}, "dev": dev}, "pipeline": {"train": ["t"]}}
    (root / "alops.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root / "alops.yaml"


def test_thresholds_default_to_the_schema_s(tmp_path: Path) -> None:
    spec = spec_from(load_config(config_with(tmp_path)))
    assert (spec.ks_pvalue, spec.chi2_pvalue, spec.psi_max, spec.share_tolerance) == (0.01, 0.01, 0.2, 0.5)
    # No outlier rule: none is checked, and the bounds the check still draws are those of `outliers: {}`.
    assert (spec.outlier_rule, spec.outlier_threshold, spec.outlier_max_share) == (None, 1.5, 0.02)


def test_thresholds_written_in_the_file_win(tmp_path: Path) -> None:
    build = {"source": "full.csv", "output": "dev.csv", "outliers": {"rule": "zscore", "max_share": 0.1}}
    spec = spec_from(load_config(config_with(tmp_path, build=build, check={"psi_max": 1, "ks_pvalue": 0.05})))
    assert (spec.ks_pvalue, spec.chi2_pvalue, spec.psi_max, spec.share_tolerance) == (0.05, 0.01, 1.0, 0.5)
    assert (spec.outlier_rule, spec.outlier_threshold, spec.outlier_max_share) == ("zscore", 3.0, 0.1)
    assert (spec.source, spec.output, spec.format) == ("full.csv", "dev.csv", "auto")
