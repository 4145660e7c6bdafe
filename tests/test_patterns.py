"""Branch patterns are read and matched as GitLab's rules do: RE2, flags i s m U, linear time.

GitLab's rules: https://docs.gitlab.com/ci/jobs/job_rules/#compare-a-variable-to-a-regular-expression
(lexeme/pattern.rb, untrusted_regexp/ruby_syntax.rb in gitlab-org/gitlab).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alops.errors import ConfigError
from alops.flow import Context, role_of
from alops.patterns import PatternError, compile_pattern
from alops.roles import DEFAULT_PATTERNS

HERE = Path(__file__).parent
HOSTILE = json.loads((HERE / "data" / "hostile_branches.json").read_text())


@pytest.mark.parametrize("case", HOSTILE["pattern_cases"], ids=lambda c: ascii(c["patterns"])[:50])
def test_hostile_patterns(case: dict[str, object]) -> None:
    patterns = {**DEFAULT_PATTERNS, **case["patterns"]}  # type: ignore[dict-item]
    start = time.perf_counter()
    if "error" in case:
        with pytest.raises(ConfigError) as info:
            role_of(Context(str(case.get("branch", "x")), None, "push", "main"), patterns)
        message = str(info.value)
        assert str(case["error"]) in message
        assert len(message) < 400 and message.isprintable()
    else:
        role, reason = role_of(Context(str(case["branch"]), None, "push", "main"), patterns)
        assert role == case["role"]
    assert time.perf_counter() - start < 2.0, "matching must be linear: RE2, never backtracking"


def test_pattern_corpus_is_large_enough() -> None:
    assert len(HOSTILE["pattern_cases"]) >= 30


@pytest.mark.parametrize(
    ("pattern", "branch", "matches"),
    [
        (r"/^feature\//", "feature/x", True),
        (r"/^feature\//", "Feature/x", False),
        (r"/^feature\//i", "Feature/x", True),
        (r"/^release\/v\d+/", "release/v12", True),
        (r"/^release\/v\d+/", "release/next", False),
        (r"/^a.b$/", "a\nb", False),
        (r"/^a.b$/s", "a\nb", True),
        (r"/^b$/", "a\nb", False),
        (r"/^b$/m", "a\nb", True),
        (r"/^a+?$/U", "aaa", True),  # U swaps greediness; the match still exists
        (r"/^K$/i", "\u212a", True),  # RE2 folds case the Unicode way: KELVIN SIGN
        (r"/feature/", "my-feature", True),  # found anywhere, as GitLab's =~
        (r"/\p{Greek}/", "αβ", True),  # RE2 syntax Python's re lacks
        (r"/^[[:digit:]]+$/", "123", True),
    ],
)
def test_matching(pattern: str, branch: str, matches: bool) -> None:
    assert compile_pattern(pattern).search(branch) is matches


@pytest.mark.parametrize("branch", [c["branch"] for c in HOSTILE["cases"]] + ["feature", "feature/", "featurex/"])
@pytest.mark.parametrize("pattern", list(DEFAULT_PATTERNS.values()) + [r"/^a-b_c\/d/"])
def test_prefix_fast_path_agrees_with_re2(pattern: str, branch: str) -> None:
    """Plain ``/^literal/`` patterns skip RE2 (start-up time): they must match exactly as RE2 does."""
    import re2

    fast = compile_pattern(pattern)
    assert fast.prefix is not None
    body = pattern[1:-1].replace("\\/", "/")
    options = re2.Options()
    options.log_errors = False
    slow = re2.compile(body, options).search(re.sub(r"[\ud800-\udfff]", "\ufffd", branch)) is not None
    assert fast.search(branch) is slow


def test_refused_pattern_logs_nothing_and_names_re2() -> None:
    code = (
        "from alops.patterns import compile_pattern\n"
        "try:\n    compile_pattern('/^(?!main)/')\nexcept Exception as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert done.stderr == "", "RE2 must not print its own parse errors"
    assert "RE2 syntax" in done.stdout and "invalid perl operator: (?!" in done.stdout


def test_default_patterns_do_not_import_re2() -> None:
    code = (
        "import sys\nfrom alops.patterns import compile_pattern\n"
        "for p in ('/^feature\\\\//', '/^experiment\\\\//', '/^release\\\\//', '/^al\\\\//'):\n"
        "    compile_pattern(p).search('feature/x')\n"
        "print('re2' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert done.stdout.strip() == "False"


def test_a_bare_slash_before_the_closing_one_is_refused() -> None:
    """GitLab's lexer would read it as part of the body, but it is what YAML makes of a
    double-quoted "/^feature\\//": a quoting mistake, refused as the template input is."""
    with pytest.raises(PatternError, match="is not a GitLab regular expression"):
        compile_pattern(r"/^feature//")
    assert compile_pattern(r"/^feature\//").search("feature/x")
