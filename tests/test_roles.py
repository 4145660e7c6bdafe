"""The README's branch-role table is the documentation of alops.roles: they must agree."""

from __future__ import annotations

from pathlib import Path

from alops.flow import ci_jobs
from alops.roles import ROLE_DEFAULTS, ROLES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_role_table_matches_role_defaults() -> None:
    rows = {}
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 6 and cells[0].strip("`") in ROLES:
            rows[cells[0].strip("`")] = cells
    assert list(rows) == list(ROLES), "one row per role, in alops.roles order"
    for role, (_, _, dataset, runner, jobs, pushes) in rows.items():
        spec = ROLE_DEFAULTS[role]
        assert dataset == spec.dataset, role
        assert runner == spec.runner.upper(), role
        # the CI jobs of a branch pipeline without split-jobs, prefix left out
        expected = tuple(j.removeprefix("alops-") for j in ci_jobs(spec.jobs, spec.runner, split=False))
        assert tuple(j.strip() for j in jobs.split(",")) == expected, role
        assert pushes == ("yes" if spec.push else "no"), role


def test_every_role_has_defaults() -> None:
    assert set(ROLE_DEFAULTS) == set(ROLES)
    for spec in ROLE_DEFAULTS.values():
        assert spec.dataset in ("dev", "full") and spec.runner in ("cpu", "gpu")
        assert spec.jobs[:2] == ("plan", "validate")
