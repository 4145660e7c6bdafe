"""``alops reproduce``: rerun a run manifest's commit, data and parameters in a git worktree; compare the metrics.

The rerun happens in a temporary ``git worktree`` of the manifest's commit, so
the workspace is never touched. Its DVC cache is the main checkout's (nothing
is copied twice), the manifest's ``--set`` values are applied, the dataset is
pulled, and the manifest's stages run again with ``dvc repro --force`` (a real
rerun: nothing comes from the run-cache). Its metrics must equal the
manifest's (within ``tolerance``), and the data it read must be the data the
manifest names.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alops import manifest as manifests
from alops import proc
from alops.config import Config
from alops.errors import ConfigError, DataError

#: A GitLab pipeline's page: ``https://host/group/project/-/pipelines/123``.
PIPELINE_URL = re.compile(r"^(https?://[^/?#]+)((?:/[^/?#]+)+?)/-/pipelines/(\d+)/?$")
#: The jobs whose artifacts hold the run manifest, most likely first (the template's run and evaluate jobs).
MANIFEST_JOBS = ("-run", "-run-gpu", "-evaluate", "-evaluate-gpu")


@dataclass(frozen=True)
class Row:
    """One metric of the manifest or the rerun; ``None`` where that side has none."""

    file: str
    metric: str
    manifest: float | None
    rerun: float | None
    same: bool


@dataclass(frozen=True)
class DataCheck:
    """One DVC-tracked path whose hash in the rerun differs from the manifest's."""

    path: str
    manifest: str | None
    rerun: str | None
    input: bool  # something the stages read (a different version of it); else an output the rerun wrote
    data: bool = False  # a DVC-tracked dataset path (the manifest's ``data``), not a stage's own dependency

    @property
    def what(self) -> str:
        if not self.input:
            return "output differs (the metrics decide)"
        return "data version differs" if self.data else "input differs"


@dataclass(frozen=True)
class Result:
    """What :func:`reproduce` found."""

    where: str  # where the manifest came from (a file, or a job of a pipeline)
    commit: str
    stages: tuple[str, ...]
    metrics: tuple[Row, ...]
    data: tuple[DataCheck, ...]
    params: tuple[str, ...]  # parameters the rerun had other than the manifest's (a dirty workspace)
    warnings: tuple[str, ...]
    workdir: Path | None  # the worktree, when it was kept

    @property
    def reproduced(self) -> bool:
        return all(r.same for r in self.metrics) and not any(d.input for d in self.data) and not self.params


