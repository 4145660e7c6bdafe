"""Several annotations of one sample become one label, or none: the annotator policy.

In order, for one sample:

1. Cancelled (skipped) annotations and annotations without a label do not vote.
   None left: the sample is *skipped* (it stays in the pool, to be labelled later).
2. An annotation that cannot be read, or that chose several classes (the task is
   single-label classification), rejects the sample; so does a class outside the label set.
3. One vote per annotator: the same label twice is one vote; different labels from one
   annotator (or, in a plain file without an ``annotator`` column, for one id) are a
   conflict, and the sample is rejected.
4. A ``ground_truth`` annotation (Label Studio's JSON export only) wins over everything,
   min_votes included; ground-truth annotations that disagree reject the sample.
5. ``reviewer``: the reviewer's label wins when the reviewer annotated the sample,
   whatever the others say and however few they are; otherwise the majority rule decides.
   The reviewer is named as the export names annotators: an email (``alops al pull``
   asks for users in full), or a Label Studio user id; emails match without case.
6. Fewer votes than ``min_votes``: skipped (it stays in the pool for more annotators).
7. ``majority``: the label of more than half of the votes; none (a tie): rejected,
   "annotators disagree". ``unanimous``: every vote the same label, else rejected.

The votes of a label are those that gave it (their annotators and times go into the label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass

from alops.al.labels import values
from alops.al.labels.model import Vote
from alops.sections import Annotators
from alops.text import safe

POLICIES = ("majority", "unanimous", "reviewer")


@dataclass(frozen=True)
class Decision:
    """What the votes of one sample decided: a label (with its votes), a rejection, or nothing (skipped)."""

    label: str | None = None
    votes: tuple[Vote, ...] = ()  # the votes that gave the label
    reason: str | None = None  # rejected, and why
    where: str | None = None  # the row the rejection is about


SKIPPED = Decision()


def decide(votes: Sequence[Vote], policy: Annotators, classes: Container[str], listing: str = "") -> Decision:
    """The label ``votes`` (all of one sample) give under ``policy``; ``listing`` shows the label set in reasons."""
    for vote in votes:
        if vote.problem:
            return Decision(reason=vote.problem, where=vote.where)
    live = []
    for vote in votes:
        if vote.cancelled or vote.label is None:
            continue
        if isinstance(vote.label, tuple):
            chosen = ", ".join(values.shown(name) for name in vote.label)
            return _reject(
                f"several classes in one annotation ({chosen}, by {safe(vote.annotator)}): single-label classification takes one class",
                vote,
            )
        name = vote.label
        if name not in classes:
            name = values.unescaped(name, classes)
            if name not in classes:
                hint = values.near(name, classes) or listing
                return _reject(f"class {values.shown(name)} is not in the label set{hint}", vote)
            vote = vote._replace(label=name)
        live.append(vote)
    if len(live) > 1:
        live, conflict = _one_each(live)
        if conflict:
            return conflict
    if not live:
        return SKIPPED
    truth = [vote for vote in live if vote.ground_truth]
    if truth:
        if len({vote.label for vote in truth}) > 1:
            return _reject(f"ground-truth annotations disagree: {_tally(truth)}", truth[0])
        return _accept(truth[0].label, live)
    if policy.policy == "reviewer":
        mine = [vote for vote in live if is_reviewer(vote.annotator, policy)]
        if mine:
            return _accept(mine[0].label, live)
    if len(live) < policy.min_votes:
        return SKIPPED
    if len(live) == 1:
        return _accept(live[0].label, live)
    counts = Counter(vote.label for vote in live).most_common()
    top, count = counts[0]
    if policy.policy == "unanimous" and len(counts) > 1:
        return _reject(f"annotators disagree (the policy is unanimous): {_tally(live)}", live[0])
    if count * 2 <= len(live):
        return _reject(
            f"annotators disagree (no label has more than half of {len(live)} votes): {_tally(live)}", live[0]
        )
    return _accept(top, live)


def is_reviewer(annotator: str, policy: Annotators) -> bool:
    """Whether ``annotator`` is the policy's reviewer (emails compare without case)."""
    return (
        policy.policy == "reviewer"
        and policy.reviewer is not None
        and annotator.casefold() == policy.reviewer.casefold()
    )


def _one_each(live: list[Vote]) -> tuple[list[Vote], Decision | None]:
    """One vote per annotator; a conflict when one annotator gave two labels."""
    first: dict[str, Vote] = {}
    for vote in live:
        seen = first.setdefault(vote.annotator, vote)
        if seen.label != vote.label:
            assert isinstance(seen.label, str) and isinstance(vote.label, str)
            who = "for one sample" if vote.annotator == "unknown" else f"from {values.shown(vote.annotator)}"
            return [], _reject(
                f"conflicting labels {who}: {values.shown(seen.label)} ({seen.where})"
                f" and {values.shown(vote.label)} ({vote.where})",
                seen,
            )
    return list(first.values()), None


def _accept(label: object, live: list[Vote]) -> Decision:
    assert isinstance(label, str)
    return Decision(label, tuple(vote for vote in live if vote.label == label))


def _reject(reason: str, vote: Vote) -> Decision:
    return Decision(reason=reason, where=vote.where)


def _tally(votes: Sequence[Vote]) -> str:
    by: dict[str, list[str]] = {}
    for vote in votes:
        assert isinstance(vote.label, str)
        by.setdefault(vote.label, []).append(safe(vote.annotator))
    return "; ".join(f"{values.shown(label)} from {', '.join(who)}" for label, who in by.items())
