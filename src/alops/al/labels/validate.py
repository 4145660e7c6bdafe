"""A label file read and checked against the pool, the labelled set and the label set: :func:`read_labels`.

A million-row file is the case to be fast for: a sample whose first row is a clean label
is accepted at once (one dict entry remembers it, in case a later row names it again);
only samples with several rows, or a problem, keep their votes until the end and go
through the policy.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from pathlib import Path

from alops.al.labels import formats, values
from alops.al.labels.model import Label, LabelFile, Rejected, Vote
from alops.al.labels.policy import POLICIES, decide, is_reviewer
from alops.errors import ConfigError
from alops.sections import Annotators

UNCHANGED = "unchanged"


def read_labels(
    path: Path,
    *,
    classes: Sequence[str],
    policy: Annotators,
    pool_ids: Set[str],
    labelled_ids: Set[str] | Mapping[str, str],
    now: str,
) -> LabelFile:
    """Read the label file at ``path`` into labels to accept, rows rejected (with why and where) and samples skipped.

    The format is found from the content (:mod:`alops.al.labels.formats`); the
    annotators' votes of each sample go through ``policy``
    (:mod:`alops.al.labels.policy`). A sample is rejected when its id is not in
    ``pool_ids`` or is already in ``labelled_ids``; when ``labelled_ids`` maps ids
    to their labels, a sample given its existing label again is ``unchanged``
    instead (a Label Studio project keeps the tasks of earlier rounds). A label
    without a time of its own gets ``now``. Labels, rejections and skipped ids come
    in the order of the file. Problems of the file itself (empty, not UTF-8, not
    JSON, no id or label column, ragged) raise DataError naming the file and line.
    Nothing is written.
    """
    if policy.policy not in POLICIES:
        raise ConfigError(
            f"active_learning.annotators.policy: {values.shown(policy.policy)} is not one of {', '.join(POLICIES)}"
        )
    if policy.policy == "reviewer" and not policy.reviewer:
        raise ConfigError("active_learning.annotators.reviewer: the reviewer policy needs the reviewer's name")
    kind, votes = formats.votes(path)
    with _collector_paused():
        return _Reading(classes, policy, pool_ids, labelled_ids, now).read(kind, votes)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused: a read makes millions of small objects, none in a cycle,
    and the collector's passes over them took half the time of a million-row file."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Reading:
    """One read: the samples decided so far, by their place in the file."""

    def __init__(
        self,
        classes: Sequence[str],
        policy: Annotators,
        pool: Set[str],
        labelled: Set[str] | Mapping[str, str],
        now: str,
    ) -> None:
        self.known = {name: name for name in classes}  # lookups give the one shared string
        self.listing = f" ({_listing(classes)})"
        self.policy, self.pool, self.labelled, self.now = policy, pool, labelled, now
        self.single = policy.min_votes <= 1
        # A slot per sample, in the order of its first row; a label once decided.
        self.labels: list[Label | None] = []
        self.quick: dict[str, tuple[int, str, bool]] = {}  # accepted from its first row: slot, where, had a time
        self.votes: dict[str, tuple[int, list[Vote]]] = {}  # decided at the end: slot, votes
        self.rejected: list[tuple[tuple[int, int], Rejected]] = []
        self.skipped: list[tuple[int, str]] = []
        self.unchanged: list[tuple[int, str]] = []

    def read(self, kind: str, votes: Iterator[Vote]) -> LabelFile:
        bad: set[tuple[str, str]] = set()  # a task's annotations share their id, so one rejection a task
        labels, quick, slow, pool, labelled, known = (
            self.labels,
            self.quick,
            self.votes,
            self.pool,
            self.labelled,
            self.known,
        )
        for vote in votes:  # the hot loop: a million rows go through it, so the first-row case is inline
            raw, sid = vote.sample_id, None
            if type(raw) is str and raw and raw.isprintable() and not raw.isspace():
                sid = raw
            else:
                sid, problem = values.sample_id(raw)
                if problem or sid is None:
                    self._bad_id(sid, problem or "no sample id", vote.where, bad)
                    continue
            fresh = sid in pool and sid not in labelled
            if not fresh and sid not in labelled:
                sid = values.unescaped(sid, pool)
                fresh = sid in pool
            if sid in quick or sid in slow:
                self._again(sid, vote)
                continue
            name = known.get(vote.label)  # type: ignore[arg-type]  # None for no label, several or unknown
            if fresh and name is not None and self._plain(vote):
                when = self.now if vote.time is None else values.utc(vote.time)
                if when is not None:
                    quick[sid] = (len(labels), vote.where, vote.time is not None)
                    labels.append(Label(sid, name, vote.annotator, when, "human", 1, None, vote.strategy))
                    continue
            slow[sid] = (len(labels), [vote])
            labels.append(None)
        for sid, (slot, group) in self.votes.items():
            self._decide(sid, slot, group)
        return LabelFile(
            tuple(label for label in self.labels if label is not None),
            tuple(row for _, row in sorted(self.rejected, key=lambda item: item[0])),
            tuple(sid for _, sid in sorted(self.skipped)),
            kind,
            tuple(sid for _, sid in sorted(self.unchanged)),
        )

    def _bad_id(self, sid: str | None, why: str, where: str, bad: set[tuple[str, str]]) -> None:
        if (where, why) not in bad:
            bad.add((where, why))
            self.rejected.append(((len(self.labels), 0), Rejected(sid, why, where)))

    def _again(self, sid: str, vote: Vote) -> None:
        """A later row of a sample: its votes go through the policy at the end."""
        group = self.votes.get(sid)
        if group is not None:
            group[1].append(vote)
            return
        slot, where, timed = self.quick.pop(sid)
        first = self.labels[slot]
        assert first is not None
        self.labels[slot] = None
        again = Vote(sid, first.label, first.annotator, first.labelled_at if timed else None, where)
        self.votes[sid] = (slot, [again._replace(strategy=first.strategy), vote])

    def _plain(self, vote: Vote) -> bool:
        """Whether a first row's vote is decided by itself: nothing in it needs a closer look (a ground truth does)."""
        if vote.problem or vote.cancelled or vote.ground_truth:
            return False
        return self.single or is_reviewer(vote.annotator, self.policy)

    def _decide(self, sid: str, slot: int, group: list[Vote]) -> None:
        decision = decide(group, self.policy, self.known, self.listing)
        if decision.reason is None and decision.label is None:  # skipped
            if sid in self.pool and sid not in self.labelled:
                self.skipped.append((slot, sid))
            return
        reason = _placement(sid, decision.label, self.pool, self.labelled)
        if reason == UNCHANGED:
            self.unchanged.append((slot, sid))
            return
        if reason is None and decision.reason is None:
            made = _label(sid, decision.label, decision.votes, self.now)
            if isinstance(made, Label):
                self.labels[slot] = made
                return
            reason = made
        where = decision.where or group[0].where
        self.rejected.append(((slot, 1), Rejected(sid, reason or decision.reason or "", where)))


