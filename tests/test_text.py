"""Text from users is printed escaped, redacted and short."""

from __future__ import annotations

import time

import pytest

from alops.text import escape_non_ascii, excerpt, quote, redact, redact_output, safe


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain/text", "plain/text"),
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("c1\x85\x9b", "c1\\x85\\x9b"),
        ("\u202eevil\u2066\u2069\u200e\u200f\u200b\ufeff", "\\u202eevil\\u2066\\u2069\\u200e\\u200f\\u200b\\ufeff"),
        ("bytes\udcff", "bytes\\udcff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("dеv", "dеv"),  # printable: homoglyphs are the key-suggestion's job
    ],
)
def test_safe_escapes_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert safe(text) == shown
    assert safe(text).isprintable()


def test_safe_can_keep_newlines() -> None:
    assert safe("a\nb\tc", keep="\n") == "a\nb\\tc"


def test_quote_and_non_ascii() -> None:
    assert quote("it's a\\b") == "'it\\'s a\\\\b'"
    assert escape_non_ascii("dеv") == "'d\\u0435v'"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("glpat-Ab3dEfGh1jKlMn0pQrSt", "Ab3dEfGh1jKlMn0pQrSt"),
        ("https://oauth2:hunter22@gitlab.com/g/p.git", "hunter22"),
        ("https://tok3nvalue@github.com/x", "tok3nvalue"),
        ("DB_PASSWORD=correct-horse", "correct-horse"),
        ("api_key: 'abc123def'", "abc123def"),
        ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("ghp_" + "a1B2" * 9, "a1B2a1B2"),
        ("xoxb-1234-5678-abcdefgh", "abcdefgh"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
        ("3f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d", "3f2a9c0d8e7b6a5f"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n", "b3BlbnNzaC1rZXk"),
    ],
)
def test_redact(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert secret not in excerpt(text)


@pytest.mark.parametrize("text", ["data/full.dvc", "experiments/run_2024_01_lr0001", "global-settings-xyz", "main"])
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_excerpt_is_short() -> None:
    shown = excerpt("x" * 900_000)
    assert shown == "'" + "x" * 40 + "…' (900,000 characters)"
    assert excerpt(float("nan")) == ".nan" and excerpt(float("-inf")) == "-.inf"
    assert excerpt(10**5000) == "an integer of more than 40 digits"
    assert excerpt({"a": 1}) == "a mapping of 1 key" and excerpt([1, 2]) == "a list of 2 items"


@pytest.mark.parametrize(
    "text", ["a." * 200_000, "a:" * 200_000, "x://" * 100_000, "-----BEGIN PRIVATE KEY-----" * 20_000]
)
def test_redact_is_linear(text: str) -> None:
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 5


def test_redact_hides_url_credentials_key_ids_and_secret_variables() -> None:
    env = {"AWS_SECRET_ACCESS_KEY": "abcdef123456", "MY_TOKEN": "tok-987654", "PATH": "/usr/bin"}
    text = "https://bob:hunter22@host/x s3://b/k AKIAIOSFODNN7EXAMPLE abcdef123456 tok-987654 /usr/bin"
    assert redact_output(text, env) == "https://***@host/x s3://b/k *** *** *** /usr/bin"
