"""The pool and the labelled set as files: CSV bytes kept where rows stay, Parquet types kept."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from alops.al.ingest import tables
from alops.errors import DataError


def _csv(path: Path, data: bytes) -> tables.Table:
    path.write_bytes(data)
    return tables.read(path, "id", shown=path.name)


def test_crlf_bom_quoting_and_a_missing_last_line_end_are_kept(tmp_path: Path) -> None:
    pool = _csv(tmp_path / "pool.csv", b'\xef\xbb\xbfid,label,x\r\n"a",,1\r\nb,,"2,5"\r\nc,,"x\r\ny"\r\n')
    labelled = _csv(tmp_path / "labelled.csv", b"id,label,x\r\nz,q,0")
    assert pool.ids == ("a", "b", "c") and pool.columns == ("id", "label", "x")
    new_pool, new_labelled = tables.moved(pool, labelled, {"b": "=p", "c": "q"}, "label")
    assert new_pool == b'\xef\xbb\xbfid,label,x\r\n"a",,1\r\n'
    assert new_labelled == b'id,label,x\r\nz,q,0\r\nb,=p,"2,5"\r\nc,q,"x\r\ny"\r\n'


def test_columns_follow_the_labelled_set(tmp_path: Path) -> None:
    pool = _csv(tmp_path / "pool.csv", b"x,id,label,extra\n1,a,,e\n")
    labelled = _csv(tmp_path / "labelled.csv", b"id,x,label,split\n")
    assert tables.moved(pool, labelled, {"a": "k"}, "label")[1] == b"id,x,label,split\na,1,k,\n"
    assert tables.labels_of(labelled, "label") == {}


def test_a_row_without_every_field_stays_where_it_is_byte_for_byte(tmp_path: Path) -> None:
    """Raw data holds corrupt rows (the project's prepare stage drops them): they are never moved, never refused."""
    pool = _csv(tmp_path / "pool.csv", b"id,label,p0\na,,1\ntruncated,\nb,,2\n")
    labelled = _csv(tmp_path / "labelled.csv", b"id,label,p0\n")
    assert pool.ids == ("a", "", "b")
    new_pool, new_labelled = tables.moved(pool, labelled, {"a": "x", "b": "y"}, "label")
    assert new_pool == b"id,label,p0\ntruncated,\n"
    assert new_labelled == b"id,label,p0\na,x,1\nb,y,2\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "pool.csv is empty"),
        (b"name,label\nx,\n", "pool.csv has no column id"),
        (b"id,label\n\xff,\n", r"pool.csv is not UTF-8 \(byte 9\)"),
    ],
)
def test_files_alops_cannot_use_are_data_errors(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _csv(tmp_path / "pool.csv", data)


def test_parquet_keeps_the_labelled_sets_types(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"id": [1, 2, 3], "label": pa.nulls(3, pa.int64()), "x": [0.1, 0.2, 0.3]}), tmp_path / "p.parquet"
    )
    pq.write_table(pa.table({"id": [9], "label": [4], "x": [0.9]}), tmp_path / "l.parquet")
    pool = tables.read(tmp_path / "p.parquet", "id", shown="p.parquet")
    labelled = tables.read(tmp_path / "l.parquet", "id", shown="l.parquet")
    assert pool.ids == ("1", "2", "3") and tables.labels_of(labelled, "label") == {"9": "4"}
    new_pool, new_labelled = tables.moved(pool, labelled, {"2": "7"}, "label")
    (tmp_path / "np.parquet").write_bytes(new_pool)
    (tmp_path / "nl.parquet").write_bytes(new_labelled)
    assert pq.read_table(tmp_path / "np.parquet").column("id").to_pylist() == [1, 3]
    grown = pq.read_table(tmp_path / "nl.parquet")
    assert grown.schema == labelled.arrow.schema
    assert grown.to_pylist() == [{"id": 9, "label": 4, "x": 0.9}, {"id": 2, "label": 7, "x": 0.2}]
    with pytest.raises(DataError, match=r"l.parquet: column label \(int64\) cannot hold the new rows' values"):
        tables.moved(pool, labelled, {"2": "seven"}, "label")


def test_the_pool_and_the_labelled_set_share_one_format(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "p.parquet")
    pool = tables.read(tmp_path / "p.parquet", "id", shown="p")
    labelled = _csv(tmp_path / "l.csv", b"id,label\n")
    with pytest.raises(DataError, match="are not in the same format"):
        tables.moved(pool, labelled, {"a": "x"}, "label")