def _placement(sid: str, label: str | None, pool: Set[str], labelled: Set[str] | Mapping[str, str]) -> str | None:
    """Why the sample cannot take a label (already labelled, not in the pool); UNCHANGED; None: it can."""
    if sid in labelled:
        if isinstance(labelled, Mapping):
            if label is not None and labelled[sid] == label:
                return UNCHANGED
            return f"already labelled {values.shown(labelled[sid])}: labels are never rewritten"
        return "already labelled: labels are never rewritten"
    if sid not in pool:
        hint = values.near(sid, pool).replace(" is)", " is there)")
        return f"unknown sample id {values.shown(sid)}: not in the pool{hint}"
    return None


def _label(sid: str, label: str | None, votes: Sequence[Vote], now: str) -> Label | str:
    """The accepted label, or why one of its times is not one."""
    assert label is not None
    times = []
    for vote in votes:
        if vote.time is None:
            continue
        when = values.utc(vote.time)
        if when is None:
            return f"labelled_at {values.shown(vote.time)} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"
        times.append(when)
    strategy = next((vote.strategy for vote in votes if vote.strategy), None)
    who = ";".join(dict.fromkeys(vote.annotator for vote in votes))
    return Label(sid, label, who, max(times) if times else now, "human", len(votes), None, strategy)


def _listing(classes: Sequence[str]) -> str:
    """The label set as a reason shows it: its first names, and how many there are."""
    names = ", ".join(values.shown(name) for name in classes[:12])
    return f"active_learning.classes: {names}" + (f" and {len(classes) - 12} more" if len(classes) > 12 else "")
