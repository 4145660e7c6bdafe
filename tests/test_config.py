from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from alops import config as cfg
from alops import yamlfile
from alops.config import Flow, load_config
from alops.errors import EXIT_CONFIG, ConfigError
from alops.roles import DEFAULT_PATTERNS, ROLES
from alops.schema import _check, schema
from alops.sections import DevsetCheck

HERE = Path(__file__).parent
VALID = sorted((HERE / "config" / "valid").glob("*.yml")) + [HERE.parent / "examples/project-skeleton/alops.yaml"]
INVALID = sorted((HERE / "config" / "invalid").glob("*.yml"))


def expectation(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' line"
    return first[len("# expect: ") :]


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 50


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid(path: Path) -> None:
    config = load_config(path)
    assert set(config.flows) == set(ROLES)
    assert config.datasets["dev"].targets


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid(path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert expectation(path) in message
    assert message.startswith(str(path)), "every message starts with the file's name"
    assert info.value.exit_code == EXIT_CONFIG
    assert "Traceback" not in message
    # Safe to print: nothing a terminal acts on, no secret, no long run of the file's text.
    assert all(c.isprintable() or c == "\n" for c in message)
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    for secret in (line[len("# secret: ") :] for line in lines if line.startswith("# secret: ")):
        assert secret not in message
    for word in (w for line in lines if not line.startswith("#") for w in re.split(r"[\s:{},\[\]]+", line)):
        assert len(word) <= 60 or word not in message, "quote only a short excerpt of a value"


def _parses(path: Path) -> bool:
    try:
        yamlfile.load(path)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("path", [p for p in INVALID + VALID if _parses(p)], ids=lambda p: p.stem)
def test_compiled_check_agrees_with_jsonschema(path: Path) -> None:
    """The fast check used on every CI job accepts exactly what jsonschema accepts."""
    doc = yamlfile.load(path)
    slow_ok = jsonschema.Draft7Validator(schema()).is_valid(doc.data)
    try:
        _check.validate(doc.data)
        fast_ok = True
    except _check.JsonSchemaValueException:
        fast_ok = False
    assert fast_ok == slow_ok


@pytest.mark.parametrize(("version", "valid"), [(1, True), (1.0, True), (True, False), ("1", False), (2, False)])
def test_compiled_check_keeps_json_types_apart(version: object, valid: bool) -> None:
    """`const` is compiled as a one-value `enum`: true is still not 1 (Python says True == 1)."""
    data = {"version": version, "datasets": {"full": {"targets": ["f"]}, "dev": {"targets": ["d"]}}}
    data["pipeline"] = {"train": ["t"]}
    assert jsonschema.Draft7Validator(schema()).is_valid(data) is valid
    try:
        _check.validate(data)
        fast_ok = True
    except _check.JsonSchemaValueException:
        fast_ok = False
    assert fast_ok is valid


def test_compiled_check_is_up_to_date() -> None:
    from alops.schema.__main__ import generate

    shipped = (Path(cfg.__file__).parent / "schema" / "_check.py").read_text()
    assert shipped == generate(), "run `python -m alops.schema` after editing alops.schema.json"


def test_schema_is_valid_draft7() -> None:
    jsonschema.Draft7Validator.check_schema(schema())


def test_line_numbers_point_at_the_key(tmp_path: Path) -> None:
    path = tmp_path / "alops.yaml"
    path.write_text(
        "version: 1\n"
        "datasets:\n"
        "  full: {targets: [f]}\n"
        "  dev:\n"
        "    targets: [d]\n"
        "    remote: 'bad name'\n"
        "pipeline:\n"
        "  train: [t]\n"
        "flows:\n"
        "  feature: {dataset: huge}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path} is invalid (2 problems); see `alops config schema` for every key:"
    assert lines[1].startswith(f"  {path}:6: datasets.dev.remote: 'bad name' is not valid here")
    assert lines[2] == f"  {path}:10: flows.feature.dataset: 'huge' is not allowed; use one of: dev, full"


def test_many_problems_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "alops.yaml"
    extra = "".join(f"junk{i}: 1\n" for i in range(30))
    path.write_text(
        "version: 1\ndatasets: {full: {targets: [f]}, dev: {targets: [d]}}\npipeline: {train: [t]}\n" + extra
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "(30 problems)" in text
    assert "… and 10 more" in text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{tmp_path / 'nope.yaml'}: file not found")):
        load_config(tmp_path / "nope.yaml")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_defaults_fill_in() -> None:
    config = load_config(HERE / "config" / "valid" / "minimal.yml")
    assert config.branches == DEFAULT_PATTERNS
    assert config.flows["feature"] == Flow(
        "feature", "dev", "cpu", ("plan", "validate", "data", "train", "evaluate"), False
    )
    assert config.flows["experiment"].dataset == "full" and config.flows["experiment"].push
    assert config.runners == {"cpu": (), "gpu": ("gpu",)}
    assert config.pipeline.evaluate == () and config.pipeline.metrics == ()
    assert config.parameters is None
    assert config.devset.build is None
    assert config.devset.check == DevsetCheck(ks_pvalue=0.01, chi2_pvalue=0.01, psi_max=0.2, share_tolerance=0.5)


def test_overrides_and_placeholders() -> None:
    config = load_config(HERE / "config" / "valid" / "everything.yml")
    assert config.flows["experiment"].push is False
    assert config.flows["experiment"].dataset == "full"
    assert config.pipeline.stages("train", dataset="dev", role="feature") == ("prepare@dev", "train@dev-feature")
    assert config.parameters is not None and config.parameters.allowed["train.augment"] == (True, False)
    assert config.parameters.file == "conf/params.yaml"
    assert config.datasets["full"].remote == "s3-full"
    assert config.runners == {"cpu": ("docker", "linux"), "gpu": ("gpu-a100", "cuda:12")}
    build = config.devset.build
    assert build is not None and (build.fraction, build.count, build.seed) == (0.05, None, 7)
    assert build.outliers is not None and (build.outliers.rule, build.outliers.threshold) == ("iqr", 3.0)
    assert config.devset.check.psi_max == 0.2 and config.devset.check.share_tolerance == 0.5  # the last one a default


def test_written_tells_the_file_from_its_defaults() -> None:
    config = load_config(HERE / "config" / "valid" / "everything.yml")
    assert config.written("runners", "cpu") and config.written("datasets", "dev", "build", "seed")
    assert not config.written("datasets", "dev", "check", "share_tolerance")
    minimal = load_config(HERE / "config" / "valid" / "minimal.yml")
    assert not minimal.written("runners") and not minimal.written("runners", "gpu")
    assert minimal.runners["gpu"] == ("gpu",)


def test_merge_keys_keep_explicit_values() -> None:
    config = load_config(HERE / "config" / "valid" / "anchors-and-merge.yml")
    assert config.datasets["full"].remote == "storage"
    assert config.datasets["full"].targets == ("data/full.dvc", "data/pool.dvc")


@pytest.mark.parametrize("pattern", ["feature/*", "//", "/x", "/(/", "/a/", "/x/g", "/(?=x)y/", "/(a)\\1/"])
def test_compile_pattern_refuses(pattern: str) -> None:
    with pytest.raises(ConfigError):
        cfg.compile_pattern(pattern)


def test_semantic_problems_are_reported_together(tmp_path: Path) -> None:
    """Every problem is reported at once, with the right line, even when the schema passes."""
    path = tmp_path / "alops.yaml"
    path.write_text(
        "version: 1\n"
        "datasets: {full: {targets: [/abs.dvc]}, dev: {targets: [d]}}\n"
        "pipeline: {train: ['t{'], metrics: [../m.json]}\n"
        "branches: {feature: '/^(?<=x)/'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert lines[0].endswith("(4 problems); see `alops config schema` for every key:")
    assert [line.split(": ")[1] for line in lines[1:]] == [
        "branches.feature",
        "pipeline.train[0]",
        "datasets.full.targets[0]",
        "pipeline.metrics[0]",
    ]
