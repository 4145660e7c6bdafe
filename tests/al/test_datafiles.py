"""alops.al.datafiles: which .dvc files could track a path, what a .dvc file points at, dvc.lock entry splicing."""

from __future__ import annotations

import pytest

from alops.al.datafiles import candidates, identity, lock_outputs, outputs, splice
from alops.errors import ConfigError

LOCK = """\
schema: '2.0'
stages:
  make:
    cmd: python make.py
    deps:
    - path: data/pool
      hash: md5
      md5: 1111.dir
      size: 10
      nfiles: 1
    outs:
    - path: data/pool
      hash: md5
      md5: aaaa.dir
      size: 10
      nfiles: 2
    - path: other
      md5: cccc
"""


def test_candidates_are_the_path_s_own_dvc_file_then_each_folder_s() -> None:
    assert candidates("data/full/unlabelled.csv") == ["data/full/unlabelled.csv.dvc", "data/full.dvc", "data.dvc"]
    assert candidates("./data/full.dvc") == ["data/full.dvc"]


def test_identity_is_the_data_pointed_at_not_the_text() -> None:
    dvc3 = "outs:\n- md5: ab.dir\n  size: 3\n  nfiles: 1\n  hash: md5\n  path: full\n"
    reordered = "outs:\n- path: full\n  hash: md5\n  nfiles: 1\n  size: 3\n  md5: ab.dir\n"
    assert identity(dvc3, "f.dvc") == identity(reordered, "f.dvc") != identity(dvc3.replace("ab", "cd"), "f.dvc")
    assert identity(None, "f.dvc") is None
    assert outputs(dvc3, "data/full.dvc", "data/full.dvc") == ["data/full"]
    with pytest.raises(ConfigError, match=r"^data/x.dvc is not valid YAML"):
        identity("outs: [", "data/x.dvc")


def test_lock_outputs_are_outputs_only_never_dependencies() -> None:
    found = lock_outputs(LOCK, ["data/pool"])

    assert list(found) == [("make", "data/pool")]
    assert found[("make", "data/pool")].fingerprint == ("data/pool", "aaaa.dir", "", "", "10", "2")
    assert lock_outputs(None, ["data/pool"]) == {}


def test_splice_replaces_the_entry_s_lines_and_keeps_every_other_byte() -> None:
    theirs = LOCK.replace("aaaa.dir", "bbbb.dir").replace("      nfiles: 2\n", "      nfiles: 3\n")
    # The other side wrote its lists indented: the entry is re-indented to this file's column.
    theirs = theirs.replace(
        "\n    - path: data/pool\n      hash: md5\n      md5: bbbb",
        "\n    -   path: data/pool\n        hash: md5\n        md5: bbbb",
    )
    theirs = theirs.replace(
        "        md5: bbbb.dir\n      size: 10\n      nfiles: 3\n",
        "        md5: bbbb.dir\n        size: 10\n        nfiles: 3\n",
    )
    mine, other = lock_outputs(LOCK, ["data/pool"]), lock_outputs(theirs, ["data/pool"])

    new = splice(LOCK, theirs, [(mine[("make", "data/pool")], other[("make", "data/pool")])])

    assert new == LOCK.replace("md5: aaaa.dir", "md5: bbbb.dir").replace("      nfiles: 2\n", "      nfiles: 3\n")
    assert splice(LOCK, theirs, []) == LOCK


def test_splice_of_the_last_entry_of_a_file_without_a_final_newline() -> None:
    ours = LOCK.replace("other", "data/last").rstrip("\n")
    theirs = ours.replace("md5: cccc", "md5: dddd")
    mine, other = lock_outputs(ours, ["data/last"]), lock_outputs(theirs, ["data/last"])

    assert splice(ours, theirs, [(mine[("make", "data/last")], other[("make", "data/last")])]) == theirs
