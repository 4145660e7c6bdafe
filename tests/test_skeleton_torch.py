"""examples/project-skeleton with train.model: torch, trained for real on the CPU (the installed CPU build)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alops import manifest
from alops.cli import cli

pytest.importorskip("torch", reason="scripts/ensure-torch installs PyTorch's CPU build into .venv (make setup)")


def _predictor(project: Path) -> Any:
    """The project's src/predict.py as `alops serve` imports it: a module of its own."""
    spec = importlib.util.spec_from_file_location("skeleton_predict", project / "src" / "predict.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _weights(path: Path) -> dict[str, Any]:
    import torch

    return dict(torch.load(path, map_location="cpu", weights_only=True))


@pytest.fixture
def torch_run(project: Path) -> tuple[Path, dict[str, Any], str]:
    """The feature flow run with --set train.model=torch: (project, its manifest, alops run's output)."""
    subprocess.run(["git", "checkout", "--quiet", "-b", "feature/torch"], cwd=project, check=True)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # the tests train on the CPU, GPU or not
    result = CliRunner(env=env).invoke(
        cli, ["-c", str(project / "alops.yaml"), "run", "--set", "train.model=torch"], catch_exceptions=False
    )
    assert (result.exit_code, result.stderr) == (0, ""), result.stdout
    return project, manifest.load(project / manifest.FILE), result.stdout


@pytest.mark.slow
def test_alops_run_trains_the_torch_model_on_the_cpu_deterministically(
    torch_run: tuple[Path, dict[str, Any], str],
) -> None:
    project, written, out = torch_run

    assert "train: torch 2.13.0+cpu on cpu" in out and "train dev: torch fitted on" in out
    model = project / "models" / "dev"
    assert sorted(p.name for p in model.iterdir()) == ["model.pt"]  # weights, not a pickled module
    saved = _weights(model / "model.pt")
    assert saved["hyper"] == {"hidden": 64, "epochs": 40, "lr": 0.005, "batch_size": 32, "seed": 42} | {
        "classes": list(range(10))
    }
    assert saved["state_dict"]["0.weight"].shape == (64, 64)  # hidden x pixels
    metrics = json.loads((project / "metrics/dev.json").read_text())
    assert metrics["accuracy"] >= 0.85  # alops.yaml's quality threshold; 0.93 measured
    assert written["params"]["params.yaml"]["train.model"] == "torch" and written["set"] == {"train.model": "torch"}
    device = written["environment"]["device"]
    assert (device["kind"], device["visible"], device["torch"]["cuda"]) == ("cpu", "", None)
    assert device["torch"]["version"] == "2.13.0+cpu"

    # The same seed again, from scratch: the same weights and the same metrics.
    before = saved["state_dict"]
    for stage in ("train", "evaluate"):
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        subprocess.run(
            [sys.executable, f"src/{stage}.py", "dev"], cwd=project, check=True, capture_output=True, env=env
        )
    after = _weights(model / "model.pt")["state_dict"]
    assert all(bool((before[k] == after[k]).all()) for k in before)
    assert json.loads((project / "metrics/dev.json").read_text()) == metrics


@pytest.mark.slow
def test_the_torch_model_serves_and_scores(torch_run: tuple[Path, dict[str, Any], str]) -> None:
    import numpy as np

    project, _, _ = torch_run
    predictor = _predictor(project).load(project / "models" / "dev")
    test = np.loadtxt(project / "data/prepared/dev/test.csv", delimiter=",", skiprows=1, ndmin=2)
    rows = [[float(v) for v in row] for row in test[:, 1:]]
    predicted = predictor.predict(rows)
    assert len(predicted) == len(rows) and all(isinstance(p, int) for p in predicted)
    assert np.mean(np.asarray(predicted) == test[:, 0].astype(int)) >= 0.85
    with pytest.raises(ValueError, match="instance 0: expected a list of 64 pixel values"):
        predictor.predict([[1.0] * 63])

    subprocess.run([sys.executable, "src/score.py", "dev"], cwd=project, check=True, capture_output=True)
    table = (project / "scores/dev/scores.csv").read_text().splitlines()
    probabilities = np.asarray([[float(v) for v in line.split(",")[1:]] for line in table[1:]])
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-6)
    embeddings = np.load(project / "scores/dev/embeddings.npy")
    labelled = np.load(project / "scores/dev/labelled_embeddings.npy")
    train_rows = len((project / "data/prepared/dev/train.csv").read_text().splitlines()) - 1
    assert embeddings.shape == (len(table) - 1, 64) and labelled.shape == (train_rows, 64)  # train.hidden units
    assert embeddings.dtype == np.float32 and (embeddings >= 0).all()  # after the ReLU


def test_scikit_learn_models_never_import_torch(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    skeleton = Path(__file__).resolve().parents[1] / "examples" / "project-skeleton"
    digits = load_digits()
    prepared = tmp_path / "data" / "prepared" / "dev"
    prepared.mkdir(parents=True)
    rows = [
        f"{int(y)}," + ",".join(str(int(v)) for v in x)
        for x, y in zip(digits.data[:300], digits.target[:300], strict=True)
    ]
    (prepared / "train.csv").write_text("label," + ",".join(f"p{i}" for i in range(64)) + "\n" + "\n".join(rows) + "\n")
    (tmp_path / "params.yaml").write_text((skeleton / "params.yaml").read_text())
    poisoned = tmp_path / "no-torch" / "torch"  # an import of torch fails loudly
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('torch imported by a scikit-learn run')\n")
    env = {**os.environ, "PYTHONPATH": str(poisoned.parent)}
    code = (
        "import sys; sys.path.insert(1, 'src'); import predict; print(predict.load('models/dev').predict([[0] * 64]))"
    )
    (tmp_path / "src").mkdir()
    for name in ("train.py", "predict.py"):
        (tmp_path / "src" / name).write_text((skeleton / "src" / name).read_text())
    for model in ("logreg", "forest"):
        params = (skeleton / "params.yaml").read_text().replace("model: logreg", f"model: {model}")
        (tmp_path / "params.yaml").write_text(params)
        trained = subprocess.run(
            [sys.executable, "src/train.py", "dev"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert trained.returncode == 0, trained.stderr
        assert trained.stdout.startswith(f"train dev: {model} fitted on 300 rows on cpu in ")
        served = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert served.returncode == 0 and served.stdout.strip().startswith("["), served.stderr
