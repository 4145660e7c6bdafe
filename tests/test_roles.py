"""The README's branch-role table is the documentation of alops.roles: they must agree."""

from __future__ import annotations

from pathlib import Path

from alops.flow import ci_jobs
from alops.roles import AL_JOBS, AL_STEPS, ROLE_DEFAULTS, ROLES

README = Path(__file__).resolve().parents[1] / "README.md"
TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "alops.yml"


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


def test_the_al_steps_and_jobs_are_the_template_s() -> None:
    text = TEMPLATE.read_text()
    for job in AL_JOBS:
        assert f'"$[[ inputs.job-prefix ]]-{job}":' in text, job
    for step in AL_STEPS:
        assert f'$ALOPS_AL_STEP == "{step}"' in text or f'$ALOPS_AL_STEP != "{step}"' in text, step
    # the al role's own jobs are its train step's: what `alops run` and the project checks read
    assert ROLE_DEFAULTS["al"].jobs == ROLE_DEFAULTS["experiment"].jobs
