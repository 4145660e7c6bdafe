"""The branch roles of the ALOps flow and what each one does by default.

This table is the documentation's table too (README, "Branch roles"); the CI
templates' rules implement the same jobs-per-role, and tests check both agree.
What alops.yaml can change (the branch patterns, each role's dataset and push)
takes its default from the schema, where every default is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from alops.schema import schema
from alops.schema.defaults import defaults_at

#: Every role, in the order the README lists them.
ROLES = ("default", "feature", "experiment", "release", "al", "tag", "schedule", "other")
#: Roles given by branch-name patterns, in the order they are tried.
PATTERN_ROLES = ("release", "experiment", "al", "feature")
#: Jobs of the CI templates, in pipeline order.
JOBS = ("plan", "validate", "data", "train", "evaluate")
#: What a pipeline of an active-learning branch does (``ALOPS_AL_STEP``; empty: a scheduled
#: pipeline queries, any other trains).
AL_STEPS = ("query", "ingest", "train")
#: The template's jobs of the active-learning loop (``<prefix>-al-query``, ...), in pipeline order.
AL_JOBS = ("al-query", "al-export", "al-ingest", "al-record")

#: What an empty `branches:` means: the pattern of each role given by branch names.
DEFAULT_PATTERNS: dict[str, str] = defaults_at(schema(), "branches")


@dataclass(frozen=True)
class RoleDefaults:
    dataset: str  # "dev" or "full"
    runner: str  # "cpu" or "gpu"
    jobs: tuple[str, ...]
    push: bool
    summary: str


_PIPELINE = JOBS
#: Runner class, jobs and summary of each role; not settable in alops.yaml.
_FIXED = {
    "default": ("gpu", _PIPELINE, "the most complete software and model"),
    "feature": ("cpu", _PIPELINE, "fast feedback on the dev dataset"),
    "experiment": ("gpu", _PIPELINE, "full data on GPU runners"),
    "release": ("gpu", _PIPELINE, "accepted configuration trained on full data"),
    "al": ("gpu", _PIPELINE, "active-learning data branch"),
    "tag": ("cpu", ("plan", "validate"), "a tagged version"),
    "schedule": ("gpu", _PIPELINE, "scheduled pipeline on full data"),
    "other": ("cpu", _PIPELINE, "fallback for branches no pattern matches: like feature"),
}
_FLOWS = defaults_at(schema(), "flows")  # what an empty `flows:` means: each role's dataset and push
ROLE_DEFAULTS = {
    role: RoleDefaults(_FLOWS[role]["dataset"], runner, jobs, _FLOWS[role]["push"], summary)
    for role, (runner, jobs, summary) in _FIXED.items()
}
