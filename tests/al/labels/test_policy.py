from __future__ import annotations

import pytest

from alops.al.labels.model import Vote
from alops.al.labels.policy import SKIPPED, decide
from alops.sections import Annotators

CLASSES = frozenset({"cat", "dog", "bird"})


def vote(
    label: object, who: str = "alice", *, cancelled: bool = False, truth: bool = False, where: str = "f: task 1"
) -> Vote:
    return Vote("s1", label, who, None, where, cancelled, truth)  # type: ignore[arg-type]


def majority(min_votes: int = 1) -> Annotators:
    return Annotators("majority", None, min_votes)


def test_a_strict_majority_wins_and_its_votes_are_those_that_agreed() -> None:
    decision = decide([vote("cat", "a"), vote("dog", "b"), vote("cat", "c")], majority(), CLASSES)
    assert decision.label == "cat"
    assert [v.annotator for v in decision.votes] == ["a", "c"]


@pytest.mark.parametrize(
    "labels",
    [("cat", "dog"), ("cat", "cat", "dog", "dog"), ("cat", "dog", "bird")],
)
def test_no_strict_majority_is_a_disagreement(labels: tuple[str, ...]) -> None:
    decision = decide([vote(label, f"u{i}") for i, label in enumerate(labels)], majority(), CLASSES)
    assert decision.label is None
    assert decision.reason is not None and decision.reason.startswith(
        "annotators disagree (no label has more than half"
    )


def test_unanimous_needs_every_vote() -> None:
    policy = Annotators("unanimous", None, 1)
    assert decide([vote("cat", "a"), vote("cat", "b")], policy, CLASSES).label == "cat"
    decision = decide([vote("cat", "a"), vote("cat", "b"), vote("dog", "c")], policy, CLASSES)
    assert decision.reason == "annotators disagree (the policy is unanimous): 'cat' from a, b; 'dog' from c"


def test_the_reviewer_wins_when_present_even_alone_and_below_min_votes() -> None:
    policy = Annotators("reviewer", "rev@x", 3)
    decision = decide([vote("cat", "a"), vote("cat", "b"), vote("dog", "rev@x")], policy, CLASSES)
    assert (decision.label, [v.annotator for v in decision.votes]) == ("dog", ["rev@x"])
    assert decide([vote("dog", "rev@x")], policy, CLASSES).label == "dog"


def test_without_the_reviewer_the_majority_decides_and_min_votes_applies() -> None:
    policy = Annotators("reviewer", "rev@x", 2)
    assert decide([vote("cat", "a"), vote("cat", "b"), vote("dog", "c")], policy, CLASSES).label == "cat"
    assert decide([vote("cat", "a")], policy, CLASSES) == SKIPPED
    assert decide([vote("cat", "a"), vote("dog", "b")], policy, CLASSES).reason is not None


def test_a_reviewer_who_cancelled_does_not_decide() -> None:
    policy = Annotators("reviewer", "rev@x", 1)
    decision = decide([vote("cat", "a"), vote("cat", "b"), vote("dog", "rev@x", cancelled=True)], policy, CLASSES)
    assert decision.label == "cat"


def test_ground_truth_wins_over_the_majority_the_reviewer_and_min_votes() -> None:
    votes = [vote("cat", "a"), vote("cat", "rev@x"), vote("dog", "c", truth=True)]
    for policy in (majority(5), Annotators("reviewer", "rev@x", 1), Annotators("unanimous", None, 1)):
        decision = decide(votes, policy, CLASSES)
        assert (decision.label, len(decision.votes)) == ("dog", 1)


def test_ground_truths_that_disagree_are_rejected_and_a_cancelled_one_does_not_count() -> None:
    assert decide([vote("cat", "a", truth=True), vote("dog", "b", truth=True)], majority(), CLASSES).reason == (
        "ground-truth annotations disagree: 'cat' from a; 'dog' from b"
    )
    decision = decide([vote("cat", "a"), vote("dog", "b", truth=True, cancelled=True)], majority(), CLASSES)
    assert decision.label == "cat"


def test_cancelled_and_empty_annotations_do_not_vote_and_none_left_is_skipped() -> None:
    assert decide([vote("cat", cancelled=True), vote(None, "b")], majority(), CLASSES) == SKIPPED
    assert decide([vote("cat", "a"), vote("dog", "b", cancelled=True)], majority(), CLASSES).label == "cat"


def test_too_few_votes_is_skipped_not_rejected() -> None:
    assert decide([vote("cat", "a")], majority(2), CLASSES) == SKIPPED
    assert decide([vote("cat", "a"), vote("cat", "b")], majority(2), CLASSES).label == "cat"


def test_one_annotator_counts_once_and_two_labels_from_one_are_a_conflict() -> None:
    decision = decide(
        [vote("cat", "a", where="f:2"), vote("cat", "a", where="f:5"), vote("dog", "b")], majority(), CLASSES
    )
    assert decision.reason is not None and decision.reason.startswith("annotators disagree")  # one cat, one dog
    conflict = decide([vote("cat", "a", where="f:2"), vote("dog", "a", where="f:5")], majority(), CLASSES)
    assert (conflict.reason, conflict.where) == ("conflicting labels from 'a': 'cat' (f:2) and 'dog' (f:5)", "f:2")


def test_several_classes_in_one_annotation_reject_the_sample() -> None:
    decision = decide([vote(("cat", "dog"), "a"), vote("cat", "b"), vote("cat", "c")], majority(), CLASSES)
    assert (
        decision.reason
        == "several classes in one annotation ('cat', 'dog', by a): single-label classification takes one class"
    )


def test_a_class_outside_the_label_set_rejects_the_sample_and_names_the_set() -> None:
    decision = decide([vote("cow", "a"), vote("cat", "b"), vote("cat", "c")], majority(), CLASSES, " (the set)")
    assert decision.reason == "class 'cow' is not in the label set (the set)"


def test_a_problem_in_any_annotation_rejects_the_sample() -> None:
    broken = Vote("s1", None, "a", None, "f: task 9", problem="an annotation is not an object")
    assert decide([vote("cat"), broken], majority(), CLASSES).reason == "an annotation is not an object"


def test_the_reviewer_email_matches_without_case() -> None:
    policy = Annotators("reviewer", "Rev@Example.com", 1)
    assert decide([vote("cat", "a"), vote("cat", "b"), vote("dog", "rev@example.COM")], policy, CLASSES).label == "dog"
