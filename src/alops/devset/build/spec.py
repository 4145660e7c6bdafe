"""What ``alops devset build`` is told: ``datasets.dev.build`` with command-line overrides, and where each key is.

The settings come typed, defaults applied, from :attr:`alops.config.Config.devset`
(the defaults are the schema's). Command-line options (size, seed) replace the
file's values here, so the library never sees where a setting came from, only
where to point when it is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from alops.config import Config
from alops.errors import ConfigError
from alops.sections import DevsetBuild, Outliers

__all__ = ["DEFAULT_LABEL", "KEY", "BuildSpec", "Outliers", "build_spec"]

#: The column that is the label when alops.yaml names none and the data has it: not
#: a default of `label` (a named label must exist; this one is only looked for).
DEFAULT_LABEL = "label"
KEY = ("datasets", "dev", "build")


@dataclass(frozen=True)
class BuildSpec(DevsetBuild):
    """``datasets.dev.build`` with command-line overrides applied."""

    root: Path
    where: dict[str, str] = field(default_factory=dict, compare=False)  # key → "alops.yaml:LINE"

    def at(self, key: str) -> str:
        """``alops.yaml:LINE: datasets.dev.build.KEY`` for messages."""
        place = self.where.get(key) or self.where.get("") or "alops.yaml"
        return f"{place}: {'.'.join(KEY)}.{key}"


def build_spec(
    config: Config, *, fraction: float | None = None, count: int | None = None, seed: int | None = None
) -> BuildSpec:
    """The build settings of ``config``; ``fraction``/``count``/``seed`` override the file's.

    ConfigError when ``datasets.dev.build`` is missing or both sizes are given.
    """
    section = config.devset.build
    if section is None:
        raise ConfigError(
            f"{config.where('datasets', 'dev')}: datasets.dev.build is not set: add at least "
            "`source:` (the full data) and `output:` (where the dev set goes); see `alops config schema`"
        )
    if fraction is not None and count is not None:
        raise ConfigError("give either --fraction or --count, not both")
    if fraction is not None and not 0 < fraction <= 1:
        raise ConfigError(f"--fraction {fraction:g} is out of range: give a share in (0, 1], e.g. 0.1")
    if count is not None and count < 1:
        raise ConfigError(f"--count {count} is out of range: give a number of rows of at least 1")
    if seed is not None and seed < 0:
        raise ConfigError(f"--seed {seed} is out of range: give a whole number of at least 0")
    values: dict[str, Any] = {f.name: getattr(section, f.name) for f in fields(DevsetBuild)}
    if fraction is not None or count is not None:  # a size on the command line replaces both of the file's
        values.update(fraction=fraction, count=count)
    if seed is not None:
        values.update(seed=seed)
    # Every key, written or not: a key the file leaves out points at its nearest parent.
    where = {key: config.where(*KEY, key) for key in (*values, "corrupt")}
    where[""] = config.where(*KEY)
    return BuildSpec(root=config.root, where=where, **values)
