"""The parameter space of ``alops matrix``: alops.yaml's allowed values and constraints, checked and typed.

:func:`problems` is what ``alops config validate`` reports about the constraints;
:func:`combinations` the rows ``alops matrix`` turns into jobs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from alops import params, yamlfile
from alops.config import Config, Constraint
from alops.errors import ConfigError
from alops.text import excerpt

#: `alops matrix --all` lists at most this many jobs (GitLab refuses larger pipelines on most plans).
MAX_JOBS = 1000


@dataclass(frozen=True)
class Combination:
    """One job's parameters: the values it sets, and the keys that keep the parameters file's value."""

    values: dict[str, Any]
    kept: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    names: tuple[str, ...]
    rows: tuple[Combination, ...]
    defaults: dict[str, Any]  # the parameters file's values
    total: int  # valid distinct combinations (exact), or the product of the allowed values (not exact)
    exact: bool
    pairwise: bool

    @property
    def summary(self) -> str:
        """``12 of 18 combinations, pairwise`` or ``all 18 combinations``."""
        n, total = len(self.rows), f"{self.total:,}"
        if not self.pairwise:
            return f"all {total} combination{'s' if self.total != 1 else ''}"
        return f"{n} of {'' if self.exact else 'up to '}{total} combinations, pairwise"


def problems(config: Config) -> list[str]:
    """Constraints that name a key not in parameters.allowed, a value not allowed, or a key both in `if` and irrelevant."""
    spec = config.parameters
    if spec is None:
        return []
    out: list[str] = []

    def where(path: tuple[str | int, ...]) -> str:  # alops.yaml:LINE: parameters.constraints[0].if.train.model
        return f"{config.where(*path)}: {yamlfile.format_path(path)}"

    keys = [excerpt(k) for k in spec.allowed]
    known = ", ".join(keys[:12]) + (f" and {len(keys) - 12} more" if len(keys) > 12 else "")
    for n, rule in enumerate(spec.constraints):
        path: tuple[str | int, ...] = ("parameters", "constraints", n)
        for part, values in (("if", rule.when), ("exclude", rule.exclude)):
            for key, vals in values.items():
                at = (*path, part, key)
                if key not in spec.allowed:
                    out.append(f"{where(at)}: {excerpt(key)} is not a key of parameters.allowed ({known})")
                    continue
                for v in vals:
                    if _index(spec.allowed[key], v) < 0:
                        allowed = ", ".join(excerpt(a) for a in spec.allowed[key])
                        out.append(
                            f"{where(at)}: {excerpt(v)} is not an allowed value of {excerpt(key)}; allowed: {allowed}"
                        )
        for i, key in enumerate(rule.irrelevant):
            at = (*path, "irrelevant", i)
            if key not in spec.allowed:
                out.append(f"{where(at)}: {excerpt(key)} is not a key of parameters.allowed ({known})")
            elif key in rule.when:
                out.append(
                    f"{where(at)}: {excerpt(key)} is also in this constraint's `if`: "
                    "a parameter the rule depends on cannot be irrelevant there"
                )
    return out


def combinations(config: Config, *, every: bool = False, seed: int = 0) -> Matrix:
    """The combinations to test: all of them while at most parameters.max_combinations (or ``every``), else pairwise."""
    from alops.matrix import covering

    spec = config.parameters
    if spec is None:
        raise ConfigError(
            f"{config.path}: no parameters: list them with their allowed values under parameters.allowed "
            "(see `alops config schema`)"
        )
    found = params.check(config) + problems(config)
    if found:
        raise ConfigError(f"{config.path}: parameters are invalid:\n" + "\n".join(f"  {p}" for p in found))
    names = tuple(spec.allowed)
    values = [spec.allowed[k] for k in names]
    defaults = _defaults(config, names)
    rules = [_rule(names, spec.allowed, c) for c in spec.constraints]
    default_ix = [_index(values[f], defaults[k]) for f, k in enumerate(names)]
    sizes = [len(v) for v in values]
    if every and math.prod(sizes) > covering.ENUMERATE_LIMIT:
        raise ConfigError(f"--all: {math.prod(sizes):,} combinations are too many to run; leave out --all")
    result = covering.generate(sizes, rules, default_ix, cap=spec.max_combinations, every=every, seed=seed)
    if len(result.rows) > MAX_JOBS:
        how = "leave out --all" if every and not result.pairwise else "allow fewer values"
        raise ConfigError(
            f"{len(result.rows):,} combinations would be more than {MAX_JOBS} jobs: {how} "
            f"(parameters.allowed, {config.where('parameters', 'allowed')})"
        )
    rows = tuple(
        Combination(
            {k: values[f][v] for f, (k, v) in enumerate(zip(names, row, strict=True)) if v >= 0},
            tuple(k for k, v in zip(names, row, strict=True) if v < 0),
        )
        for row in result.rows
    )
    return Matrix(names, rows, defaults, result.total, result.exact, result.pairwise)


def _defaults(config: Config, names: tuple[str, ...]) -> dict[str, Any]:
    assert config.parameters is not None
    doc = yamlfile.load(config.root / config.parameters.file)
    return {k: params.lookup(doc.data, k) for k in names}


def _rule(names: tuple[str, ...], allowed: dict[str, tuple[Any, ...]], c: Constraint) -> Any:
    from alops.matrix.covering import Rule

    def ix(values: dict[str, tuple[Any, ...]]) -> dict[int, frozenset[int]]:
        return {names.index(k): frozenset(_index(allowed[k], v) for v in vs) for k, vs in values.items()}

    return Rule(ix(c.when), frozenset(names.index(k) for k in c.irrelevant), ix(c.exclude))


def _index(values: tuple[Any, ...], value: Any) -> int:
    """Where ``value`` is in ``values``, or -1; True is not 1 here (as params.check says of the file's values)."""
    for i, v in enumerate(values):
        if type(v) is type(value) and v == value:
            return i
        if isinstance(v, (int, float)) and isinstance(value, (int, float)) and bool not in (type(v), type(value)):
            if v == value:
                return i
    return -1
