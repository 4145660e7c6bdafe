"""``alops al status``: where the loop stands, from the workspace's data and the branch's git history.

The pool and the labelled set are counted from the files in the workspace; the
rounds come from the label log's ``round-NNNN.json`` records (or, when the log
is not pulled, from the ingest commits' trailers); the model after each round
is the metrics files at the commit whose ``ALOps-Trained-Round`` is that round.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from alops.al import history
from alops.config import Config
from alops.errors import DataError
from alops.sections import require

ROUND_FILE = re.compile(r"^round-(\d{4,})\.json$")


@dataclass(frozen=True)
class Round:
    """One round: its record in the label log and the metrics of the model trained after it (empty: none yet)."""

    number: int
    date: str | None
    strategy: str | None
    batch_size: int | None
    accepted: int | None
    rejected: int | None
    pseudo: int | None
    labelled_after: int | None
    trained_commit: str | None
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    """What :func:`status` found; a count is None when its file is not in the workspace (see ``notes``)."""

    pool: str
    pool_size: int | None
    labelled: str | None
    per_class: dict[str, int] | None
    labels_since_training: int
    last_trained_round: int | None
    rounds: tuple[Round, ...]
    metrics: tuple[str, ...]  # the metric names, in order
    notes: tuple[str, ...]

    @property
    def labelled_size(self) -> int | None:
        return None if self.per_class is None else sum(self.per_class.values())

    def curve(self) -> list[tuple[int, int, dict[str, float]]]:
        """The learning curve: (round, labelled samples after it, metrics) of each round with a trained model."""
        return [(r.number, r.labelled_after, r.metrics) for r in self.rounds if r.metrics and r.labelled_after]


def status(config: Config, *, env: Mapping[str, str] | None = None) -> Status:
    """Count the pool and the labelled set, read the rounds and the metrics after each (see the module)."""
    al = require(config.al, "pool", command="alops al status")
    root, notes = config.root, []
    pool_path = root / str(al.pool)
    pool_size = count_rows(pool_path) if pool_path.is_file() else None
    if pool_size is None:
        notes.append(f"{al.pool} is not in the workspace: run `alops data pull` (or `dvc pull`) to count the pool")
    per_class = None
    if al.labelled:
        labelled_path = root / al.labelled
        if labelled_path.is_file():
            per_class = count_classes(labelled_path, al.label_column, al.classes or ())
        else:
            notes.append(f"{al.labelled} is not in the workspace: run `alops data pull` to count the labels")
    past = history.read(root, env=env)
    if past.shallow:
        notes.append("this clone is shallow: older rounds and models are not counted (`git fetch --unshallow`)")
    log = root / al.labels if al.labels else None
    if log is not None and log.is_dir():
        rounds = [_from_record(p) for p in sorted(log.iterdir()) if ROUND_FILE.match(p.name)]
    else:
        rounds = [_from_commit(i) for i in past.ingests]
        if al.labels and past.ingests:
            notes.append(f"{al.labels} is not in the workspace: rounds from git history only (`alops data pull`)")
    names: dict[str, None] = {}
    done = []
    for r in rounds:
        trained = past.training_of(r.number)
        metrics = metrics_at(config, trained.commit, env) if trained else {}
        names.update(dict.fromkeys(metrics))
        done.append(replace(r, trained_commit=trained.commit if trained else None, metrics=metrics))
    return Status(
        str(al.pool),
        pool_size,
        al.labelled,
        per_class,
        past.labels_since_training(),
        past.last_trained,
        tuple(done),
        tuple(names),
        tuple(notes),
    )


def as_dict(found: Status) -> dict[str, Any]:
    """The status as JSON-ready data: what ``--format json`` prints."""
    data = asdict(found)
    data["labelled_size"] = found.labelled_size
    data["learning_curve"] = [{"round": n, "labelled": x, "metrics": m} for n, x, m in found.curve()]
    return data


def metrics_at(config: Config, commit: str, env: Mapping[str, str] | None) -> dict[str, float]:
    """The numbers of alops.yaml's metrics files (``{dataset}`` = full) as ``commit`` has them, by name."""
    from alops import metrics

    found = metrics.at_revision(config, commit, "full", "al", env)
    several = len(metrics.files(config, "full", "al")) > 1
    return {
        (f"{name}:" if several else "") + key: value
        for name, numbers in found.items()
        for key, value in numbers.items()
    }


def count_rows(path: Path) -> int:
    """The rows of a CSV (quoted newlines and all) or Parquet file."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from alops.al.query.pool_files import column_names

    try:
        first = column_names(path, ".csv")[:1]  # one column, as text: no type to guess, no other cell read
        options = pcsv.ConvertOptions(include_columns=first, column_types={name: pa.string() for name in first})
        return sum(batch.num_rows for batch in pcsv.open_csv(path, convert_options=options))
    except Exception as exc:  # pyarrow.lib.ArrowInvalid and friends: the file, not alops
        raise DataError(f"{path} is not a readable CSV file ({str(exc).splitlines()[0]})") from None


def count_classes(path: Path, column: str, classes: tuple[str, ...]) -> dict[str, int]:
    """How many rows of ``path`` have each label: every class of alops.yaml (0 too), then any other label found."""
    import pyarrow as pa

    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            values = pq.read_table(path, columns=[column]).column(column).cast(pa.string())
        else:
            import pyarrow.csv as pcsv

            options = pcsv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
            values = pcsv.read_csv(path, convert_options=options).column(column)
    except (KeyError, pa.ArrowInvalid) as exc:
        raise DataError(
            f"{path} has no readable column {column!r} ({str(exc).splitlines()[0]}): "
            "set active_learning.label_column to the column that holds the labels"
        ) from None
    counts = Counter("" if v is None else str(v) for v in values.to_pylist())
    return {**{name: counts.pop(name, 0) for name in classes}, **dict(sorted(counts.items()))}


def _from_record(path: Path) -> Round:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not a readable round record ({exc}): restore it with `dvc checkout`") from None
    number = int(ROUND_FILE.match(path.name).group(1))  # type: ignore[union-attr]
    return Round(
        number,
        data.get("ingested_at"),
        data.get("strategy"),
        _int(data.get("batch_size")),
        _int(data.get("accepted")),
        _int(data.get("rejected")),
        _int(data.get("pseudo")),
        _int(data.get("labelled_after")),
        None,
    )


def _from_commit(ingest: history.Ingest) -> Round:
    return Round(ingest.round, ingest.date, None, None, ingest.labels, None, None, None, None)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
