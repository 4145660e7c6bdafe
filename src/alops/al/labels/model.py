"""What a label file holds once read: labels, rejected rows, skipped samples; and the votes in between."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Label:
    """One sample's accepted label."""

    sample_id: str
    label: str
    annotator: str  # who gave it; several agreeing annotators joined with ";"
    labelled_at: str  # ISO 8601 UTC, ending in "Z"
    source: str  # "human" | "pseudo"
    votes: int  # annotations that agreed (1 for a plain file)
    confidence: float | None  # None for human labels
    strategy: str | None  # the task's data.strategy when known


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row (or a task) that is not accepted, and why."""

    sample_id: str | None  # None: the row has no usable id
    reason: str
    where: str  # "FILE:LINE" or "FILE: task 12"


@dataclass(frozen=True, slots=True)
class LabelFile:
    """Everything read from one label file."""

    labels: tuple[Label, ...]
    rejected: tuple[Rejected, ...]
    #: Pool ids with no usable annotation (cancelled, skipped, no label, too few votes): they stay in the pool.
    skipped: tuple[str, ...]
    format: str  # csv | jsonl | label-studio-json | label-studio-json-min | label-studio-csv
    #: Ids already in the labelled set that the file gives the same label again (a Label Studio
    #: project keeps the tasks of earlier rounds): neither accepted again nor rejected.
    unchanged: tuple[str, ...] = ()


#: A vote's label: one class name, several (rejected: single-label classification), or none (an empty result).
Choice = str | tuple[str, ...] | None


class Vote(NamedTuple):
    """One annotation (one row of a plain file) as read, before any check.

    A named tuple, not a dataclass: a label file of a million rows makes a million of them.
    """

    sample_id: object  # as found in the file: a string, or anything hostile (null, a number, a list)
    label: Choice
    annotator: str
    time: str | None  # labelled_at as found in the file; None: not given
    where: str
    cancelled: bool = False
    ground_truth: bool = False
    strategy: str | None = None
    problem: str | None = None  # why this annotation cannot be read (a malformed task): its sample is rejected
