"""Helpers shared by tests (on sys.path through pytest's `pythonpath = ["tests"]`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Variables a test must never inherit: the CI context, gitlab-ci-local's own
#: GCL_* options, and alops's settings.
NOT_PASSED = ("CI_", "GITLAB_", "ALOPS_", "GCL_")


def isolate(mp: pytest.MonkeyPatch, home: Path) -> None:
    """No CI context, no user or system git/DVC configuration, a throw-away HOME."""
    for key in list(os.environ):
        if key == "CI" or key.startswith(NOT_PASSED):
            mp.delenv(key)
    home.mkdir(parents=True, exist_ok=True)
    for key, value in {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "alops tests",
        "GIT_AUTHOR_EMAIL": "tests@alops.invalid",
        "GIT_COMMITTER_NAME": "alops tests",
        "GIT_COMMITTER_EMAIL": "tests@alops.invalid",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / ".dvc-site"),
    }.items():
        mp.setenv(key, value)
