from __future__ import annotations

import pytest

from alops.al.labels import values


@pytest.mark.parametrize(
    ("raw", "text", "problem"),
    [
        ("a1", "a1", None),
        (7, "7", None),  # alops' batches use the row index as the id of a pool without ids
        (None, None, "no sample id"),
        (True, None, "sample id is true, not text"),
        (7.5, None, "sample id is the number 7.5, not text"),
        (["a"], None, "sample id is a JSON list, not text"),
        ({"a": 1}, None, "sample id is a JSON object, not text"),
        ("", "", "empty sample id"),
        ("  ", "  ", "empty sample id"),
        ("a\x00b", "a\x00b", "sample id 'a\\x00b' holds control characters"),
        ("a\nb", "a\nb", "sample id 'a\\nb' holds control characters"),
        ("../..", "../..", None),  # only text: whether it is in the pool decides
        ("=HYPERLINK(1)", "=HYPERLINK(1)", None),
    ],
)
def test_sample_id(raw: object, text: str | None, problem: str | None) -> None:
    assert values.sample_id(raw) == (text, problem)


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00Z"),
        ("2026-01-31T12:00:00.123456Z", "2026-01-31T12:00:00.123456Z"),
        ("2026-01-31T13:30:00+01:30", "2026-01-31T12:00:00Z"),
        ("2026-01-31 12:00:00", "2026-01-31T12:00:00Z"),  # no zone: taken as UTC
        ("2026-01-31", "2026-01-31T00:00:00Z"),
        ("yesterday", None),
        ("", None),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
    ],
)
def test_utc(raw: str, utc: str | None) -> None:
    assert values.utc(raw) == utc


@pytest.mark.parametrize(
    ("raw", "choice"),
    [("3", "3"), (3, "3"), (None, None), ("", None), ([], None), (["3"], "3"), (["3", "4"], ("3", "4")), (3.0, "3.0")],
)
def test_choice(raw: object, choice: object) -> None:
    assert values.choice(raw) == choice


@pytest.mark.parametrize(
    ("raw", "who"),
    [
        ("alice@example.com", "alice@example.com"),
        (1, "1"),
        ({"id": 2, "email": "b@x"}, "b@x"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_annotator(raw: object, who: str) -> None:
    assert values.annotator(raw) == who


def test_unescaped_takes_off_the_quote_batch_csv_put_before_formula_text() -> None:
    assert values.unescaped("'=SUM(A1)", {"=SUM(A1)"}) == "=SUM(A1)"
    assert values.unescaped("'=SUM(A1)", {"'=SUM(A1)", "=SUM(A1)"}) == "'=SUM(A1)"  # the exact text wins
    assert values.unescaped("'abc", {"abc"}) == "'abc"  # not formula text: batch.csv never quoted it
    assert values.unescaped("'=x", set()) == "'=x"


def test_near_hints_at_spaces() -> None:
    assert values.near(" 3", {"3"}) == " ('3', without the spaces around it, is)"
    assert values.near("4", {"3"}) == ""
