"""Text from users, made safe to print: escaped, redacted, short.

Branch names, ``alops.yaml`` values and file contents reach messages and
terminals. One place decides how they look there:

- :func:`safe` escapes every character a terminal could act on or that hides
  itself (C0/C1 controls, DEL, bidi and other format characters, lone
  surrogates from undecodable bytes, line separators), the way ``repr`` does;
- :func:`redact_output` masks the credentials in a tool's output (URL user-info,
  AWS key ids, the values of the environment's secret variables) and nothing else,
  so DVC's hashes and paths stay readable;
- :func:`redact` masks what looks like a credential in a user's value, more eagerly;
- :func:`excerpt` quotes at most a short, redacted, escaped excerpt of a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

#: Longest excerpt of a user's value quoted in a message, in characters.
EXCERPT_CHARS = 40
_MASK = "***"

#: A URL's user-info: everything from ``scheme://`` to the last ``@`` of the URL.
#: Passwords are often written unencoded (``https://user:pa/ss@host``), so the
#: user-info cannot be taken to end at the first ``/``; a URL with an ``@`` in
#: its path loses its host in the message too, which errs on the safe side.
#: Found without backtracking (a scheme of at most 32 characters, then one scan of
#: the URL for its last ``@``): linear in the text, however hostile.
_URL_SCHEME = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{0,31}://")
_URL_REST = re.compile(r"[^\s\"'`<>]*")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
#: Variables whose values are secrets: AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, CI_JOB_TOKEN, *_PASSWORD, …
_SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|_KEY|_KEY_ID)", re.IGNORECASE)
#: Shorter values are too likely to occur by chance ("true", a port) to be masked everywhere.
_MIN_SECRET = 6


def redact_output(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` without credentials: the values of ``env``'s secret variables, URL user-info, AWS key ids."""
    for name, value in sorted((env or {}).items(), key=lambda kv: -len(kv[1])):  # longest first: no partial masks
        if len(value) >= _MIN_SECRET and _SECRET_NAME.search(name) and value in text:
            text = text.replace(value, _MASK)
    return _AWS_KEY_ID.sub(_MASK, _mask_userinfo(text))


def _mask_userinfo(text: str) -> str:
    """Every ``scheme://user:password@host`` in ``text`` as ``scheme://***@host``."""
    out, pos = [], 0
    while match := _URL_SCHEME.search(text, pos):
        rest = _URL_REST.match(text, match.end())
        end = rest.end() if rest else match.end()
        at = text.rfind("@", match.end(), end)
        out.append(text[pos : match.end()])
        out.append(_MASK + text[at:end] if at >= 0 else text[match.end() : end])
        pos = end
    return "".join(out) + text[pos:] if out else text


# What a credential looks like (after GitLab's and GitHub's documented token
# prefixes, AWS key ids, JWTs, key=value assignments and URL user-info).
# Compiled on first use: only error paths redact, and `alops flow` starts fast.
@lru_cache(maxsize=1)
def _secrets() -> list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]]:
    return [
        (
            re.compile(
                r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth)"
                r"[\"']?[ \t]*[:=][ \t]*[\"']?)[^\s\"',;]+"
            ),
            r"\1***",
        ),
        (
            re.compile(
                r"\b(?:(?:glpat|gloas|gldt|glrt|glrtr|glcbt|glptt|glft|glimt|glagent|glsoat|glffct|glwt)-|GR1348941)[\w-]{8,}"
            ),
            _MASK,
        ),
        (re.compile(r"\b(?:gh[pousr]_|github_pat_)\w{16,}"), _MASK),
        (re.compile(r"\bxox[abposr]-[\w-]{8,}"), _MASK),
        (_AWS_KEY_ID, _MASK),
        (re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"), _MASK),
        (re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[^-]*"), _MASK),
        (re.compile(r"\b[0-9a-fA-F]{32,}\b"), lambda m: _MASK if _mixed(m.group(), hexadecimal=True) else m.group()),
    ]


# A long word mixing lower case, upper case and digits is a random token, not a name.
_WORD = r"[A-Za-z0-9+/=_-]{20,}"


def safe(text: str, *, keep: str = "") -> str:
    """``text`` with every non-printable character escaped (``\\x85``, ``\\u202e``, ``\\udcff``).

    Characters in ``keep`` (e.g. ``"\\n"`` for a multi-line message) stay as they are.
    """
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape(ch) for ch in text)


def quote(text: str) -> str:
    """``text`` in single quotes, escaped like :func:`safe` (and ``\\`` and ``'`` too)."""
    return "'" + "".join(ch if ch.isprintable() and ch not in "\\'" else _escape(ch) for ch in text) + "'"


def escape_non_ascii(text: str) -> str:
    """``text`` quoted with every non-ASCII character as ``\\uXXXX``: homoglyphs become visible."""
    return "'" + "".join(ch if " " <= ch < "\x7f" and ch not in "\\'" else _escape(ch) for ch in text) + "'"


def _escape(ch: str) -> str:
    return "\\" + ch if ch in "\\'" else ascii(ch)[1:-1]


def redact(text: str) -> str:
    """``text`` with anything that looks like a token, password or URL credential masked."""
    text = _mask_userinfo(text)
    for pattern, repl in _secrets():
        text = pattern.sub(repl, text)
    return re.sub(_WORD, _random_word, text)


def _random_word(match: re.Match[str]) -> str:
    return _MASK if _mixed(match.group()) else match.group()


def _mixed(word: str, *, hexadecimal: bool = False) -> bool:
    """Digits and letters (of both cases, unless hexadecimal) together: how random tokens look."""
    if not any(c.isdigit() for c in word):
        return False
    if hexadecimal:
        return any(c.isalpha() for c in word)
    return any(c.islower() for c in word) and any(c.isupper() for c in word)


def clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with ``…`` where it was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, redacted, escaped rendering of a user's value for a message.

    Strings are quoted (at most ``limit`` characters of them, with their length
    when cut); lists and mappings are named, not shown.
    """
    if isinstance(value, str):
        # Redact a window a few times longer than what is shown: linear in the
        # window, and a token that starts in the shown part is still masked whole.
        masked = redact(value[: limit * 5])
        shown = quote(clip(masked, limit))
        return shown if len(masked) <= limit else f"{shown} ({len(value):,} characters)"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        return (".inf" if value > 0 else "-.inf") if math.isinf(value) else clip(repr(value), limit)
    if isinstance(value, int):
        digits = len(str(abs(value))) if abs(value) < 10**limit else None
        return str(value) if digits is not None else f"an integer of more than {limit} digits"
    if isinstance(value, dict):
        return f"a mapping of {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"
