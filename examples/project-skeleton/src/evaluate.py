"""Stage evaluate@<dataset>: score the model on the test split into metrics/<dataset>.json."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def main(dataset: str) -> None:
    with (Path("models") / dataset / "model.pkl").open("rb") as fh:
        model = pickle.load(fh)
    scores = {}
    for split in ("validation", "test"):
        data = np.loadtxt(Path("data/prepared") / dataset / f"{split}.csv", delimiter=",", skiprows=1, ndmin=2)
        labels, predicted = data[:, 0].astype(int), model.predict(data[:, 1:])
        scores[split] = (accuracy_score(labels, predicted), f1_score(labels, predicted, average="macro"), len(labels))
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
    print(f"evaluate {dataset}: accuracy {metrics['accuracy']:.4f} on {rows} test rows")


if __name__ == "__main__":
    main(sys.argv[1])
