"""The columns ``datasets.dev.build`` names, checked against the tables: the strata and the outlier columns."""

from __future__ import annotations

from alops.devset.build.spec import DEFAULT_LABEL, BuildSpec
from alops.devset.dataset import cells
from alops.devset.dataset.locate import Dataset, Table, names_shown
from alops.errors import ConfigError


def strata_columns(spec: BuildSpec, dataset: Dataset) -> tuple[str, ...]:
    """The columns that make a stratum: label, split, stratify. ConfigError when a table lacks one."""
    wanted: list[tuple[str, str]] = []
    if spec.label:
        wanted.append(("label", spec.label))
    elif all(DEFAULT_LABEL in t.names for t in dataset.tables):
        wanted.append(("label", DEFAULT_LABEL))
    if spec.split:
        wanted.append(("split", spec.split))
    wanted += [("stratify", name) for name in spec.stratify]
    for key, name in wanted:
        for table in dataset.tables:
            require(spec, key, name, table)
            if table.handle is not None:
                _stratum_type(spec.at(key), table, name)
    return tuple(dict.fromkeys(name for _, name in wanted))


def require(spec: BuildSpec, key: str, name: str, table: Table) -> None:
    """ConfigError naming the key and the table when ``table`` has no column ``name`` (the build's and the check's)."""
    if name not in table.names:
        raise ConfigError(
            f"{spec.at(key)}: column {name!r} is not in {table.shown}; its columns: {names_shown(table.names)}"
        )


def _stratum_type(at: str, table: Table, name: str) -> None:
    """ConfigError when a Parquet column cannot make strata: nested, or bytes (not text)."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    typed = table.handle.schema_arrow.field(name).type
    value = typed.value_type if pa.types.is_dictionary(typed) else typed
    if cells.is_nested(value) or pa.types.is_binary(value) or pa.types.is_large_binary(value):
        raise ConfigError(
            f"{at}: column {name!r} of {table.shown} holds {typed}: strata need plain values "
            "(text, numbers, booleans, dates); choose another column"
        )


def check_numeric(spec: BuildSpec, table: Table, numeric: tuple[str, ...]) -> None:
    """ConfigError when a configured outlier column is missing from ``table`` or not numeric there."""
    if spec.outliers is None or spec.outliers.columns is None:
        return
    for name in spec.outliers.columns:
        if name not in table.names:
            raise ConfigError(
                f"{spec.at('outliers')}.columns: column {name!r} is not in {table.shown}; "
                f"its columns: {names_shown(table.names)}"
            )
        if name not in numeric:
            raise ConfigError(
                f"{spec.at('outliers')}.columns: column {name!r} of {table.shown} does not hold numbers; "
                f"numeric columns: {names_shown(numeric) or '(none)'}"
            )
