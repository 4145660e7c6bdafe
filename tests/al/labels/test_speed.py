"""A label file of a million rows is read in seconds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from alops.al.labels import LabelFile

Read = Callable[..., LabelFile]
#: Process CPU seconds a million rows may take. Measured on a 2-core machine running seven other
#: jobs: CSV about 5 s (1.5 s of it csv and Vote building), JSONL and JSON-MIN a little more.
#: A regression to per-row O(n) work, or a collector pass per allocation burst, is 10x: caught.
CPU_SECONDS_A_MILLION = 15.0


def write_rows(path: Path, kind: str, rows: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        if kind == "csv":
            fh.write("id,label,annotator,labelled_at\n")
            fh.writelines(f"s{i},{i % 10},alice,2026-11-30T10:00:00Z\n" for i in range(rows))
        elif kind == "jsonl":
            fh.writelines(f'{{"id": "s{i}", "label": "{i % 10}"}}\n' for i in range(rows))
        else:  # Label Studio's JSON-MIN
            fh.write("[\n")
            fh.write(
                ",\n".join(
                    json.dumps(
                        {
                            "sample_id": f"s{i}",
                            "id": i,
                            "label": str(i % 10),
                            "annotator": "a@x",
                            "annotation_id": i,
                            "updated_at": "2026-11-30T10:00:00.123456Z",
                        }
                    )  # fmt: skip
                    for i in range(rows)
                )
            )
            fh.write("\n]\n")


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "rows"), [("csv", 1_000_000), ("jsonl", 200_000), ("json", 200_000)])
def test_many_rows_are_read_in_seconds(read: Read, tmp_path: Path, kind: str, rows: int) -> None:
    path = tmp_path / f"labels.{kind}"
    write_rows(path, kind, rows)
    pool = frozenset(f"s{i}" for i in range(rows))
    start = time.process_time()
    result = read(path, pool=pool, labelled=frozenset())
    spent = time.process_time() - start
    assert (len(result.labels), result.rejected, result.skipped) == (rows, (), ())
    assert result.labels[-1].sample_id == f"s{rows - 1}"
    assert spent < CPU_SECONDS_A_MILLION * rows / 1_000_000, f"{spent:.1f} s of CPU for {rows:,} rows"
