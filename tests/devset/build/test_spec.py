"""``alops.devset.build.spec``: the build settings from the typed Config.devset, command-line overrides, locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from alops.config import load_config
from alops.devset.build.spec import BuildSpec, Outliers, build_spec
from alops.errors import ConfigError


def config_with(root: Path, build: dict[str, Any] | None) -> Path:
    dev: dict[str, Any] = {"targets": ["data/dev.dvc"]}
    if build is not None:
        dev["build"] = build
    data = {"version": 1, "datasets": {"full": {"targets": ["f.dvc"]}, "dev": dev}, "pipeline": {"train": ["t"]}}
    (root / "alops.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root / "alops.yaml"


def test_the_schema_s_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    spec = build_spec(load_config(config_with(tmp_path, {"source": "full.csv", "output": "dev.csv"})))
    assert spec == BuildSpec(
        source="full.csv",
        output="dev.csv",
        format="auto",
        manifest="manifest.csv",
        fraction=0.1,
        count=None,
        label=None,
        split=None,
        stratify=(),
        seed=0,
        outliers=None,
        corrupt_max_share=0.02,
        root=tmp_path,
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ({}, Outliers("iqr", 1.5, None, 0.02)),
        ({"rule": "zscore"}, Outliers("zscore", 3.0, None, 0.02)),
        ({"threshold": 2, "columns": ["x"], "max_share": 0}, Outliers("iqr", 2.0, ("x",), 0.0)),
    ],
)
def test_outliers_take_the_threshold_of_their_rule(tmp_path: Path, written: dict[str, Any], expected: Outliers) -> None:
    path = config_with(tmp_path, {"source": "full.csv", "output": "dev.csv", "outliers": written})
    assert build_spec(load_config(path)).outliers == expected


def test_a_count_in_the_file_leaves_no_fraction_and_the_command_line_replaces_both(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, {"source": "full.csv", "output": "dev.csv", "count": 7, "seed": 3}))
    assert (build_spec(config).fraction, build_spec(config).count) == (None, 7)
    assert (build_spec(config, fraction=0.5).fraction, build_spec(config, fraction=0.5).count) == (0.5, None)
    assert (build_spec(config, count=2).fraction, build_spec(config, count=2).count) == (None, 2)
    assert build_spec(config, seed=9).seed == 9 and build_spec(config).seed == 3


def test_at_names_the_line_of_the_key_or_of_the_section(tmp_path: Path) -> None:
    path = config_with(tmp_path, {"source": "full.csv", "output": "dev.csv"})
    spec = build_spec(load_config(path))
    lines = path.read_text().splitlines()
    assert spec.at("output") == f"{path}:{lines.index('      output: dev.csv') + 1}: datasets.dev.build.output"
    section = lines.index("    build:") + 1
    assert spec.at("manifest") == f"{path}:{section}: datasets.dev.build.manifest"  # a default: the section's line


def test_no_build_section_says_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"datasets\.dev\.build is not set: add at least `source:`"):
        build_spec(load_config(config_with(tmp_path, None)))
