from __future__ import annotations

from pathlib import Path

import pytest

from alops import yamlfile
from alops.errors import ConfigError
from alops.yamlfile import format_path, loads


def test_lines_of_keys_and_items() -> None:
    doc = loads("a:\n  b: 1\n  c:\n    - x\n    - y\nd: [1, 2]\n", "f.yml")
    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}, "d": [1, 2]}
    assert doc.line(("a", "b")) == 2
    assert doc.line(("a", "c", 1)) == 5
    assert doc.line(("d",)) == 6
    assert doc.where(("a", "c", 7)) == "f.yml:3", "an unknown index falls back to its parent"


def test_aliases_expand_within_the_limit() -> None:
    text = "base: &b {x: 1}\ncopies: [" + ", ".join(["*b"] * 1000) + "]\n"
    assert len(loads(text).data["copies"]) == 1000


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(ConfigError, match="alias bomb"):
        loads("\n".join(levels) + "\n")


def test_scalars_are_typed_safely() -> None:
    doc = loads("i: 3\nf: 0.5\nb: true\nn: null\ns: '3'\n")
    assert doc.data == {"i": 3, "f": 0.5, "b": True, "n": None, "s": "3"}


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("k: " + "x" * (yamlfile.MAX_BYTES + 1) + "\n")
    with pytest.raises(ConfigError, match="larger than"):
        yamlfile.load(path)


@pytest.mark.parametrize(
    ("path", "text"),
    [((), "(top level)"), (("a",), "a"), (("a", 0, "b"), "a[0].b"), (("x", "y"), "x.y")],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    with pytest.raises(ConfigError, match=r"pipe.yaml: is a named pipe \(FIFO\), not a regular file"):
        yamlfile.load(fifo)
    with pytest.raises(ConfigError, match="/dev/zero: is a device, not a regular file"):
        yamlfile.load("/dev/zero")
    link = tmp_path / "link.yaml"
    link.symlink_to(fifo)
    with pytest.raises(ConfigError, match="is a named pipe"):
        yamlfile.load(link)


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024**3)  # sparse: reading it would take minutes
    with pytest.raises(ConfigError, match=r"huge.yaml: 53,687,091,200 bytes, larger than 1,048,576"):
        yamlfile.load(path)


def test_missing_file_says_its_path(tmp_path: Path) -> None:
    from alops.errors import MissingFileError

    with pytest.raises(MissingFileError) as info:
        yamlfile.load(tmp_path / "none.yaml")
    assert info.value.path == tmp_path / "none.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "1" * 5000 + "\n", "bad value '"),  # Python refuses to read ints this long
        ("a: !!float x\n", "bad value 'x' at a"),
        ("a: !!binary aGk=\n", "the tag 'tag:yaml.org,2002:binary' at a is not allowed"),
        ("a: !custom x\n", "the tag '!custom' at a is not allowed"),
        ("glpat-Ab3dEfGh1jKlMn0pQrSt\n", "not a single value (a string of 26 characters)"),
        ("[1, 2]\n", "not a list"),
        ("? " + "k" * 2000 + "\n: 1\n? " + "k" * 2000 + "\n: 2\n", "duplicate key '" + "k" * 40 + "…'"),
    ],
)
def test_bad_values_are_errors_not_crashes(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads(text)
    assert message in str(info.value)
    assert "glpat-" not in str(info.value) and len(str(info.value)) < 300


def test_timestamps_stay_text() -> None:
    assert loads("d: 2001-02-30\nt: 2024-01-01T00:00:00Z\n").data == {"d": "2001-02-30", "t": "2024-01-01T00:00:00Z"}


def test_format_path_escapes_keys() -> None:
    assert format_path(("a\u202eb", 0)) == "'a\\u202eb'[0]"
    assert format_path(("k" * 100,)) == "'" + "k" * 40 + "…'"
