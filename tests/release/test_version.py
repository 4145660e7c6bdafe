"""``alops.release.version``: strict versions, the release line of a branch, the next version of a release."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alops.errors import ConfigError, DataError
from alops.release.version import Version, branch_line, next_version

V = Version.parse


@pytest.mark.parametrize(
    ("text", "parts"),
    [("1.2.0", (1, 2, 0)), ("v1.2.0", (1, 2, 0)), ("0.0.0", (0, 0, 0)), ("999999999.0.10", (999999999, 0, 10))],
)
def test_parse_reads_major_minor_patch(text: str, parts: tuple[int, int, int]) -> None:
    assert V(text) == Version(*parts)
    assert str(V(text)) == ".".join(map(str, parts))


@pytest.mark.parametrize(
    "text",
    [
        "1.2",
        "1.2.3.4",
        "01.2.3",
        "1.02.3",
        "1.2.03",
        "V1.2.3",
        "vv1.2.3",
        " 1.2.3",
        "1.2.3\n",
        "1.2.3-rc1",
        "1.2.3+build",
        "1000000000.0.0",
        "1.2.x",
        "١.٢.٣",  # Arabic-Indic digits are digits to str.isdigit and to \d without re.ASCII
        "",
        "v",
        "-1.2.3",
    ],
)
def test_parse_refuses_anything_but_strict_semver(text: str) -> None:
    with pytest.raises(ValueError, match="is not a version: expected MAJOR.MINOR.PATCH"):
        V(text)


@given(st.text(max_size=30))
def test_parse_of_any_text_is_a_version_or_a_value_error(text: str) -> None:
    try:
        version = V(text)
    except ValueError:
        return
    assert str(version) == text.removeprefix("v")


@given(st.integers(0, 10**9 - 1), st.integers(0, 10**9 - 1), st.integers(0, 10**9 - 1))
def test_str_and_parse_round_trip(major: int, minor: int, patch: int) -> None:
    version = Version(major, minor, patch)
    assert V(str(version)) == version == V(f"v{version}")


def test_parts_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 999999999"):
        Version(-1, 0, 0)
    with pytest.raises(ValueError, match="between 0 and 999999999"):
        Version(0, 10**9, 0)


def test_versions_order_by_number_not_text() -> None:
    assert sorted([V("1.10.0"), V("1.9.0"), V("0.99.99"), V("1.9.10"), V("1.9.2")]) == [
        V("0.99.99"),
        V("1.9.0"),
        V("1.9.2"),
        V("1.9.10"),
        V("1.10.0"),
    ]


def test_bump() -> None:
    assert [str(V("1.2.3").bump(part)) for part in ("major", "minor", "patch")] == ["2.0.0", "1.3.0", "1.2.4"]
    with pytest.raises(ValueError, match="cannot bump 'micro'"):
        V("1.2.3").bump("micro")


@pytest.mark.parametrize(
    ("branch", "line"),
    [
        ("release/1.4", (1, 4)),
        ("release/v2", (2,)),
        ("release/1.4.2", (1, 4, 2)),
        ("release/spring", ()),
        ("release/1.4-hotfix", (1, 4)),
        ("release/1.4_rc", (1, 4)),
        ("team/release/3.0", (3, 0)),
        ("1.4", (1, 4)),
        ("release/1.4.2.7", ()),
        ("release/01.4", ()),
        ("release/1.x", ()),
        ("release/1.4/", ()),
        ("release/1.4hotfix", ()),
        ("release/1234567890", ()),
        ("release/١.٤", ()),
        ("release/1.4\nx", ()),
        ("release/", ()),
        ("", ()),
    ],
)
def test_branch_line(branch: str, line: tuple[int, ...]) -> None:
    assert branch_line(branch) == line


RELEASED = [V("0.1.0"), V("1.3.2"), V("1.4.0"), V("1.4.1"), V("2.0.0"), V("1.10.0")]


@pytest.mark.parametrize(
    ("line", "released", "bump", "expected"),
    [
        ((), [], "patch", "0.1.0"),
        ((), [], "major", "0.1.0"),
        ((), RELEASED, "patch", "2.0.1"),
        ((), RELEASED, "minor", "2.1.0"),
        ((), RELEASED, "major", "3.0.0"),
        ((1,), RELEASED, "minor", "1.11.0"),
        ((1,), RELEASED, "patch", "1.10.1"),
        ((3,), RELEASED, "minor", "3.0.0"),
        ((1, 4), RELEASED, "minor", "1.4.2"),  # a line's bump is always its patch
        ((1, 5), RELEASED, "patch", "1.5.0"),
        ((1, 4, 7), RELEASED, "patch", "1.4.7"),
        ((1, 4, 1), [V("1.4.0")], "patch", "1.4.1"),
    ],
)
def test_next_version(line: tuple[int, ...], released: list[Version], bump: str, expected: str) -> None:
    assert next_version(line, iter(released), bump) == V(expected)


def test_next_version_of_a_released_full_version_is_a_data_error() -> None:
    with pytest.raises(DataError) as err:
        next_version((1, 4, 1), RELEASED, "patch")
    assert str(err.value) == (
        "version 1.4.1 is released already: a release branch named after a full version ships it once; "
        "name the branch after its line (release/1.4) to release 1.4.2"
    )


def test_no_version_after_the_greatest_possible_is_a_data_error() -> None:
    with pytest.raises(DataError, match="there is no version after the ones released: a version part must be"):
        next_version((), [V("999999999.0.0")], "major")


def test_a_major_bump_within_a_major_line_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"release.bump: major cannot bump within the release line 1 "):
        next_version((1,), RELEASED, "major")
    with pytest.raises(ConfigError, match="release.bump: 'huge' is not one of major, minor, patch"):
        next_version((), RELEASED, "huge")


def test_the_next_version_is_never_one_released_already() -> None:
    released: list[Version] = []
    for line, bump in [((), "patch"), ((1,), "minor"), ((1, 4), "patch"), ((1, 4), "patch"), ((), "minor")]:
        version = next_version(line, released, bump)
        assert version not in released
        released.append(version)
    assert [str(v) for v in released] == ["0.1.0", "1.0.0", "1.4.0", "1.4.1", "1.5.0"]
