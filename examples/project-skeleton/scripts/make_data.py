"""Write the digits data set as the project's raw data: data/full/.

    python scripts/make_data.py [--out data] [--seed 0]

The 1,797 8x8 images of scikit-learn's digits (shipped inside scikit-learn, no
download) become two CSV files per data set, with the same columns:

    labelled.csv    id, label, split (train/validation/test), p00 … p63 (0–16)
    unlabelled.csv  the same columns with label and split empty: the pool
                    active learning draws from

Like real data, the full set holds a few corrupt rows (a missing pixel written
as a dash, a non-numeric pixel, a label that is not a digit) and outliers
(images exported on a 0–255 scale); src/prepare.py drops and counts them.
Every row has every field, though: `alops al ingest` rewrites these files and
refuses a CSV row with too few or too many fields. The output is the same
bytes on every run. The dev set (data/dev/) is not made here:
`alops devset build` samples it from data/full/ as alops.yaml says.

It also starts the label log, data/labels/ (active_learning.labels), with a
README.md, so that the empty folder can be its own DVC target
(`dvc add data/labels`); an existing log is left as it is.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

UNLABELLED_SHARE = 0.2
SPLITS = (("train", 0.7), ("validation", 0.15), ("test", 0.15))
LABEL_LOG_README = """\
# The label log

`alops al ingest` adds one pair of files here per round of active learning and
never rewrites them: `round-NNNN.csv` (id, label, annotator, labelled_at, round,
source = human or pseudo, votes, confidence) and `round-NNNN.json` (the round's
record: strategy, counts, pool and labelled-set sizes after it).
"""
HEADER = ["id", "label", "split", *(f"p{i:02d}" for i in range(64))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.RandomState(args.seed)  # the legacy generator: stable across numpy versions
    digits = load_digits()
    pixels, labels = digits.data.astype(int), digits.target.astype(int)
    rows = [[f"d{i:04d}", str(labels[i]), "", *map(str, pixels[i])] for i in range(len(labels))]

    # Per class: a share goes to the unlabelled pool, the rest to train/validation/test.
    pool: set[int] = set()
    for label in range(10):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_pool = round(len(members) * UNLABELLED_SHARE)
        pool.update(int(i) for i in members[:n_pool])
        start = n_pool
        for k, (split, share) in enumerate(SPLITS):
            n = len(members) - start if k == len(SPLITS) - 1 else round((len(members) - n_pool) * share)
            for i in members[start : start + n]:
                rows[i][2] = split
            start += n
    for i in pool:
        rows[i][1] = rows[i][2] = ""

    _spoil(rows, rng)
    labelled = [row for i, row in enumerate(rows) if i not in pool]
    unlabelled = [row for i, row in enumerate(rows) if i in pool]
    _write(args.out / "full" / "labelled.csv", labelled)
    _write(args.out / "full" / "unlabelled.csv", unlabelled)
    _start_label_log(args.out / "labels")
    print(f"{args.out / 'full'}: {len(labelled)} labelled and {len(unlabelled)} unlabelled rows")


def _spoil(rows: list[list[str]], rng: np.random.RandomState) -> None:
    """Corrupt a few rows and scale a few to 0–255."""
    chosen = [int(i) for i in rng.permutation(len(rows))[:9]]
    corrupt, outliers = chosen[:6], chosen[6:]
    breakers = [
        lambda r: [*r[:-1], "-"],  # a missing pixel written as a dash
        lambda r: [*r[:10], "n/a", *r[11:]],  # a pixel that is not a number
        lambda r: [r[0], "seven", *r[2:]] if r[1] else [*r[:5], "", *r[6:]],  # a label that is not a digit
        lambda r: [r[0], "12", *r[2:]] if r[1] else [*r[:20], "1e", *r[21:]],  # a label out of range
    ]
    for k, i in enumerate(corrupt):
        rows[i] = breakers[k % len(breakers)](rows[i])
    for i in outliers:
        rows[i] = [*rows[i][:3], *(str(round(int(v) * 255 / 16)) for v in rows[i][3:])]


def _start_label_log(folder: Path) -> None:
    """The label log's folder with a README: DVC tracks a folder only once it holds a file."""
    readme = folder / "README.md"
    if not readme.exists():
        folder.mkdir(parents=True, exist_ok=True)
        readme.write_text(LABEL_LOG_README)


def _write(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


if __name__ == "__main__":
    main()
