"""``alops.devset.dataset.parquet``: Parquet tables opened, streamed, sampled and written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from alops.devset.dataset import parquet
from alops.errors import ConfigError


def test_batches_stream_the_table_and_refuse_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(10)), "s": [b"ok"] * 7 + [b"\xff"] + [b"ok"] * 2}), path)
    handle = parquet.open_parquet(path)
    assert [b.num_rows for b in parquet.batches(handle, path)] == [10]  # bytes: not text, no check
    bad = tmp_path / "bad.parquet"
    binary = pa.array([b"ok"] * 7 + [b"\xff"] + [b"ok"] * 2, pa.binary())
    pq.write_table(pa.table({"s": binary.view(pa.string())}), bad)
    with pytest.raises(ConfigError, match=r"column 's', row 8: text that is not UTF-8"):
        list(parquet.batches(parquet.open_parquet(bad), bad))


def test_a_file_that_is_not_parquet_and_numeric_columns(tmp_path: Path) -> None:
    (tmp_path / "no.parquet").write_text("a,b\n")
    with pytest.raises(ConfigError, match="no.parquet: cannot be read as a Parquet table"):
        parquet.open_parquet(tmp_path / "no.parquet")
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"i": [1, None], "f": [0.5, 1.5], "s": ["a", None], "b": [True, False]}), path)
    handle = parquet.open_parquet(path)
    assert parquet.numeric(handle) == ("i", "f")
    batch = next(parquet.batches(handle, path))
    assert parquet.floats(batch.column("i"))[0] == 1.0 and np.isnan(parquet.floats(batch.column("i"))[1])
    codes, values = parquet.texts(batch.column("s"))
    assert [values[c] for c in codes] == ["a", ""]  # missing: the empty value (unlabelled)
    out = tmp_path / "out.parquet"
    parquet.write(out, handle.schema_arrow, [batch.slice(1, 1)])
    assert pq.read_table(out).to_pylist() == [{"i": None, "f": 1.5, "s": None, "b": False}]
