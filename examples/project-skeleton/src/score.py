"""Stage score@<dataset>: the model's view of the unlabelled pool, for `alops al query`.

Writes scores/<dataset>/:

    scores.csv       id (the pool's stable id, d0123), then one column per class
                     ("0".."9"): the model's probability of each
    embeddings.npy   one row per row of scores.csv, in the same order: the
                     model's hidden layer (torch: train.hidden columns), its
                     decision function (logreg) or its probabilities (forest):
                     the space k-center and the hybrid spread a batch in
    labelled_embeddings.npy
                     the same for the training rows (the labelled set): k-center
                     picks what lies far from everything labelled already

Only the pool that survived src/prepare.py's cleaning is scored: a corrupt row
cannot be shown to an annotator anyway.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import numpy as np
from predict import load_model

#: The label set, as alops.yaml's active_learning.classes names it.
CLASSES = [str(digit) for digit in range(10)]


def main(dataset: str) -> None:
    model = load_model(Path("models") / dataset)  # src/predict.py's: scikit-learn's or the torch MLP
    data = np.loadtxt(Path("data/prepared") / dataset / "pool.csv", delimiter=",", skiprows=1, ndmin=2)
    # prepare.py keeps the number of an id (d0123 -> 123); make_data.py writes ids as d + four digits.
    ids = [f"d{int(n):04d}" for n in data[:, 0]]
    pixels = data[:, 1:]
    out = Path("scores") / dataset
    out.mkdir(parents=True, exist_ok=True)
    # Every class gets its column, in class order, even one the training data lacked (probability 0).
    probabilities = np.zeros((len(ids), len(CLASSES)))
    if len(ids):
        columns = [CLASSES.index(str(c)) for c in model.classes_]
        probabilities[:, columns] = model.predict_proba(pixels)
    embeddings = _embed(model, pixels)
    with (out / "scores.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", *CLASSES])
        # Nine significant digits: a row still sums to 1 as `alops al query` checks it.
        writer.writerows([sample, *(f"{p:.9g}" for p in row)] for sample, row in zip(ids, probabilities, strict=True))
    np.save(out / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32))
    train = np.loadtxt(Path("data/prepared") / dataset / "train.csv", delimiter=",", skiprows=1, ndmin=2)[:, 1:]
    np.save(out / "labelled_embeddings.npy", np.ascontiguousarray(_embed(model, train), dtype=np.float32))
    print(f"score {dataset}: {len(ids)} pool rows scored over {len(CLASSES)} classes")


def _embed(model: Any, pixels: np.ndarray) -> np.ndarray:
    """The torch MLP's hidden layer, logreg's decision function, or else (forest) the probabilities."""
    if hasattr(model, "embed"):
        return np.asarray(model.embed(pixels))  # (rows, train.hidden), zero rows included
    if not len(pixels):
        return np.zeros((0, len(CLASSES)))
    if hasattr(model, "decision_function"):
        return model.decision_function(pixels)
    columns = [CLASSES.index(str(c)) for c in model.classes_]
    out = np.zeros((len(pixels), len(CLASSES)))
    out[:, columns] = model.predict_proba(pixels)
    return out


if __name__ == "__main__":
    main(sys.argv[1])
