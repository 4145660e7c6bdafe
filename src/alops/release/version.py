"""Model versions: strict ``X.Y.Z``, the release line a branch names, and the version a release gets next."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from alops.errors import ConfigError, DataError

#: The parts ``bump`` accepts (``release.bump`` in alops.yaml).
PARTS = ("major", "minor", "patch")
#: Each part is below this: nine digits at most, so a hostile tag cannot make a huge integer.
LIMIT = 10**9

_NUMBER = r"(?:0|[1-9][0-9]{0,8})"
_VERSION = re.compile(rf"v?({_NUMBER})\.({_NUMBER})\.({_NUMBER})", re.ASCII)
#: The release line at the start of a branch's last segment: ``1``, ``1.4``, ``v1.4.2``; then its end or a ``-``/``_``.
_LINE = re.compile(rf"v?({_NUMBER}(?:\.{_NUMBER}){{0,2}})(?:[-_+].*)?", re.ASCII | re.DOTALL)


@dataclass(frozen=True, order=True)
class Version:
    """A released model's version: semver without pre-release or build parts (alops releases only ``X.Y.Z``)."""

    major: int
    minor: int
    patch: int

    def __post_init__(self) -> None:
        for part in (self.major, self.minor, self.patch):
            if not 0 <= part < LIMIT:
                raise ValueError(f"a version part must be between 0 and {LIMIT - 1}, not {part}")

    @classmethod
    def parse(cls, text: str) -> Version:
        """``1.2.0`` or ``v1.2.0``; ValueError for anything else (no leading zeros, no ``-rc1``, no spaces)."""
        match = _VERSION.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a version: expected MAJOR.MINOR.PATCH such as 1.2.0 (no leading zeros)")
        return cls(*(int(part) for part in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def bump(self, part: str) -> Version:
        """The next version: ``major`` 1.2.3 → 2.0.0, ``minor`` → 1.3.0, ``patch`` → 1.2.4."""
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        if part == "patch":
            return Version(self.major, self.minor, self.patch + 1)
        raise ValueError(f"cannot bump {part!r}: expected one of {', '.join(PARTS)}")


def branch_line(branch: str) -> tuple[int, ...]:
    """The release line a release branch names, from the start of its last ``/``-segment.

    ``release/1.4`` → (1, 4); ``release/v2`` → (2,); ``release/1.4.2`` → (1, 4, 2);
    ``release/1.4-hotfix`` → (1, 4) (what follows a ``-``, ``_`` or ``+`` is a label);
    ``release/spring``, ``release/1.4.2.7``, ``release/01.4`` → () (no line: the next
    version follows the latest release).
    """
    match = _LINE.fullmatch(branch.rsplit("/", 1)[-1])
    if match is None:
        return ()
    return tuple(int(part) for part in match.group(1).split("."))


def next_version(line: tuple[int, ...], released: Iterable[Version], bump: str) -> Version:
    """The version a release of ``line`` (see :func:`branch_line`) gets, given the versions ``released`` so far.

    - ``()``: the latest release bumped by ``bump``, or 0.1.0 for the first;
    - ``(X,)``: X.0.0 for the first in major X, else the latest in X bumped by ``bump`` (not ``major``);
    - ``(X, Y)``: X.Y.0 for the first in X.Y, else the latest in X.Y with its patch bumped;
    - ``(X, Y, Z)``: exactly X.Y.Z (DataError when it is released already).
    """
    if bump not in PARTS:
        raise ConfigError(f"release.bump: {bump!r} is not one of {', '.join(PARTS)}")
    if len(line) > 3:
        raise ValueError(f"a release line has one to three numbers, not {len(line)}")
    try:
        return _next(line, sorted(set(released)), bump)
    except ValueError as exc:  # a version part past 999999999 (a hand-made tag such as v999999999.0.0)
        raise DataError(f"there is no version after the ones released: {exc}") from None


def _next(line: tuple[int, ...], done: list[Version], bump: str) -> Version:
    if not line:
        return done[-1].bump(bump) if done else Version(0, 1, 0)
    if len(line) == 1:
        if bump == "major":
            raise ConfigError(
                f"release.bump: major cannot bump within the release line {line[0]} (a branch such as "
                f"release/{line[0]} releases {line[0]}.x.y): set bump to minor or patch, or name the "
                "branch after the next major"
            )
        within = [v for v in done if v.major == line[0]]
        return within[-1].bump(bump) if within else Version(line[0], 0, 0)
    if len(line) == 2:
        within = [v for v in done if (v.major, v.minor) == line]
        return within[-1].bump("patch") if within else Version(line[0], line[1], 0)
    exact = Version(*line)
    if exact in done:
        raise DataError(
            f"version {exact} is released already: a release branch named after a full version ships it "
            f"once; name the branch after its line (release/{line[0]}.{line[1]}) to release {exact.bump('patch')}"
        )
    return exact


def option(text: str) -> Version:
    """A version given as ``--version``: the one message for a malformed one, whichever command took it."""
    from alops.errors import ConfigError

    try:
        return Version.parse(text)
    except ValueError:
        raise ConfigError(f"--version {text!r} is not a version X.Y.Z: give one such as 1.2.0") from None
