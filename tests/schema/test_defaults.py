"""Defaults: written once (the schema's `default` keywords), applied after validation, on a copy."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from alops import yamlfile
from alops.config import load_config, validate_document
from alops.roles import DEFAULT_PATTERNS, ROLE_DEFAULTS, ROLES
from alops.schema import _check, schema
from alops.schema.defaults import apply_defaults, defaults_at

HERE = Path(__file__).parents[1]  # tests/
VALID = sorted((HERE / "config" / "valid").glob("*.yml")) + [HERE.parent / "examples/project-skeleton/alops.yaml"]
MINIMAL = {
    "version": 1,
    "datasets": {"full": {"targets": ["f"]}, "dev": {"targets": ["d"]}},
    "pipeline": {"train": ["t"]},
}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_validation_leaves_the_document_as_the_file_wrote_it(path: Path) -> None:
    doc = yamlfile.load(path)
    before = copy.deepcopy(doc.data)
    validate_document(doc)
    assert doc.data == before
    _check.validate(doc.data)  # the compiled check on its own writes nothing either
    assert doc.data == before
    config = load_config(path)
    assert config.document.data == before


def test_defaults_are_seen_only_in_the_typed_config(tmp_path: Path) -> None:
    path = tmp_path / "alops.yaml"
    path.write_text(
        "version: 1\n"
        "datasets:\n"
        "  full: {targets: [f]}\n"
        "  dev: {targets: [d], build: {source: data/full, output: data/dev, outliers: {rule: zscore}}}\n"
        "pipeline: {train: [t]}\n"
    )
    config = load_config(path)
    written = config.document.data
    assert set(written) == {"version", "datasets", "pipeline"}
    assert written["datasets"]["dev"]["build"] == {
        "source": "data/full",
        "output": "data/dev",
        "outliers": {"rule": "zscore"},
    }
    assert config.branches == DEFAULT_PATTERNS and config.runners == {"cpu": (), "gpu": ("gpu",)}
    build = config.devset.build
    assert build is not None
    assert (build.format, build.manifest, build.seed) == ("auto", "manifest.csv", 0)
    assert (build.fraction, build.count) == (0.1, None)
    assert build.outliers is not None and (build.outliers.threshold, build.outliers.max_share) == (3.0, 0.02)
    assert build.corrupt_max_share == 0.02 and build.stratify == ()


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_a_document_with_its_defaults_is_still_valid(path: Path) -> None:
    """No default contradicts the schema: e.g. `fraction` is not filled in beside `count`."""
    data = apply_defaults(schema(), yamlfile.load(path).data)
    assert jsonschema.Draft7Validator(schema()).is_valid(data)


def test_apply_defaults_works_on_a_copy() -> None:
    data = copy.deepcopy(MINIMAL)
    out = apply_defaults(schema(), data)
    assert data == MINIMAL
    out["runners"]["gpu"].append("changed")
    assert defaults_at(schema(), "runners")["gpu"] == ["gpu"], "a default is copied, never shared"


def test_a_mapping_without_a_default_stays_missing() -> None:
    data = copy.deepcopy(MINIMAL)
    data["datasets"]["dev"]["build"] = {"source": "s", "output": "o"}
    out = apply_defaults(schema(), data)
    assert "outliers" not in out["datasets"]["dev"]["build"], "no `outliers:`: no outlier rule"
    assert "parameters" not in out and "active_learning" not in out and "quality" not in out
    assert out["datasets"]["dev"]["check"]["ks_pvalue"] == 0.01, "`check:` defaults to {} and its keys fill in"


@pytest.mark.parametrize(
    ("outliers", "threshold"),
    [({}, 1.5), ({"rule": "iqr"}, 1.5), ({"rule": "zscore"}, 3), ({"rule": "zscore", "threshold": 2}, 2)],
)
def test_the_outlier_threshold_defaults_by_rule(outliers: dict[str, Any], threshold: float) -> None:
    data = copy.deepcopy(MINIMAL)
    data["datasets"]["dev"]["build"] = {"source": "s", "output": "o", "outliers": outliers}
    assert apply_defaults(schema(), data)["datasets"]["dev"]["build"]["outliers"]["threshold"] == threshold


@pytest.mark.parametrize(("size", "fraction"), [({}, 0.1), ({"count": 5}, None), ({"fraction": 0.5}, 0.5)])
def test_the_fraction_defaults_only_without_a_count(size: dict[str, Any], fraction: float | None) -> None:
    data = copy.deepcopy(MINIMAL)
    data["datasets"]["dev"]["build"] = {"source": "s", "output": "o", **size}
    assert apply_defaults(schema(), data)["datasets"]["dev"]["build"].get("fraction") == fraction


def test_each_entry_of_a_mapping_of_named_entries_takes_its_defaults() -> None:
    data = copy.deepcopy(MINIMAL)
    data["schedules"] = {
        "nightly": {"cron": "0 3 * * *", "ref": "al/x"},
        "off": {"cron": "0 4 * * *", "ref": "main", "active": False},
    }
    filled = apply_defaults(schema(), data)["schedules"]
    assert filled["nightly"] == {"cron": "0 3 * * *", "ref": "al/x", "timezone": "UTC", "active": True, "variables": {}}
    assert filled["off"]["active"] is False
    assert "timezone" not in data["schedules"]["nightly"]


def test_role_defaults_are_the_schema_s() -> None:
    flows = defaults_at(schema(), "flows")
    assert list(flows) == list(ROLES)
    for role in ROLES:
        assert (ROLE_DEFAULTS[role].dataset, ROLE_DEFAULTS[role].push) == (flows[role]["dataset"], flows[role]["push"])
    assert defaults_at(schema(), "branches") == DEFAULT_PATTERNS


def _defaults(node: Any, via: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        if "default" in node:
            yield via, node
        for key, value in node.items():
            if key in ("properties", "definitions", "patternProperties"):
                for sub in value.values():
                    yield from _defaults(sub, (*via, key))
            elif key != "default":
                yield from _defaults(value, (*via, key))
    elif isinstance(node, list):
        for item in node:
            yield from _defaults(item, via)


def test_every_default_is_one_apply_defaults_reaches() -> None:
    """A default under `items` or `patternProperties` would never be filled in: the walker follows only
    `properties`, `additionalProperties`, `$ref`, `allOf` and `then`/`else`, whose `if` may use only
    `required` and `const`."""
    found = list(_defaults(schema(), ()))
    assert len(found) > 20
    for via, _ in found:
        assert not {"items", "patternProperties", "anyOf", "oneOf", "not"} & set(via), via
    # (parameters.constraints has a property named `if`: a schema with a type, not a condition)
    conditions = [node["if"] for node in _nodes(schema()) if "if" in node and "type" not in node["if"]]
    # the outlier threshold, the fraction, k-center needs embeddings, the reviewer policy needs a reviewer
    assert len(conditions) == 4
    for condition in conditions:
        assert set(condition) <= {"required", "properties"}
        assert all(set(sub) == {"const"} for sub in condition.get("properties", {}).values())


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)
