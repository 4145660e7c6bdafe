"""Stage train@<dataset>: fit the model named in params.yaml on the train split."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import yaml


def main(dataset: str) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    data = np.loadtxt(Path("data/prepared") / dataset / "train.csv", delimiter=",", skiprows=1, ndmin=2)
    labels, pixels = data[:, 0].astype(int), data[:, 1:]
    model = build(params)
    model.fit(pixels, labels)
    out = Path("models") / dataset
    out.mkdir(parents=True, exist_ok=True)
    with (out / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh)
    print(f"train {dataset}: {params['model']} fitted on {len(labels)} rows")


def build(params: dict):  # type: ignore[no-untyped-def]
    if params["model"] == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=params["n_estimators"], random_state=params["seed"], n_jobs=1)
    if params["model"] == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            StandardScaler(), LogisticRegression(C=params["C"], max_iter=2000, random_state=params["seed"])
        )
    raise SystemExit(f"train.model: unknown model {params['model']!r}; use logreg or forest")


if __name__ == "__main__":
    main(sys.argv[1])
