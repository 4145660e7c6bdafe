"""alops.dvc.inventory: which objects targets need and which the cache holds, asked of a real DVC repository.

The repository (``conftest.py``) has a file output (``data/raw.csv``) and a
directory output (``data/dir``, two files); the functions take DVC's own
``Repo``, opened here in the test process as the DVC child opens it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from pathlib import Path
from typing import Any

import pytest

from alops.dvc import inventory
from alops.dvc.inventory import Inventory, lost

#: pygtrie, under DVC's collect_granular, warns of its own future (the child runs with warnings shown, not raised).
pytestmark = pytest.mark.filterwarnings("ignore:_NoneStep.value will soon raise:DeprecationWarning")

TARGETS = ["data/raw.csv.dvc", "data/dir.dvc"]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture
def oids(tiny_files: dict[str, str]) -> dict[str, str]:
    """Each data file's object id (DVC's md5 of its bytes)."""
    return {path: md5(text) for path, text in tiny_files.items()}


@contextmanager
def opened(root: Path) -> Iterator[Any]:
    from dvc.repo import Repo  # type: ignore[import-untyped]

    with chdir(root):  # targets are relative to the working directory, as in the child (and DVC's command line)
        repo = Repo(str(root))
        try:
            yield repo
        finally:
            repo.close()


def dir_oid(root: Path) -> str:
    text = (root / "data/dir.dvc").read_text()
    return next(w for w in text.split() if w.endswith(".dir"))


def cache_file(root: Path, oid: str) -> Path:
    return root / ".dvc/cache/files/md5" / oid[:2] / oid[2:]


def test_the_objects_of_a_file_and_a_directory_and_their_sizes(
    tiny: Path, tiny_files: dict[str, str], oids: dict[str, str]
) -> None:
    with opened(tiny) as repo:
        found = inventory.inventory(repo, TARGETS)
    tree = dir_oid(tiny)
    assert found.paths == oids | {"data/dir": tree}
    assert {k: v for k, v in found.present.items() if k != tree} == {oids[p]: len(t) for p, t in tiny_files.items()}
    assert found.present[tree] == cache_file(tiny, tree).stat().st_size  # the listing is an object too
    assert (found.missing, found.unlisted, found.complete) == (set(), set(), True)
    assert set(found.hashes) == set(found.paths.values()) and found.hashes[tree].isdir
    a, b = oids["data/dir/a.csv"], oids["data/dir/b.csv"]
    assert found.size([a, b, "not-an-object"]) == len(tiny_files["data/dir/a.csv"]) + len(tiny_files["data/dir/b.csv"])


@pytest.mark.parametrize(
    ("target", "paths"),
    [
        ("data/raw.csv", ["data/raw.csv"]),  # a tracked path stands for its .dvc file
        ("data/dir", ["data/dir", "data/dir/a.csv", "data/dir/b.csv"]),
        ("data/dir/a.csv", ["data/dir", "data/dir/a.csv", "data/dir/b.csv"]),  # inside: the whole output
    ],
)
def test_a_target_stands_for_the_outputs_it_names(tiny: Path, target: str, paths: list[str]) -> None:
    with opened(tiny) as repo:
        assert sorted(inventory.inventory(repo, [target]).paths) == paths


def test_a_directory_above_outputs_is_no_target(tiny: Path) -> None:
    from dvc.exceptions import NoOutputOrStageError  # type: ignore[import-untyped]

    with opened(tiny) as repo, pytest.raises(NoOutputOrStageError):
        inventory.inventory(repo, ["data"])  # DVC's own error: the child reports it as a tool failure


def test_an_entry_the_cache_lacks_is_missing(tiny_copy: Path, oids: dict[str, str]) -> None:
    a = oids["data/dir/a.csv"]
    cache_file(tiny_copy, a).unlink()
    with opened(tiny_copy) as repo:
        found = inventory.inventory(repo, TARGETS)
        every = inventory.everything(repo)
    assert found.missing == {a} and not found.unlisted and not found.complete
    assert a not in found.present and found.paths["data/dir/a.csv"] == a  # still named: a pull fetches it
    assert every == (set(oids.values()) - {a}) | {dir_oid(tiny_copy)}


def test_a_listing_the_cache_lacks_leaves_its_entries_unknown(tiny_copy: Path) -> None:
    tree = dir_oid(tiny_copy)
    cache_file(tiny_copy, tree).unlink()
    with opened(tiny_copy) as repo:
        found = inventory.inventory(repo, TARGETS)
    assert found.unlisted == {tree} and found.missing == {tree}
    assert sorted(found.paths) == ["data/dir", "data/raw.csv"]
    assert not found.complete


def test_a_listing_dvc_cannot_read_is_one_the_cache_lacks(tiny_copy: Path) -> None:
    tree = cache_file(tiny_copy, dir_oid(tiny_copy))
    tree.chmod(0o644)
    tree.write_text("not json")
    with opened(tiny_copy) as repo:
        found = inventory.inventory(repo, ["data/dir.dvc"])
    assert found.unlisted == {dir_oid(tiny_copy)} and sorted(found.paths) == ["data/dir"]


def test_everything_is_every_object_of_the_cache(tiny: Path, oids: dict[str, str]) -> None:
    with opened(tiny) as repo:
        assert inventory.everything(repo) == set(oids.values()) | {dir_oid(tiny)}


def test_an_output_not_recorded_yet_has_no_objects(tiny_copy: Path) -> None:
    (tiny_copy / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp data/raw.csv out.csv\n    outs: [out.csv]\n")
    with opened(tiny_copy) as repo:
        assert inventory.inventory(repo, ["copy"]) == Inventory()


def test_run_cache_entries_count_what_a_stage_run_left(tiny_copy: Path, oids: dict[str, str]) -> None:
    (tiny_copy / "dvc.yaml").write_text(
        "stages:\n  copy:\n    cmd: cp data/raw.csv out.csv\n    deps: [data/raw.csv]\n    outs: [out.csv]\n"
    )
    with opened(tiny_copy) as repo:
        assert inventory.run_cache_entries(repo) == 0
        repo.reproduce(targets=["copy"])
        assert inventory.run_cache_entries(repo) == 1
        assert inventory.inventory(repo, ["copy"]).paths == {
            "out.csv": oids["data/raw.csv"]
        }  # the same bytes: the same object


def test_a_dvc_2_output_is_found_in_the_legacy_cache(tiny_copy: Path) -> None:
    # DVC 2 wrote no `hash: md5` and kept objects at .dvc/cache/ab/cdef…; DVC 3 reads them as md5-dos2unix.
    text = "id,label\n9,z\n"
    oid = md5(text)
    (tiny_copy / "old.csv").write_text(text)
    (tiny_copy / "old.csv.dvc").write_text(f"outs:\n- md5: {oid}\n  size: {len(text)}\n  path: old.csv\n")
    legacy = tiny_copy / ".dvc/cache" / oid[:2] / oid[2:]
    legacy.parent.mkdir(parents=True)
    legacy.write_text(text)
    with opened(tiny_copy) as repo:
        found = inventory.inventory(repo, ["old.csv.dvc"])
        assert found.hashes[oid].name == "md5-dos2unix"
        assert found.present == {oid: len(text)}
        assert oid in inventory.everything(repo)


# --- lost(): the paths to name when objects are on neither the cache nor the remote ---------------


def test_lost_names_a_directory_once_not_each_file_in_it() -> None:
    found = Inventory(paths={"data/dir": "D", "data/dir/a.csv": "A", "data/dir/b.csv": "B", "data/raw.csv": "R"})
    assert lost(found, {"D", "A"}) == ["data/dir"]
    assert lost(found, {"A", "R"}) == ["data/dir/a.csv", "data/raw.csv"]
    assert lost(found, set()) == []


def test_lost_does_not_take_a_name_for_a_prefix_of_another() -> None:
    found = Inventory(paths={"data/dir": "D", "data/dir2/a.csv": "X"})
    assert lost(found, {"D", "X"}) == ["data/dir", "data/dir2/a.csv"]


def test_an_output_git_keeps_is_not_one_to_push(tiny_copy: Path) -> None:
    """`cache: false` (a metrics file): DVC never caches or pushes it, so it cannot be missing from the cache.

    A default branch that commits its metrics (as the demo's main does) restored its stages without running
    them, and a push then named the metrics lost."""
    (tiny_copy / "dvc.yaml").write_text(
        "stages:\n  copy:\n    cmd: cp data/raw.csv out.csv && cp data/raw.csv m.json\n"
        "    deps: [data/raw.csv]\n    outs: [out.csv]\n    metrics:\n      - m.json:\n          cache: false\n"
    )
    from alops.dvc import commands

    commands.repro(["copy"], cwd=tiny_copy, quiet=True, env={"DVC_NO_ANALYTICS": "1"})
    with opened(tiny_copy) as repo:
        found = inventory.inventory(repo, ["copy"])
    assert sorted(found.paths) == ["out.csv"]
    assert found.complete
