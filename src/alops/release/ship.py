"""``alops release``: ship the model a release branch trained, only when it passes the gates.

The order makes a failed or retried job safe. Everything is checked first (the
run manifest is this commit's, clean, on the release role's dataset; the gates
pass; the version is free), then the package is uploaded (a registry never
rewrites a version, and takes the same bytes again), the model is registered
(found again by its version when it was), and the registration tag comes last:
the tag is what makes a version released, so a job that failed before it left
no release, and its retry picks the same version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops.errors import ConfigError, DataError, GateFailedError

if TYPE_CHECKING:
    from alops.compare import Snapshot
    from alops.config import Config
    from alops.flow import Plan
    from alops.gate import GateResult
    from alops.release.mlflow import ModelVersion
    from alops.release.notes import Link
    from alops.release.publish import Publisher
    from alops.release.registry import Registry
    from alops.release.tags import TagStore
    from alops.release.version import Version
    from alops.sections import Release

#: What a release job leaves in its folder (the job's artifacts): the package and the notes.
NOTES = "RELEASE.md"


@dataclass(frozen=True)
class Shipped:
    """What ``alops release`` did (or, with ``dry_run`` or ``already``, would have nothing to do)."""

    model: str
    version: str
    tag: str
    commit: str
    gate: GateResult
    already: bool = False  # this commit was released before, as ``version``: nothing was done
    archive: Path | None = None
    links: tuple[Link, ...] = ()
    registered: ModelVersion | None = None
    registry_note: str | None = None  # why the model registry was left out, when it was
    release_url: str | None = None
    notes: Path | None = None


@dataclass(frozen=True)
class Services:
    """Where a release goes: chosen by :func:`services` from the environment, or given by a test."""

    registry: Registry
    tags: TagStore
    publisher: Publisher


def services(root: Path, env: Mapping[str, str]) -> Services:
    """GitLab's package registry, tags and Releases in a CI job (or with ALOPS_GITLAB_URL); else local ones."""
    from alops.release import registry
    from alops.release.publish import GitLabReleases, LocalPublisher
    from alops.release.tags import GitLabTags, LocalTags

    found = registry.from_env(root, env)
    project = env.get(variables.CI_PROJECT_ID)
    if isinstance(found, registry.GenericPackages) and project:
        from alops.gitlab import client_from_env

        client = client_from_env(env)
        return Services(found, GitLabTags(client, project), GitLabReleases(client, project))
    return Services(found, LocalTags(root, env), LocalPublisher(root, env))


def ship(
    config: Config,
    *,
    manifest_path: Path,
    env: Mapping[str, str],
    out: Path,
    using: Services,
    branch: str | None = None,
    version: str | None = None,
    bump: str | None = None,
    against: str | None = None,
    dry_run: bool = False,
) -> Shipped:
    """Check, version, package, register and release the run of ``manifest_path``."""
    from alops import gate as gates
    from alops import manifest as manifests
    from alops.flow import current_plan
    from alops.release.tags import registration_tag

    release = release_section(config)
    run = manifests.load(manifest_path)
    plan = current_plan(config, env, branch=branch)
    commit = _check_run(config, plan, run, manifest_path, env)
    current = manifests.snapshot(run, "this release", "manifest")
    checked = gates.check(config, plan, current.metrics, env, against)
    if checked.result.failed:
        raise GateFailedError(
            f"{len(checked.result.failed)} of {len(checked.result.checks)} quality gates failed: nothing was "
            "released (no package, no registration, no tag)\n" + _failures(checked.result)
        )
    known = using.tags.read(release.model)
    for reg in known.registrations:
        if reg.commit == commit:  # a retried job whose release went through: nothing more to do
            return Shipped(release.model, str(reg.version), reg.tag, commit, checked.result, already=True)
    chosen = _version(release, plan, known.released(), version, bump)
    tag = registration_tag(release.model, chosen)
    if dry_run:
        return Shipped(release.model, str(chosen), tag, commit, checked.result)
    return _publish(config, release, run, manifest_path, chosen, tag, commit, checked, current, out, using, env)


