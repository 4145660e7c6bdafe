"""A label file read and checked against the pool, the labelled set and the label set: :func:`read_labels`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from pathlib import Path

from alops.al.labels import formats, values
from alops.al.labels.model import Label, LabelFile, Rejected, Vote
from alops.al.labels.policy import POLICIES, Decision, decide
from alops.errors import ConfigError
from alops.sections import Annotators


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
    without a time of its own gets ``now``. Problems of the file itself (empty,
    not UTF-8, not JSON, no id or label column, ragged) raise DataError naming the
    file and line. Nothing is written.
    """
    if policy.policy not in POLICIES:
        raise ConfigError(
            f"active_learning.annotators.policy: {values.shown(policy.policy)} is not one of {', '.join(POLICIES)}"
        )
    if policy.policy == "reviewer" and not policy.reviewer:
        raise ConfigError("active_learning.annotators.reviewer: the reviewer policy needs the reviewer's name")
    kind, votes = formats.votes(path)
    known = frozenset(classes)
    listing = f" ({_listing(classes)})"
    # Rejections in the order of the file (by the position of their first row), one per row or
    # task (a task's annotations share one).
    rejected: dict[tuple[str, str], tuple[int, Rejected]] = {}
    groups: dict[str, Vote | list[Vote]] = {}
    first: dict[str, int] = {}
    for position, vote in enumerate(votes):
        sid, problem = values.sample_id(vote.sample_id)
        if problem or sid is None:
            why = problem or "no sample id"
            rejected.setdefault((vote.where, why), (position, Rejected(sid, why, vote.where)))
            continue
        if sid not in pool_ids and sid not in labelled_ids:
            sid = values.unescaped(sid, pool_ids)
        group = groups.get(sid)
        if group is None:
            groups[sid], first[sid] = vote, position
        elif isinstance(group, list):
            group.append(vote)
        else:
            groups[sid] = [group, vote]
    labels: list[Label] = []
    skipped: list[str] = []
    unchanged: list[str] = []
    for sid, group in groups.items():
        sample = group if isinstance(group, list) else [group]
        decision = decide(sample, policy, known, listing)
        if decision.reason is None and decision.label is None:  # skipped
            if sid in pool_ids and sid not in labelled_ids:
                skipped.append(sid)
            continue
        where = decision.where or sample[0].where
        reason = _placement(sid, decision, pool_ids, labelled_ids)
        if reason == "unchanged":
            unchanged.append(sid)
            continue
        if reason is None and decision.reason is None:
            made = _label(sid, decision, now)
            if isinstance(made, Label):
                labels.append(made)
                continue
            reason = made
        reason = reason or decision.reason or ""
        rejected.setdefault((where, sid), (first[sid], Rejected(sid, reason, where)))
    ordered = tuple(row for _, row in sorted(rejected.values(), key=lambda item: item[0]))
    return LabelFile(tuple(labels), ordered, tuple(skipped), kind, tuple(unchanged))


def _listing(classes: Sequence[str]) -> str:
    """The label set as a reason shows it: its first names, and how many there are."""
    names = ", ".join(values.shown(name) for name in classes[:12])
    return f"active_learning.classes: {names}" + (f" and {len(classes) - 12} more" if len(classes) > 12 else "")


def _placement(sid: str, decision: Decision, pool: Set[str], labelled: Set[str] | Mapping[str, str]) -> str | None:
    """Why the sample cannot take a label (already labelled, not in the pool); "unchanged"; None: it can."""
    if sid in labelled:
        if isinstance(labelled, Mapping):
            if decision.label is not None and labelled[sid] == decision.label:
                return "unchanged"
            return f"already labelled {values.shown(labelled[sid])}: labels are never rewritten"
        return "already labelled: labels are never rewritten"
    if sid not in pool:
        return f"unknown sample id {values.shown(sid)}: not in the pool{values.near(sid, pool).replace(' is)', ' is there)')}"
    return None


def _label(sid: str, decision: Decision, now: str) -> Label | str:
    """The accepted label, or why its time is not one."""
    assert decision.label is not None
    times = []
    for vote in decision.votes:
        if vote.time is None:
            continue
        when = values.utc(vote.time)
        if when is None:
            return f"labelled_at {values.shown(vote.time)} is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)"
        times.append(when)
    strategy = next((vote.strategy for vote in decision.votes if vote.strategy), None)
    who = list(dict.fromkeys(vote.annotator for vote in decision.votes))
    return Label(
        sample_id=sid,
        label=decision.label,
        annotator=";".join(who),
        labelled_at=max(times) if times else now,
        source="human",
        votes=len(decision.votes),
        confidence=None,
        strategy=strategy,
    )
