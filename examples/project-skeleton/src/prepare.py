"""Stage prepare@<dataset>: clean data/<dataset>/ into data/prepared/<dataset>/.

Raw rows that cannot be parsed (a missing field, a non-numeric pixel, a label
that is not a digit) or are out of range (pixels above 16: an image exported
on the wrong scale) are dropped and counted in stats.json. Labelled rows
without a split (labels added later, e.g. by active learning) get one here:
``prepare.test_size`` of them go to test, decided by a hash of their id so
that the same row always lands in the same split.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

import yaml

SPLITS = ("train", "validation", "test")
PIXELS = 64


def main(dataset: str) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    raw, out = Path("data") / dataset, Path("data/prepared") / dataset
    out.mkdir(parents=True, exist_ok=True)
    kept: dict[str, list[list[int]]] = {name: [] for name in (*SPLITS, "pool")}
    stats = {"rows_read": 0, "dropped_unparseable": 0, "dropped_out_of_range": 0}
    for name in ("labelled.csv", "unlabelled.csv"):
        with (raw / name).open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            for row in reader:
                stats["rows_read"] += 1
                parsed = _parse(row, len(header))
                if parsed is None:
                    stats["dropped_unparseable"] += 1
                elif max(parsed[2]) > 16:
                    stats["dropped_out_of_range"] += 1
                else:
                    row_id, label, pixels, split = parsed[0], parsed[1], parsed[2], parsed[3]
                    if label is None:
                        kept["pool"].append([int(row_id[1:]), *pixels])
                    else:
                        split = split or _assign(row_id, params["test_size"], params["seed"])
                        kept[split].append([label, *pixels])
    pixel_names = [f"p{i:02d}" for i in range(PIXELS)]
    for name, rows in kept.items():
        with (out / f"{name}.csv").open("w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["id" if name == "pool" else "label", *pixel_names])
            writer.writerows(rows)
        stats[f"{name}_rows"] = len(rows)
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    dropped = stats["dropped_unparseable"] + stats["dropped_out_of_range"]
    print(
        f"prepare {dataset}: {stats['rows_read']} rows read, {dropped} dropped "
        f"({stats['dropped_unparseable']} unparseable, {stats['dropped_out_of_range']} out of range)"
    )


def _parse(row: list[str], width: int) -> tuple[str, int | None, list[int], str] | None:
    if len(row) != width:
        return None
    row_id, label_text, split = row[0], row[1], row[2]
    try:
        pixels = [int(v) for v in row[3:]]
        label = int(label_text) if label_text else None
    except ValueError:
        return None
    if not row_id.startswith("d") or not row_id[1:].isdigit() or min(pixels) < 0:
        return None
    if label is not None and not 0 <= label <= 9 or split not in ("", *SPLITS) or (label is None and split):
        return None
    return row_id, label, pixels, split


def _assign(row_id: str, test_size: float, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{row_id}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_size else "train"


if __name__ == "__main__":
    main(sys.argv[1])
