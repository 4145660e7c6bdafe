"""The two sides of a comparison: the workspace now, and a baseline ref (git, else CI artifacts).

A ref's metrics files are tracked by git (``cache: false``), so git is asked
first: the ref as given, else ``origin/REF``, fetched when it is missing or the
clone is shallow (CI jobs clone shallow and fetch only their own branch). When
the ref's commit holds none of the metrics files (a project that keeps them
out of git, or a branch whose run has only happened in CI), the run manifest
its CI job kept as an artifact is read instead, through GitLab's API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alops import env as variables
from alops import git, metrics, params, proc, versions
from alops.compare import Snapshot
from alops.config import Config
from alops.errors import ConfigError, DataError
from alops.flow import Plan
from alops.text import quote

#: The CI job whose artifacts hold a branch's run manifest, unless ALOPS_BASELINE_JOB says otherwise.
DEFAULT_JOB = "alops-run-gpu"


def default_ref(config: Config, env: Mapping[str, str]) -> str | None:
    """The baseline a run is compared with: the MR's target branch, else the default branch, else origin's HEAD."""
    for name in (variables.CI_MERGE_REQUEST_TARGET_BRANCH_NAME, variables.CI_DEFAULT_BRANCH):
        if env.get(name):
            return env[name]
    return git.default_branch(config.root)


def current(config: Config, plan: Plan, env: Mapping[str, str]) -> Snapshot:
    """The workspace: its metrics files, parameters file and data versions; ``commit`` is HEAD."""
    root = config.root
    read = versions.files(root)
    head = git.output(root, "rev-parse", "--verify", "--quiet", "HEAD", env=env)
    return Snapshot(
        label="workspace",
        source="workspace",
        commit=head,
        metrics=metrics.read(config, plan.dataset, plan.role),
        params=_params(config, read, "the workspace"),
        data=versions.of_flow(config, plan.dataset, read, "the workspace"),
    )


def at_ref(config: Config, plan: Plan, ref: str, env: Mapping[str, str]) -> Snapshot:
    """``ref``'s metrics, parameters and data versions: from git, else from its CI artifacts, else none (and why)."""
    root = config.root
    commit, why = _resolve(root, ref, env)
    found = {} if commit is None else metrics.at_revision(config, commit, plan.dataset, plan.role, env)
    if commit is not None and found:

        def read(name: str) -> str | None:
            return git.output(root, "cat-file", "blob", f"{commit}:./{name}", strip=False, env=env)

        where = f"{ref} ({commit[:8]})"
        return Snapshot(
            label=ref,
            source="git",
            commit=commit,
            metrics=found,
            params=_params(config, read, where),
            data=versions.of_flow(config, plan.dataset, read, where),
        )
    names = ", ".join(metrics.files(config, plan.dataset, plan.role))
    missing = why if commit is None else f"{ref} (commit {commit[:8]}) has none of the metrics files ({names}) in git"
    return _from_artifacts(ref, missing, plan.dataset, env)


def _resolve(root: Path, ref: str, env: Mapping[str, str]) -> tuple[str | None, str]:
    """``ref``'s commit, fetching it from origin when it is missing or the clone is shallow; else None and why."""
    found = _commit(root, ref, env)
    shallow = git.output(root, "rev-parse", "--is-shallow-repository", env=env) == "true"
    if found is not None and not shallow:
        return found, ""
    # A branch name git allows (never an option, nor `@{-1}`, which it would expand) goes into the refspec.
    if git.output(root, "check-ref-format", "--branch", ref, env=env) != ref:
        if found is not None:
            return found, ""
        return None, f"{quote(ref)} is no commit here and not a branch name git allows, so it cannot be fetched"
    failed = _fetch(root, ref, env, shallow=shallow)
    remote = _commit(root, f"refs/remotes/origin/{ref}", env) if failed is None else None
    if remote is not None:
        return remote, ""
    if found is not None:
        return found, ""
    return None, f"{quote(ref)} is not a commit here, nor a branch of origin (`git fetch origin {ref}`: {failed})"


