"""Model packages made by hand (helper B's builder is not used): the skeleton's real model, toy ones.

Used by tests/serve (its conftest.py) and tests/cli/test_serve.py.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path
from typing import Any

SKELETON = Path(__file__).resolve().parents[1] / "examples" / "project-skeleton"
COMMIT = "c" * 40

# A toy predictor: the model file holds the prediction of every row; "raise" rows fail like buggy code does.
TOY = """
from pathlib import Path


class Toy:
    def __init__(self, answer):
        self.answer = answer

    def predict(self, instances):
        if instances == ["value-error"]:
            raise ValueError("instance 0: not a row this model takes")
        if instances == ["crash"]:
            raise KeyError("secret internals")
        if instances == ["wrong-length"]:
            return []
        if instances == ["nan"]:
            return [float("nan")]
        return [self.answer for _ in instances]


def load(model_dir):
    return Toy(int((Path(model_dir) / "answer.txt").read_text()))
"""


def write_package(
    dest: Path,
    *,
    source: str = TOY,
    files: dict[str, bytes] | None = None,
    requirements: list[str] | None = None,
    **meta: Any,
) -> Path:
    """A package folder as `alops package` extracts one: alops-package.json, model/, predictor.py, the manifest."""
    dest.mkdir(parents=True)
    doc: dict[str, Any] = {
        "format": 1,
        "model": "digits",
        "version": "1.2.0",
        "commit": COMMIT,
        "model_dir": "model",
        "predictor": "predictor.py",
        "requirements": requirements if requirements is not None else ["scikit-learn==1.5.2", "numpy==2.1.0"],
        "metrics": {"accuracy": 0.97},
        "created": "2026-12-02T08:00:00Z",
        "alops": "0.1.0",
        **meta,
    }
    (dest / "alops-package.json").write_text(json.dumps(doc, indent=2))
    (dest / "model").mkdir()
    for name, content in (files if files is not None else {"answer.txt": b"7"}).items():
        (dest / "model" / name).write_bytes(content)
    (dest / "predictor.py").write_text(source)
    (dest / "alops-manifest.json").write_text(json.dumps({"alops_manifest": 1, "commit": COMMIT}))
    return dest


def skeleton_model() -> bytes:
    """The skeleton's model as its train stage builds it (params.yaml's logreg), fitted on scikit-learn's digits."""
    import yaml
    from sklearn.datasets import load_digits

    spec = importlib.util.spec_from_file_location("skeleton_train", SKELETON / "src" / "train.py")
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    params = yaml.safe_load((SKELETON / "params.yaml").read_text())["train"]
    model = train.build(params)
    digits = load_digits()
    model.fit(digits.data, digits.target)
    return pickle.dumps(model)


def write_digits_package(dest: Path) -> Path:
    """A package of the skeleton: its logreg fitted on load_digits and its src/predict.py."""
    return write_package(
        dest, source=(SKELETON / "src" / "predict.py").read_text(), files={"model.pkl": skeleton_model()}
    )


def digit_rows(count: int) -> tuple[list[list[float]], list[int]]:
    """The first ``count`` images of load_digits as request rows, with their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data[:count].tolist(), digits.target[:count].tolist()
