"""A run against its baseline: metrics, params and data versions side by side.

A :class:`Snapshot` is what one side of a comparison knows (the workspace, a
git revision, or a run manifest from CI artifacts); :class:`Diff` is the two
sides compared, which ``alops metrics diff``, ``alops gate`` and ``alops
report`` all show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Where a snapshot's values came from.
SOURCES = ("workspace", "manifest", "git", "artifacts", "none")


@dataclass(frozen=True)
class Snapshot:
    """What one side of a comparison knows.

    ``metrics``: by metrics file, key path → number (as :mod:`alops.metrics`
    reads them). ``params``: by parameters file, dotted key → value.
    ``data``: DVC-tracked path → its DVC hash (md5, ``….dir`` for a folder):
    the datasets' targets and the outputs dvc.lock records.
    ``source`` says where they came from (:data:`SOURCES`; ``none``: there is
    no baseline, and every mapping is empty).
    """

    label: str  # "workspace", or the ref (main, experiment/lr)
    source: str
    commit: str | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None  # the run manifest it was read from, when it was
    pipeline_url: str | None = None  # the CI pipeline that produced it, when known
    note: str = ""  # why the source is what it is ("the ref's metrics are not in git: read CI artifacts")


@dataclass(frozen=True)
class Change:
    """One key on both sides. ``old`` is None when only the current side has it, ``new`` when only the baseline."""

    file: str  # the metrics or parameters file; for data, the DVC-tracked path itself
    key: str  # the key path; for data, "" (the path is the key)
    old: Any
    new: Any
    delta: float | None = None  # new - old, for two numbers

    @property
    def changed(self) -> bool:
        return bool(self.old != self.new)


@dataclass(frozen=True)
class Diff:
    """The current run against its baseline."""

    current: Snapshot
    baseline: Snapshot
    metrics: tuple[Change, ...]  # every metric of either side, changed or not
    params: tuple[Change, ...]  # only the parameters that differ
    data: tuple[Change, ...]  # only the data versions that differ
