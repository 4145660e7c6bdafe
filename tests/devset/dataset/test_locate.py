"""``alops.devset.dataset.locate``: the one place build and check find a dataset, with one message per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from alops.devset.dataset.locate import locate, names_shown
from alops.errors import EXIT_CONFIG, EXIT_DATA, AlopsError, ConfigError, DataError


def where(root: Path, relative: str, **options: object) -> object:
    return locate(root, relative, fmt="auto", manifest="manifest.csv", **options)  # type: ignore[arg-type]


def test_a_table_a_folder_of_tables_and_a_folder_of_files(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    (tmp_path / "tables/sub").mkdir(parents=True)
    (tmp_path / "tables/x.csv").write_text("a\n1\n")
    (tmp_path / "tables/sub/y.tsv").write_text("a\tb\n1\t2\n")
    (tmp_path / "tables/.hidden.csv").write_text("a\n1\n")
    (tmp_path / "tables/notes.txt").write_text("not a table")
    (tmp_path / "files").mkdir()
    (tmp_path / "files/manifest.csv").write_text("path,label\nf.txt,a\n")

    table = locate(tmp_path, "t.csv", fmt="auto", manifest="manifest.csv")
    assert (table.kind, table.shown, [t.names for t in table.tables]) == ("table", "t.csv", [("a", "b")])
    tables = locate(tmp_path, "tables", fmt="auto", manifest="manifest.csv")
    assert (tables.kind, [t.rel for t in tables.tables]) == ("tables", ["sub/y.tsv", "x.csv"])
    assert tables.tables[0].names == ("a", "b")  # a .tsv is split at tabs
    files = locate(tmp_path, "files", fmt="auto", manifest="manifest.csv")
    assert (files.kind, files.files_base, files.tables[0].names) == ("files", (tmp_path / "files"), ("path", "label"))


@pytest.mark.parametrize(
    ("make", "relative", "error", "message"),
    [
        (lambda root: None, "gone.csv", DataError, "gone.csv does not exist: run `alops data pull` (or `dvc pull`)"),
        (lambda root: (root / "t.txt").write_text("x"), "t.txt", ConfigError, "t.txt is not a table alops can read"),
        (lambda root: (root / "empty").mkdir(), "empty", ConfigError, "empty holds no table: put .csv or .parquet"),
        (
            lambda root: (root / "f").mkdir() or (root / "f/manifest.csv").write_text("name\nx\n"),
            "f",
            ConfigError,
            "the manifest has no 'path' column naming each file; its columns: name",
        ),
    ],
)
def test_each_problem_has_one_message_and_its_exit_code(
    tmp_path: Path, make: object, relative: str, error: type[AlopsError], message: str
) -> None:
    make(tmp_path)  # type: ignore[operator]
    with pytest.raises(error) as err:
        locate(tmp_path, relative, fmt="auto", manifest="manifest.csv", at="alops.yaml:3: datasets.dev.build.source")
    assert message in str(err.value)
    assert err.value.exit_code == (EXIT_DATA if error is DataError else EXIT_CONFIG)
    if "manifest" not in message:
        assert str(err.value).startswith("alops.yaml:3: datasets.dev.build.source: ")  # the key, when there is one


def test_a_missing_manifest_of_a_folder_of_files_is_missing_data(tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    with pytest.raises(DataError, match=r"^at: f/manifest\.csv does not exist: a folder of files needs a manifest"):
        locate(tmp_path, "f", fmt="files", manifest="manifest.csv", manifest_at="at")


@pytest.mark.parametrize(("other", "says"), [("data/dev.csv", "is inside"), (".", "contains")])
def test_the_other_dataset_may_be_neither_inside_nor_around_this_one(tmp_path: Path, other: str, says: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data/full.csv").write_text("a\n1\n")
    with pytest.raises(ConfigError, match=f"^out: {other} {says} the full data data"):
        locate(tmp_path, "data", fmt="auto", manifest="manifest.csv", beside=(other, "out"))
    assert locate(tmp_path, "data", fmt="auto", manifest="manifest.csv", beside=("dev.csv", "out")).kind == "tables"


def test_long_lists_of_columns_are_cut_in_messages() -> None:
    assert names_shown(("a", "b")) == "a, b"
    assert names_shown(tuple(f"c{i}" for i in range(20))).endswith("c11, … (20 columns)")