def obtain(source: str, env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """The manifest ``source`` names (a file, or a pipeline's URL) and a description of where it was."""
    if PIPELINE_URL.match(source):
        return from_pipeline(source, env)
    return manifests.load(source), source


def from_pipeline(url: str, env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """The manifest in the artifacts of a job of the pipeline at ``url`` (its run or evaluate job first)."""
    import gitlab.exceptions

    from alops import env as variables
    from alops import gitlab as api

    match = PIPELINE_URL.match(url)
    if match is None:
        raise ConfigError(f"{url} is not a pipeline URL (https://host/group/project/-/pipelines/123)")
    host, path, pipeline_id = match.groups()
    # The server is the URL's, unless the configured one is the start of it (GitLab under a path: host/gitlab).
    known = env.get(variables.GITLAB_URL) or env.get(variables.CI_SERVER_URL) or ""
    server = known.rstrip("/") if known and url.startswith(known.rstrip("/") + "/") else host
    project_path = (host + path)[len(server) :].strip("/")
    client = api.client_from_env({**env, variables.GITLAB_URL: server})
    try:
        project = client.projects.get(project_path, lazy=True)
        jobs = project.pipelines.get(int(pipeline_id), lazy=True).jobs.list(get_all=True)
    except gitlab.exceptions.GitlabError as exc:
        raise api.api_error(exc, client, f"list the jobs of pipeline {pipeline_id} of {project_path}") from None
    ordered = sorted(jobs, key=lambda j: _rank(str(j.name)))
    for job in ordered:
        if _rank(str(job.name)) == len(MANIFEST_JOBS) and not getattr(job, "artifacts_file", None):
            continue  # another job without artifacts: nothing to ask for
        data = api.job_artifact_file(client, project_path, int(job.id), manifests.FILE)
        if data is not None:
            where = f"job {job.name} ({job.id}) of {url}"
            return manifests.loads(data, where), where
    names = ", ".join(str(j.name) for j in ordered) or "none"
    raise DataError(
        f"no job of {url} has {manifests.FILE} in its artifacts (jobs: {names}): its run job keeps it "
        "(the template's artifacts), or download it and give the file"
    )


def _rank(name: str) -> int:
    """Where a job comes in the search: the run and evaluate jobs first, in :data:`MANIFEST_JOBS`' order."""
    return next((i for i, suffix in enumerate(MANIFEST_JOBS) if name.endswith(suffix)), len(MANIFEST_JOBS))


def reproduce(
    config: Config,
    manifest: Mapping[str, Any],
    where: str,
    env: Mapping[str, str],
    *,
    keep: bool = False,
    workdir: str | Path | None = None,
    tolerance: float = 0.0,
    quiet: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Result:
    """Rerun ``manifest`` (read from ``where``) in a worktree of its commit and compare; the worktree goes unless ``keep``."""
    warnings = warnings_of(manifest, where)
    for line in warnings:
        (warn or (lambda _: None))(line)
    commit = manifest.get("commit")
    if not commit:
        raise DataError(f"{where} names no commit (written outside a git checkout?): nothing to rerun")
    dataset, stages = manifest.get("dataset"), list(manifest.get("stages") or [])
    if not dataset or not stages:
        raise DataError(f"{where} names no dataset or no stages: nothing to rerun")
    repo = config.root
    _require_commit(repo, commit, where)
    prefix = _git(repo, "rev-parse", "--show-prefix").strip()
    parent = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="alops-reproduce-"))
    tree = parent / "worktree" if not workdir else parent
    if workdir and tree.exists() and any(tree.iterdir()):
        raise ConfigError(f"--workdir {tree} is not empty: give a new or empty folder")
    _git(repo, "worktree", "add", "--detach", str(tree), commit)
    try:
        checked = rerun(config, manifest, tree / prefix, env, stages, quiet=quiet)
        rows = compare_metrics(manifest.get("metrics") or {}, checked.metrics, tolerance)
        return Result(
            where=where,
            commit=commit,
            stages=tuple(stages),
            metrics=rows,
            data=checked.data,
            params=checked.params,
            warnings=tuple(warnings),
            workdir=tree if keep else None,
        )
    finally:
        if not keep:
            _git(repo, "worktree", "remove", "--force", str(tree), check=False)
            if not workdir:
                shutil.rmtree(parent, ignore_errors=True)


def warnings_of(manifest: Mapping[str, Any], where: str) -> list[str]:
    """What may keep a manifest from reproducing, said before the rerun."""
    out = []
    if manifest.get("dirty"):
        out.append(
            f"{where} was written in a workspace with uncommitted changes (dirty): the rerun uses the commit as "
            "committed, so it may not reproduce"
        )
    return out


@dataclass(frozen=True)
class _Rerun:
    metrics: dict[str, dict[str, float]]
    data: tuple[DataCheck, ...]
    params: tuple[str, ...]


def rerun(
    config: Config, manifest: Mapping[str, Any], root: Path, env: Mapping[str, str], stages: list[str], *, quiet: bool
) -> _Rerun:
    """In the worktree ``root``: the main cache, the ``set`` values, a pull, ``dvc repro --force``; what it got."""
    from alops import data, dvc, metrics, params
    from alops.config import load_config

    name = config.path.resolve().relative_to(config.root.resolve())
    if not (root / name).is_file():
        raise DataError(f"commit {manifest['commit']} has no {name}: it is not an alops project there")
    local = config.root / ".dvc" / "config.local"  # remotes' local settings and credentials: git does not have them
    if local.is_file() and (root / ".dvc").is_dir():
        shutil.copy2(local, root / ".dvc" / "config.local")
    there = load_config(root / name)
    overrides = dict(manifest.get("set") or {})
    params.apply_overrides(there, overrides)
    differ = _params_differ(there, manifest)
    dataset = str(manifest["dataset"])
    if dataset not in there.datasets:
        raise DataError(f"commit {manifest['commit']} has no dataset {dataset!r} in {name}")
    steps = [dvc.cache_step(share_objects(dvc.cache_dir(config.root, env), root)), *data.pull_steps(there, dataset)]
    # force: every stage runs again, as `dvc repro --force` (the cache of share_objects has no run-cache either).
    steps.append(dvc.repro_step(stages, force=True))
    data.transfer(lambda: dvc.run(steps, cwd=root, env=env, capture=quiet), dataset, env)
    found = metrics.read(there, dataset, str(manifest.get("role") or ""))
    return _Rerun(found, _data_checks(there, manifest, root, stages), differ)


def share_objects(main: Path, root: Path) -> Path:
    """A DVC cache for the worktree ``root`` that holds the main cache's objects but not its run-cache.

    DVC keeps objects in ``<cache>/files`` and the run-cache in ``<cache>/runs``:
    the worktree's cache links ``files`` to the main cache's (nothing is
    downloaded or copied twice; what the rerun writes lands there too) and
    starts with no ``runs``, so no stage is restored from an earlier run.
    """
    (main / "files").mkdir(parents=True, exist_ok=True)
    cache = root / ".dvc" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "files").symlink_to((main / "files").resolve(), target_is_directory=True)
    return cache


