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
