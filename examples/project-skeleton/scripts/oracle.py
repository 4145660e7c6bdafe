"""A labelling oracle: answer a batch from `alops al query` with the digits' true labels.

    python scripts/oracle.py BATCH_DIR OUT [--noise 0.05] [--seed 0] [--annotator oracle]

make_data.py blanks the labels of the pool; the truth is still in scikit-learn's
digits, which make_data.py numbers in order (sample d0123 is image 123), so no
file of answers exists for anyone to read by mistake. The oracle stands in for
the annotators of a real project: it reads BATCH_DIR/batch.jsonl (or batch.csv,
or Label Studio's tasks.json) and writes OUT, a label file `alops al ingest OUT`
accepts: CSV with columns id, label, annotator, labelled_at (ISO 8601, UTC) and
strategy (the query's, so the round's record in the label log names it).

--noise P answers that share of the batch with a typo outside the label set
("3O": a letter O typed after the digit), which ingest rejects with its reason:
a way to see the rejects report.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

from sklearn.datasets import load_digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("batch_dir", type=Path, help="the folder `alops al query` wrote")
    parser.add_argument("out", type=Path, help="the label file to write (CSV)")
    parser.add_argument("--noise", type=float, default=0.0, help="share of answers given as a typo (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="which answers the noise hits")
    parser.add_argument("--annotator", default="oracle")
    args = parser.parse_args()
    if not 0 <= args.noise <= 1:
        parser.error(f"--noise {args.noise}: give a share between 0 and 1")

    batch = read_batch(args.batch_dir)
    truth = load_digits().target
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rng = random.Random(args.seed)
    typos = set(rng.sample(range(len(batch)), round(len(batch) * args.noise)))
    rows = []
    for k, (sample, strategy) in enumerate(batch):
        number = sample[1:]
        if not (sample.startswith("d") and number.isdigit() and int(number) < len(truth)):
            sys.exit(
                f"{args.batch_dir}: sample id {sample!r} is not one of the digits (d0000 to d{len(truth) - 1:04d})"
            )
        label = str(truth[int(number)])
        rows.append([sample, label + "O" if k in typos else label, args.annotator, now, strategy])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "label", "annotator", "labelled_at", "strategy"])
        writer.writerows(rows)
    partial.replace(args.out)  # never a half-written label file
    print(f"oracle: labelled {len(rows)} samples of {args.batch_dir} into {args.out} ({len(typos)} typos)")


def read_batch(folder: Path) -> list[tuple[str, str]]:
    """The batch's (sample id, strategy) pairs, in its order, from whichever of the query's files is there."""
    if (folder / "batch.jsonl").is_file():
        lines = (folder / "batch.jsonl").read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        return [(str(row["id"]), str(row.get("strategy") or "")) for row in rows]
    if (folder / "batch.csv").is_file():
        with (folder / "batch.csv").open(newline="", encoding="utf-8") as fh:
            return [(row["id"], row.get("strategy") or "") for row in csv.DictReader(fh)]
    if (folder / "tasks.json").is_file():
        tasks = json.loads((folder / "tasks.json").read_text("utf-8"))
        return [(str(task["data"]["sample_id"]), str(task["data"].get("strategy") or "")) for task in tasks]
    sys.exit(f"{folder} holds no batch (batch.jsonl, batch.csv or tasks.json): run `alops al query` first")


if __name__ == "__main__":
    main()