def _params_differ(config: Config, manifest: Mapping[str, Any]) -> tuple[str, ...]:
    from alops import params, yamlfile

    pfile = params.file_of(config)
    wanted = (manifest.get("params") or {}).get(pfile)
    path = config.root / pfile
    if wanted is None or not path.is_file():
        return ()
    got = params.flat(yamlfile.load(path).data)
    keys = sorted(set(wanted) | set(got))
    return tuple(f"{pfile}: {k}" for k in keys if not _same_value(wanted.get(k), got.get(k)))


def _same_value(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


def _data_checks(config: Config, manifest: Mapping[str, Any], root: Path, stages: list[str]) -> tuple[DataCheck, ...]:
    """The DVC-tracked paths whose hashes differ: the data the stages read (``input``), or what they wrote."""
    rerun = manifests.recorded(config, str(manifest["dataset"]), stages, manifests.read_lock(root))
    made, now, deps = rerun.made, rerun.data, rerun.deps
    found: dict[str, DataCheck] = {}
    for before, after in ((manifest.get("data") or {}, now), (manifest.get("deps") or {}, deps)):
        for path in sorted(set(before) | set(after)):
            if before.get(path) != after.get(path) and path not in found:
                found[path] = DataCheck(
                    path, before.get(path), after.get(path), input=not _produced(path, made), data=path in now
                )
    return tuple(found.values())


def _produced(path: str, outs: Mapping[str, str]) -> bool:
    """Whether a stage's output is ``path`` or a folder that holds it."""
    return any(path == out or path.startswith(out.rstrip("/") + "/") for out in outs)


def compare_metrics(
    before: Mapping[str, Mapping[str, float]], after: Mapping[str, Mapping[str, float]], tolerance: float
) -> tuple[Row, ...]:
    """Every metric of either side; ``same`` when both have it and they differ by at most ``tolerance``."""
    rows = []
    for file in sorted(set(before) | set(after)):
        old, new = before.get(file) or {}, after.get(file) or {}
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            same = a is not None and b is not None and (_close(float(a), float(b), tolerance))
            rows.append(Row(file, key, a, b, same))
    return tuple(rows)


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b if tolerance == 0 else abs(a - b) <= tolerance


def _require_commit(repo: Path, commit: str, where: str) -> None:
    done = proc.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=repo, check=False)
    if done.returncode != 0:
        raise DataError(
            f"commit {commit} of {where} is not in this clone: run `git fetch origin {commit}` and try again"
        )


def _git(repo: Path, *args: str, check: bool = True) -> str:
    return proc.run(["git", *args], cwd=repo, check=check).stdout
