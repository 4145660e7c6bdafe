"""The branch roles of the ALOps flow and what each one does by default.

This table is the documentation's table too (README, "Branch roles"); the CI
templates' rules implement the same jobs-per-role, and tests check both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Every role, in the order the README lists them.
ROLES = ("default", "feature", "experiment", "release", "al", "tag", "schedule", "other")
#: Roles given by branch-name patterns, in the order they are tried.
PATTERN_ROLES = ("release", "experiment", "al", "feature")
#: Jobs of the CI templates, in pipeline order.
JOBS = ("plan", "validate", "data", "train", "evaluate")

DEFAULT_PATTERNS = {
    "feature": r"/^feature\//",
    "experiment": r"/^experiment\//",
    "release": r"/^release\//",
    "al": r"/^al\//",
}


@dataclass(frozen=True)
class RoleDefaults:
    dataset: str  # "dev" or "full"
    runner: str  # "cpu" or "gpu"
    jobs: tuple[str, ...]
    push: bool
    summary: str


_PIPELINE = JOBS
ROLE_DEFAULTS = {
    "default": RoleDefaults("full", "gpu", _PIPELINE, True, "the most complete software and model"),
    "feature": RoleDefaults("dev", "cpu", _PIPELINE, False, "fast feedback on the dev dataset"),
    "experiment": RoleDefaults("full", "gpu", _PIPELINE, True, "full data on GPU runners"),
    "release": RoleDefaults("full", "gpu", _PIPELINE, True, "accepted configuration trained on full data"),
    "al": RoleDefaults("full", "gpu", _PIPELINE, True, "active-learning data branch"),
    "tag": RoleDefaults("full", "cpu", ("plan", "validate"), False, "a tagged version"),
    "schedule": RoleDefaults("full", "gpu", _PIPELINE, True, "scheduled pipeline on full data"),
    "other": RoleDefaults("dev", "cpu", _PIPELINE, False, "fallback for branches no pattern matches: like feature"),
}