def _fetch(root: Path, ref: str, env: Mapping[str, str], *, shallow: bool) -> str | None:
    """Fetch branch ``ref`` of origin as ``origin/REF``; None when done, else what git said."""
    from alops.text import redact_output

    # A shallow clone stays shallow (one commit is enough); a full clone gets the branch's whole history,
    # since --depth would make the user's clone shallow.
    depth = ["--depth=1"] if shallow else []
    spec = f"+refs/heads/{ref}:refs/remotes/origin/{ref}"
    quiet = {**env, "GIT_TERMINAL_PROMPT": "0"}  # never ask for a password
    done = proc.run(["git", "fetch", "--quiet", "--no-tags", *depth, "origin", spec], cwd=root, env=quiet, check=False)
    if done.returncode == 0:
        return None
    said = [line for line in done.stderr.splitlines() if line.startswith(("fatal:", "error:"))]
    return redact_output(said[0], env) if said else f"exit code {done.returncode}"  # its first complaint


def _commit(root: Path, ref: str, env: Mapping[str, str]) -> str | None:
    return git.output(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", env=env)


def _from_artifacts(ref: str, missing: str, dataset: str, env: Mapping[str, str]) -> Snapshot:
    from alops import gitlab

    project = env.get(variables.CI_PROJECT_ID)
    token = env.get(variables.GITLAB_TOKEN, "").strip() or env.get(variables.CI_JOB_TOKEN)
    try:
        server = gitlab.server_url(env) if token else None
    except ConfigError:
        server = None
    if not (project and server):
        note = (
            f"{missing}, and GitLab is not configured to read the CI artifacts of {ref} "
            f"(set {variables.CI_PROJECT_ID}, {variables.GITLAB_URL} and {variables.GITLAB_TOKEN}; a CI job has them)"
        )
        return Snapshot(label=ref, source="none", note=note)
    from alops import manifest

    job = env.get(variables.BASELINE_JOB) or DEFAULT_JOB
    client = gitlab.client_from_env(env)
    try:
        data = gitlab.artifact_file(client, project, ref=ref, job=job, path=manifest.FILE)
    except DataError as exc:  # 401/403: say which token was refused and what it needs
        used = variables.GITLAB_TOKEN if client.private_token else variables.CI_JOB_TOKEN
        refused = str(exc).split(": check that", 1)[0]
        raise DataError(
            f"{refused}: the token in {used} may not read this project's job artifacts; set {variables.GITLAB_TOKEN} "
            "to a project access token with the read_api scope (role Reporter or higher) that has not expired"
        ) from None
    if data is None:
        note = (
            f"{missing}, and the latest successful pipeline of {ref} has no {manifest.FILE} in the artifacts of "
            f"job {job}: run a pipeline of {ref}, or set {variables.BASELINE_JOB} to the job that keeps the manifest"
        )
        return Snapshot(label=ref, source="none", note=note)
    run = manifest.loads(data, f"{manifest.FILE} of job {job} on {ref}")
    if run.get("dataset") != dataset:
        # A feature branch's dev-data metrics held to the default branch's full-data run would compare two datasets.
        note = (
            f"{missing}, and the run in the artifacts of job {job} on {ref} used the {run.get('dataset')} dataset, "
            f"not {dataset}: commit {ref}'s {dataset} metrics (`alops run --flow feature` there) to compare with them"
        )
        return Snapshot(label=ref, source="none", note=note)
    found = manifest.snapshot(run, ref, "artifacts")
    note = f"{missing}: read from {manifest.FILE} in the artifacts of job {job}"
    return dataclasses.replace(found, label=ref, note=note)


def _params(config: Config, read: versions.Reader, where: str) -> dict[str, dict[str, Any]]:
    import yaml

    name = params.file_of(config)
    text = read(name)
    if text is None:
        return {}
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{name} in {where} is not readable YAML ({exc}): correct it") from None
    return {name: params.flat(doc)} if isinstance(doc, dict) else {}