def _publish(
    config: Config,
    release: Release,
    run: Mapping[str, Any],
    manifest_path: Path,
    chosen: Version,
    tag: str,
    commit: str,
    checked: Any,
    current: Snapshot,
    out: Path,
    using: Services,
    env: Mapping[str, str],
) -> Shipped:
    from alops import atomic
    from alops.release import mlflow, notes, package
    from alops.release.tags import registration_message

    built = package.build(config.root, release, run, str(chosen), out)
    links = list(using.registry.upload(built, manifest_path))
    registered, why_not = None, None
    where = mlflow.tracking(env)
    if where is None:
        why_not = (
            "no model registry: set MLFLOW_TRACKING_URI (any MLflow server), or in GitLab CI "
            f"{variables.GITLAB_TOKEN} (api scope) for GitLab's model registry"
        )
    else:
        registered = mlflow.register(where[0], where[1], built, run)
        # GitLab's API answers no page of the model version; its model registry's page is the project's.
        page = registered.url or (
            env[variables.CI_PROJECT_URL] + "/-/ml/models" if env.get(variables.CI_PROJECT_URL) else None
        )
        if page:
            links.append(_link(f"{release.model} {chosen} in the model registry", page))
    text = notes.render(
        model=release.model,
        version=str(chosen),
        manifest=run,
        gate=checked.result,
        current=current,
        baseline=checked.baseline,
        links=links,
    )
    notes_file = out / NOTES
    with atomic.writing_to(notes_file):
        atomic.write_text(notes_file, text)
    done = using.publisher.publish(
        tag=tag,
        commit=commit,
        message=registration_message(release.model, chosen),
        title=f"{release.model} {chosen}",
        notes=text,
        links=links,
    )
    return Shipped(
        release.model,
        str(chosen),
        tag,
        commit,
        checked.result,
        archive=built.archive,
        links=tuple(links),
        registered=registered,
        registry_note=why_not,
        release_url=done.url,
        notes=notes_file,
    )


def _link(name: str, url: str) -> Link:
    from alops.release.notes import Link

    return Link(name, url)


def release_section(config: Config) -> Release:
    """alops.yaml's release section, or the error that says what to add."""
    if config.release is None:
        raise ConfigError(
            f"{config.path} has no release section: add `release: {{model: NAME}}` (see `alops config schema`), "
            "naming the model a release ships"
        )
    return config.release


def _check_run(config: Config, plan: Plan, run: Mapping[str, Any], path: Path, env: Mapping[str, str]) -> str:
    """The run's commit, once the run is this checkout's, clean, and on the release role's data."""
    from alops import git

    if plan.role != "release":
        raise ConfigError(
            f"`alops release` ships from release branches (alops.yaml branches.release: {config.branches['release']}); "
            f"{plan.ref} is not one (its role: {plan.role}): push the commit to release/X.Y"
        )
    head = env.get(variables.CI_COMMIT_SHA) or git.output(config.root, "rev-parse", "--verify", "--quiet", "HEAD")
    commit = str(run.get("commit") or "")
    if head and commit != head:
        raise DataError(
            f"{path} is the run of commit {commit[:12]}, not of {head[:12]}: a release ships the model this "
            "commit trained (in CI: the release job needs the run job's artifacts)"
        )
    if run.get("dirty"):
        shown = ", ".join(str(f) for f in run["dirty"][:5])
        raise DataError(
            f"{path} is the run of a working tree with uncommitted changes ({shown}): commit them, run again"
        )
    if run.get("dataset") != plan.dataset:
        raise DataError(
            f"{path} is a run on the {run.get('dataset')} data; the release role trains on the {plan.dataset} data"
        )
    return commit


def _version(release: Release, plan: Plan, released: list[Version], explicit: str | None, bump: str | None) -> Version:
    from alops.release.version import branch_line, next_version, option

    if explicit is not None:
        wanted = option(explicit)
        if wanted in released:
            raise DataError(f"{release.model} {wanted} is already released: choose another version")
        return wanted
    return next_version(branch_line(plan.ref), released, bump or release.bump)  # deregistered ones too: never reused


def _failures(result: GateResult) -> str:
    return "\n".join(f"  FAIL  {c.message}" for c in result.failed)
