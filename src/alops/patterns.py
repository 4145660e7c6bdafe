"""Branch patterns: GitLab rules regular expressions, read and matched as GitLab does.

GitLab evaluates ``$CI_COMMIT_REF_NAME =~ /regex/flags`` with RE2 (linear
time, no lookarounds or backreferences), flags ``i``, ``s``, ``m`` and ``U``
prepended as ``(?flags)``, ``\\/`` read as ``/``, and "matches" meaning the
regex is found anywhere in the name:

- docs: https://docs.gitlab.com/ci/jobs/job_rules/#compare-a-variable-to-a-regular-expression
- lexer: gitlab-org/gitlab lib/gitlab/ci/pipeline/expression/lexeme/pattern.rb
  (``PATTERN = %r{^\\/([^\\/]|\\\\/)+[^\\\\]\\/[ismU]*}``, then ``gsub(%r{\\\\/}, '/')``)
- flags: lib/gitlab/untrusted_regexp/ruby_syntax.rb (``%r{^/(?<regexp>.*)/(?<flags>[ismU]*)$}``)
- RE2: lib/gitlab/untrusted_regexp.rb (``RE2::Regexp.new(pattern, log_errors: false)``)
- "matches": lib/gitlab/ci/pipeline/expression/lexeme/matches.rb (``regexp.scan(text).present?``)

So alops compiles patterns with RE2 too (PyPI google-re2): a pattern GitLab
refuses is refused here, and a hostile pattern cannot hang ``alops flow``.
RE2 is imported only for patterns that are not a plain ``^literal`` prefix
(the defaults are), which keeps ``alops flow`` start-up fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from alops.errors import ConfigError
from alops.text import clip, excerpt, safe

#: Longest pattern accepted (the schema's limit for alops.yaml; ALOPS_*_BRANCHES too).
MAX_CHARS = 500
# GitLab's lexer for a /regex/flags token in a rules expression (see above), with one
# refusal more: the last character before the closing slash may be '/' only as '\\/'.
# GitLab's lexer reads "/^release//" as the regex "^release/", but that text is what
# YAML makes of a double-quoted "/^release\\//": a quoting mistake, refused here and by
# the template inputs' regex alike.
_LEXEME = re.compile(r"/(?:(?:[^/]|\\/)+[^\\/]|(?:[^/]|\\/)*\\/)/[ismU]*\Z")
# A body that is ``^`` and literal characters matches exactly a prefix.
_PREFIX = re.compile(r"\^((?:[A-Za-z0-9_-]|\\/|/)+)\Z")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
EXAMPLE = r"/^feature\//"


def lexes(text: str) -> bool:
    """True when GitLab's rules lexer reads all of ``text`` as one ``/regex/flags`` token (see ``_LEXEME``)."""
    return _LEXEME.match(text) is not None


class PatternError(ConfigError):
    """A branch pattern GitLab would refuse; ``pattern`` is the text, for saying where it came from."""

    def __init__(self, message: str, *, pattern: object) -> None:
        super().__init__(message)
        self.pattern = pattern


@dataclass(frozen=True)
class BranchPattern:
    """A compiled GitLab rules regular expression."""

    source: str
    prefix: str | None
    regex: Any = None

    def search(self, name: str) -> bool:
        """True when the pattern matches ``name`` anywhere, as GitLab's ``=~`` does."""
        if self.prefix is not None:
            return name.startswith(self.prefix)
        # A name read from git may hold undecodable bytes as lone surrogates;
        # RE2 takes UTF-8, so match its replacement-character form.
        return self.regex.search(_SURROGATE.sub("\ufffd", name)) is not None


@lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> BranchPattern:
    """Compile ``/regex/flags``; raise PatternError saying what GitLab would refuse."""
    if not isinstance(pattern, str) or len(pattern) > MAX_CHARS:
        raise PatternError(
            f"{excerpt(pattern)} is longer than {MAX_CHARS} characters; keep branch patterns short", pattern=pattern
        )
    if not pattern.isprintable():
        raise PatternError(
            f"{excerpt(pattern)} holds control or invisible characters; write the pattern in plain text",
            pattern=pattern,
        )
    if not lexes(pattern):
        raise PatternError(
            f"{excerpt(pattern)} is not a GitLab regular expression: write it as /regex/ with at least two "
            f"characters between the slashes, each '/' inside written '\\/', and only the flags i, s, m, U after "
            f"the last slash, e.g. {EXAMPLE}",
            pattern=pattern,
        )
    value = pattern.replace("\\/", "/")
    end = value.rindex("/")
    body, flags = value[1:end], value[end + 1 :]
    prefix = _PREFIX.match(body)
    if prefix and not flags:
        return BranchPattern(pattern, prefix.group(1).replace("\\/", "/"))
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False  # RE2 would print each parse error to stderr itself
    try:
        regex = re2.compile(f"(?{flags}){body}" if flags else body, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(
            f"{excerpt(pattern)} is not a valid regular expression for GitLab (RE2 syntax, "
            f"https://github.com/google/re2/wiki/Syntax; no lookarounds or backreferences): {safe(clip(reason, 80))}",
            pattern=pattern,
        ) from None
    return BranchPattern(pattern, None, regex)
