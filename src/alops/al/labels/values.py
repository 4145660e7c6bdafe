"""Single values of a label file: sample ids, class names, times; hostile ones named, never trusted.

Label Studio stores whatever a task's ``data`` held (null, numbers, lists, formula
text) and exports it as given; plain files hold whatever a spreadsheet wrote. An id
is text: an integer is taken as its decimal text (alops' own batches use the row index
as the id of a pool without ids, and JSON keeps it a number); anything else that is not
text is rejected by name. Nothing is ever evaluated: ``=HYPERLINK(…)`` is just text that
is either in the pool (and kept exactly) or not.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Container
from datetime import UTC, datetime

from alops.al.query.batch import FORMULA_STARTS
from alops.text import clip, quote

#: A UTC time as alops writes it; Label Studio's have six decimals.
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
#: Longest id or class name quoted in a reason.
SHOWN = 60


def shown(value: str) -> str:
    """``value`` quoted for a reason: escaped, cut to :data:`SHOWN` characters."""
    return quote(clip(value, SHOWN))


def sample_id(value: object) -> tuple[str | None, str | None]:
    """The id as text and, when it is unusable, why (the text is then what to report, or None)."""
    if value is None:
        return None, "no sample id"
    if isinstance(value, bool):
        return None, f"sample id is {str(value).lower()}, not text"
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return None, f"sample id is the number {value!r}, not text"
    if isinstance(value, (list, dict)):
        return None, f"sample id is a JSON {'list' if isinstance(value, list) else 'object'}, not text"
    if not isinstance(value, str):
        return None, f"sample id is a {type(value).__name__}, not text"
    if value.isprintable() and not value.isspace() and value:  # the common case, checked fast
        return value, None
    if not value.strip():
        return value, "empty sample id"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        return value, f"sample id {shown(value)} holds control characters"
    return value, None


def unescaped(value: str, known: Container[str]) -> str:
    """``value`` without the ``'`` that alops' batch.csv (OWASP) put before formula text, when that finds it."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) and value not in known and value[1:] in known:
        return value[1:]
    return value


def near(value: str, known: Container[str]) -> str:
    """A hint when ``value`` differs from a known one only by spaces around it."""
    stripped = value.strip()
    return f" ({shown(stripped)}, without the spaces around it, is)" if stripped != value and stripped in known else ""


def choice_text(value: object) -> str:
    """A class name as found: text as is, anything else as its JSON text (so that it is simply not a class)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def choice(value: object) -> str | tuple[str, ...] | None:
    """One label value: a class name, several (a list), or none (null, empty text, an empty list)."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        names = tuple(choice_text(item) for item in value)
        return None if not names else names[0] if len(names) == 1 else names
    return choice_text(value)


def annotator(value: object) -> str:
    """Who annotated: Label Studio's user (an email, an id, or a user object), or "unknown"."""
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    if value is None or value == "" or isinstance(value, bool):
        return "unknown"
    return value if isinstance(value, str) else choice_text(value)


def utc(value: str) -> str | None:
    """An ISO 8601 time as UTC ending in ``Z`` (a time without a zone is taken as UTC); None when it is not one."""
    if _CANONICAL.fullmatch(value):  # what Label Studio writes: only checked (a 31st of February is not a time)
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    try:
        when = datetime.fromisoformat(value.strip())
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time; a time whose UTC falls outside years 1-9999
        return None
    spec = "seconds" if when.microsecond == 0 else "microseconds"
    return when.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
