"""The model's predictor: `alops serve` calls load(model_dir) once, then predict(instances) per request.

An instance is one 8x8 image as 64 pixel values from 0 to 16 (row by row, as in
data/*.csv); the prediction is its digit. A bad row is a ValueError, which the
client gets back as a 400 with this message.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

PIXELS = 64


class Digits:
    def __init__(self, model: Any) -> None:  # a fitted scikit-learn classifier (src/train.py)
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


def load(model_dir: str | Path) -> Digits:
    with (Path(model_dir) / "model.pkl").open("rb") as fh:
        return Digits(pickle.load(fh))
