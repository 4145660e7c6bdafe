"""alops.serve.predictor.load on package folders made by hand: the skeleton's real model, toy ones, broken ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.errors import ConfigError, DataError, StepError
from alops.serve.predictor import load


def test_loads_the_skeletons_model_and_predicts_digits(
    digits_package: Path, digit_rows: tuple[list[list[float]], list[int]]
) -> None:
    served = load(digits_package)
    assert (served.name, served.version, served.commit) == ("digits", "1.2.0", "c" * 40)
    rows, labels = digit_rows
    predictions = served.predictor.predict(rows)
    assert all(type(p) is int for p in predictions)
    assert sum(p == y for p, y in zip(predictions, labels, strict=True)) >= 95  # it learnt these rows


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([0] * 63, "instance 1: expected a list of 64 pixel values"),
        ("0" * 64, "instance 1: expected a list of 64 pixel values"),
        ([0] * 63 + [17], "instance 1: pixel values are numbers from 0 to 16, got 17"),
        ([0] * 63 + [-1], "got -1"),
        ([0] * 63 + [float("nan")], "got nan"),
        ([0] * 63 + [True], "got True"),
        ([0] * 63 + ["3"], "got '3'"),
    ],
)
def test_the_skeletons_predictor_names_the_bad_row(digits_package: Path, row: object, message: str) -> None:
    served = load(digits_package)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        served.predictor.predict([[0] * 64, row])


def test_two_loads_are_two_modules(make_package: Callable[..., Path]) -> None:
    first = load(make_package())
    second = load(make_package(files={"answer.txt": b"3"}))
    assert (first.predictor.predict([1]), second.predictor.predict([1])) == ([7], [3])
    assert type(first.predictor).__module__ != type(second.predictor).__module__


def test_missing_folder_and_file_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        load(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"alops-package.json: not found: .* is not a model package"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("meta", "error"),
    [
        ({"format": 2}, "format 2 is not 1"),
        ({"model": "../etc"}, "model: '../etc' is not a model name"),
        ({"version": "1.2"}, "version: '1.2' is not a version X.Y.Z"),
        ({"version": "01.2.0"}, "is not a version"),
        ({"commit": "HEAD"}, "commit: 'HEAD' is not a commit"),
        ({"model_dir": "../../etc"}, "model_dir: '../../etc' is not a relative path inside the package"),
        ({"predictor": "/tmp/evil.py"}, "predictor: '/tmp/evil.py' is not a relative path"),
        ({"predictor": 3}, "predictor: '3' is not a relative path"),
    ],
)
def test_bad_metadata_is_a_config_error(make_package: Callable[..., Path], meta: dict[str, object], error: str) -> None:
    with pytest.raises(ConfigError, match=error.replace(".", r"\.")):
        load(make_package(**meta))


def test_metadata_that_is_not_json(toy_package: Path) -> None:
    (toy_package / "alops-package.json").write_text('{"format": NaN}')
    with pytest.raises(ConfigError, match="not readable JSON"):
        load(toy_package)
    (toy_package / "alops-package.json").write_text("[1]")
    with pytest.raises(ConfigError, match="a JSON object expected"):
        load(toy_package)


def test_missing_model_or_predictor(toy_package: Path) -> None:
    (toy_package / "predictor.py").unlink()
    with pytest.raises(DataError, match=r"predictor.py: not found: the package's predictor"):
        load(toy_package)
    meta = json.loads((toy_package / "alops-package.json").read_text())
    (toy_package / "alops-package.json").write_text(json.dumps({**meta, "model_dir": "gone"}))
    with pytest.raises(DataError, match=r"gone: not found: the package's model"):
        load(toy_package)


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        ("x = 1\n", ConfigError, "no function load"),
        ("def load(model_dir):\n    return 42\n", ConfigError, "load\\(\\) returned int, which has no predict"),
        ("import no_such_module_here\n", StepError, "importing it failed: ModuleNotFoundError: .* \\(line 1\\)"),
        (
            "\n\ndef load(model_dir):\n    raise OSError('disk')\n",
            StepError,
            "load\\(.*\\) failed: OSError: disk \\(line 4\\)",
        ),
    ],
)
def test_a_broken_predictor_says_what_and_where(
    make_package: Callable[..., Path], source: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        load(make_package(source=source))
