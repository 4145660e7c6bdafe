"""Stage evaluate@<dataset>: score the model on the test split into metrics/<dataset>.json.

It also writes metrics/<dataset>-confusion.csv (actual,predicted: one row per
test sample), the confusion data of `dvc plots show` and `alops report`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from predict import load_model
from sklearn.metrics import accuracy_score, f1_score


def main(dataset: str) -> None:
    model = load_model(Path("models") / dataset)  # src/predict.py's: scikit-learn's or the torch MLP
    scores = {}
    test_pairs: list[tuple[int, int]] = []
    for split in ("validation", "test"):
        data = np.loadtxt(Path("data/prepared") / dataset / f"{split}.csv", delimiter=",", skiprows=1, ndmin=2)
        labels, predicted = data[:, 0].astype(int), model.predict(data[:, 1:])
        scores[split] = (accuracy_score(labels, predicted), f1_score(labels, predicted, average="macro"), len(labels))
        if split == "test":
            test_pairs = [(int(a), int(p)) for a, p in zip(labels, predicted, strict=True)]
    accuracy, f1, rows = scores["test"]
    metrics = {
        "accuracy": round(float(accuracy), 4),
        "f1_macro": round(float(f1), 4),
        "validation_accuracy": round(float(scores["validation"][0]), 4),
        "test_rows": rows,
    }
    out = Path("metrics") / f"{dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    confusion = Path("metrics") / f"{dataset}-confusion.csv"
    confusion.write_text("actual,predicted\n" + "".join(f"{a},{p}\n" for a, p in test_pairs))
    print(f"evaluate {dataset}: accuracy {metrics['accuracy']:.4f} on {rows} test rows")


if __name__ == "__main__":
    main(sys.argv[1])
