"""`alops devset refresh`: check the dev set; when it fails, rebuild it and open a merge request.

What the scheduled (or manual) CI job runs. Steps, each stopping the run with
an AlopsError when it fails:

1. check; representative: done.
2. read the GitLab settings (before a long rebuild: a missing token fails fast);
3. rebuild the dev set (``alops.devset.build.run``, which ``dvc add``s it), check it again;
4. commit its ``.dvc`` file, the build report and the check reports on
   ``alops/devset-refresh-<date>-<sha>``;
5. ``dvc push`` the new dev set, push the branch, open (or update) the merge request.

``dry_run`` stops after step 4: nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from alops import dvc, gitlab, gitpush
from alops import env as variables
from alops.config import Config
from alops.devset.check import report as check_report
from alops.devset.check.run import CheckResult, check
from alops.devset.refresh import git as refresh_git
from alops.errors import ConfigError, NotRepresentativeError


@dataclass(frozen=True)
class RefreshResult:
    """What `alops devset refresh` did."""

    before: CheckResult
    reports: tuple[Path, ...]
    after: CheckResult | None = None
    branch: str | None = None
    commit: str | None = None
    url: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class Destination:
    """Where the refresh goes: the repository to push to and the merge request's project and target."""

    token: str
    push_url: str
    project: str
    target: str


def destination(env: Mapping[str, str], target: str | None = None) -> Destination:
    """The push URL, project and target branch from the environment; the token is checked first."""
    token = gitlab.write_token(env)
    server = gitlab.server_url(env)
    project = env.get(variables.CI_PROJECT_ID) or env.get(variables.CI_PROJECT_PATH)
    if not project:
        raise ConfigError(
            f"the GitLab project is unknown: set {variables.CI_PROJECT_ID} or {variables.CI_PROJECT_PATH} "
            "(GitLab sets both in CI)"
        )
    branch = target or env.get(variables.CI_COMMIT_BRANCH) or env.get(variables.CI_DEFAULT_BRANCH)
    if not branch:
        raise ConfigError("the merge request's target branch is unknown: pass --target BRANCH")
    return Destination(token, gitpush.push_url(env, server), project, branch)


def refresh(
    config: Config,
    *,
    env: Mapping[str, str],
    report_dir: Path,
    dry_run: bool = False,
    target: str | None = None,
    today: date | None = None,
) -> RefreshResult:
    """Check the dev set; if it no longer represents the full data, rebuild it and propose it for review."""
    before = check(config)
    reports: tuple[Path, ...] = check_report.write(before, report_dir)
    if before.representative:
        return RefreshResult(before, reports)
    where = None if dry_run else destination(env, target)
    root = config.root
    base = refresh_git.head(root)
    data = _rebuild(config, env)
    after = check(config)
    reports += check_report.write(after, report_dir, stem="rebuilt")
    inside = [p.resolve() for p in reports if p.resolve().is_relative_to(root.resolve())]
    extra = [str(p.relative_to(root.resolve())) for p in inside] + data[1:]
    day = today or datetime.now(UTC).date()
    branch = refresh_git.branch_name(day, base)
    sha = refresh_git.commit(root, branch, data[:1], extra, _message(before, after), env)
    if sha is None:
        raise NotRepresentativeError(
            f"the rebuilt dev set is the same as before and still fails the check ({check_report.verdict(after)}): "
            "the builder cannot do better with these settings: change datasets.dev.build (another seed, or a larger "
            "fraction) or loosen datasets.dev.check in alops.yaml"
        )
    if where is None:
        return RefreshResult(before, reports, after, branch, sha, dry_run=True)
    dvc.push(targets=data[:1], remote=config.datasets["dev"].remote, run_cache=False, cwd=root, env=env)
    refresh_git.push(root, where.push_url, branch, where.token, env)
    client = gitlab.client_from_env(env, require_write=True)
    url = gitlab.open_merge_request(
        client,
        where.project,
        source=branch,
        target=where.target,
        title=f"Refresh the dev dataset ({day:%Y-%m-%d}): {len(before.failures)} checks failed",
        description=description(before, after, env),
    )
    return RefreshResult(before, reports, after, branch, sha, url)


def description(before: CheckResult, after: CheckResult, env: Mapping[str, str]) -> str:
    """The merge request's description: why, the state after the rebuild, the failed check in full."""
    pipeline = env.get(variables.CI_PIPELINE_URL, "")
    by = (
        f"`alops devset refresh` in pipeline {pipeline}"
        if pipeline.startswith("https://")
        else "`alops devset refresh`"
    )
    return (
        f"Opened by {by}: the dev set no longer represented the full data, so it was rebuilt from it "
        "and pushed to the DVC remote. Merge to use it on feature branches; close to keep the old one.\n\n"
        f"**After the rebuild:** {check_report.verdict(after, quote=check_report.code)}\n\n"
        + check_report.markdown(before)
    )


def _message(before: CheckResult, after: CheckResult) -> str:
    lines = [f"Refresh the dev dataset: {len(before.failures)} of {len(before.findings)} checks failed", ""]
    lines += [f"- {check_report.plain(f.column)}: {f.test} failed" for f in before.failures[:20]]
    lines += ["", check_report.verdict(after)]
    return "\n".join(lines)


def _rebuild(config: Config, env: Mapping[str, str]) -> list[str]:
    """Rebuild the dev set and ``dvc add`` it; its ``.dvc`` file first, then the other files to commit."""
    from alops.devset.build.run import build
    from alops.devset.build.spec import build_spec

    built = build(build_spec(config), track=True, env=env)
    output = Path(built.output)
    tracked = built.tracked or f"{built.output}.dvc"
    # `dvc add` writes a .gitignore beside the output the first time; the build report is meant for git.
    others = [str(output.parent / ".gitignore"), *built.reports]
    return [tracked, *(p for p in others if (config.root / p).exists())]
