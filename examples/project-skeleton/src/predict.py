"""The model's predictor: `alops serve` calls load(model_dir) once, then predict(instances) per request.

An instance is one 8x8 image as 64 pixel values from 0 to 16 (row by row, as in
data/*.csv); the prediction is its digit. A bad row is a ValueError, which the
client gets back as a 400 with this message.

The model directory holds what src/train.py wrote: model.pkl (a scikit-learn
classifier: logreg, forest) or model.pt (the torch MLP's weights and
hyper-parameters). load_model() reads either; src/evaluate.py and src/score.py
use it too. A release ships this file alone, so it imports nothing of the project.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

PIXELS = 64
#: The torch model's file in the model directory (train.model: torch).
TORCH_FILE = "model.pt"
#: Pixel values run from 0 to 16: the MLP sees them divided by this.
SCALE = 16.0


class Digits:
    def __init__(self, model: Any) -> None:  # load_model()'s classifier
        self.model = model

    def predict(self, instances: list[Any]) -> list[int]:
        for i, row in enumerate(instances):
            check(i, row)
        import numpy as np

        return [int(digit) for digit in self.model.predict(np.asarray(instances, dtype=float))]


def check(i: int, row: object) -> None:
    if not isinstance(row, list) or len(row) != PIXELS:
        raise ValueError(f"instance {i}: expected a list of {PIXELS} pixel values")
    for value in row:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not 0 <= value <= 16:
            raise ValueError(f"instance {i}: pixel values are numbers from 0 to 16, got {value!r:.20}")


def mlp(hidden: int, classes: int) -> Any:
    """The torch model: 64 pixels -> ``hidden`` ReLU units (the embedding src/score.py writes) -> class logits."""
    from torch import nn

    return nn.Sequential(nn.Linear(PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, classes))


class TorchClassifier:
    """src/train.py's MLP behind scikit-learn's classes_, predict and predict_proba; embed() is its hidden layer.

    It computes on the CPU: a batch of 8x8 images is too small to be worth a GPU.
    """

    def __init__(self, saved: dict[str, Any]) -> None:
        import numpy as np

        hyper = saved["hyper"]
        self.hidden = int(hyper["hidden"])
        self.classes_ = np.asarray(hyper["classes"])
        self.net = mlp(self.hidden, len(self.classes_))
        self.net.load_state_dict(saved["state_dict"])
        self.net.eval()

    def _forward(self, pixels: Any, *, hidden_only: bool = False) -> Any:
        import numpy as np
        import torch

        x = torch.as_tensor(np.asarray(pixels, dtype=np.float32).reshape(-1, PIXELS) / SCALE)
        with torch.no_grad():
            out = self.net[:2](x) if hidden_only else torch.softmax(self.net(x), dim=1)
        return out.numpy().astype(np.float64)

    def predict_proba(self, pixels: Any) -> Any:
        return self._forward(pixels)

    def predict(self, pixels: Any) -> Any:
        return self.classes_[self._forward(pixels).argmax(axis=1)]

    def embed(self, pixels: Any) -> Any:
        return self._forward(pixels, hidden_only=True)


def load_model(model_dir: str | Path) -> Any:
    """The classifier src/train.py saved in ``model_dir``: the torch MLP (model.pt) or the pickled scikit-learn one."""
    folder = Path(model_dir)
    if (folder / TORCH_FILE).is_file():
        import torch

        # weights_only: tensors and plain containers only, never arbitrary pickled code.
        return TorchClassifier(torch.load(folder / TORCH_FILE, map_location="cpu", weights_only=True))
    with (folder / "model.pkl").open("rb") as fh:
        return pickle.load(fh)


def load(model_dir: str | Path) -> Digits:
    return Digits(load_model(model_dir))
