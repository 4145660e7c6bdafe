"""Registering a release in a model registry that speaks MLflow: any ``mlflow server``, or GitLab's.

GitLab's model registry is an MLflow server of its own
(https://docs.gitlab.com/user/project/ml/experiment_tracking/mlflow_client/): the
tracking URI is ``$CI_API_V4_URL/projects/<id>/ml/mlflow``, the token an access
token with the ``api`` scope (the CI job token cannot use it). It differs from
``mlflow server`` where alops meets it:

- ``create_model_version`` takes the semantic version from the ``gitlab.version``
  tag and makes the version's run itself (``source`` and ``run_id`` are ignored);
  ``get_model_version(name, "1.2.0")`` finds it again; ``search_model_versions``
  is not supported;
- artifacts must be flat: ``artifact_path`` empty, no folders;
- a model's name cannot be an experiment's name (its runs go to ``[model]NAME``).

So on GitLab the model version comes first and its run gets the parameters,
metrics and files; on ``mlflow server`` a run in the experiment named after the
model comes first and the version points at it (found again by its
``gitlab.version`` tag, so a retried job registers nothing twice). Either way the
files are the package's archive, its ``alops-package.json`` and the run manifest,
side by side.

MLflow's client reads its token, timeout and retries from ``os.environ`` (per
request: ``mlflow.utils.credentials.get_default_host_creds``); :func:`register` sets
them for the duration of the call only and puts the previous values back, so the
token never outlives it; MLflow's telemetry is turned off the same way. ``mlflow``
takes seconds to import: it is imported in the functions.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops.errors import AlopsError, DataError, ToolError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from alops.release.package import Package

#: The tag GitLab reads a model version's semantic version from (alops sets it on every server).
VERSION_TAG = "gitlab.version"
#: The run tag that says its parameters, metrics and files are all there (set last).
COMPLETE = "alops.complete"
#: MLflow's client settings for the call: seconds per request, retries of a failed request, backoff base.
TIMEOUT_S = 60
RETRIES = 3
BACKOFF = 1
_GITLAB = re.compile(r"^https?://.+/api/v4/projects/[^/]+/ml/mlflow/?$")
_MAX_VALUE = 6000  # MLflow's longest parameter value
_BATCH = 100  # MLflow's most parameters (and tags) per log_batch


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version: the server's version id (GitLab's own, or 1, 2, …), its run, a page if known."""

    name: str
    version: str
    run_id: str
    url: str | None


def tracking(env: Mapping[str, str]) -> tuple[str, str | None] | None:
    """(tracking URI, token) of the model registry to register in; None when there is none.

    ``MLFLOW_TRACKING_URI`` (and ``MLFLOW_TRACKING_TOKEN``) when set; else, in a GitLab
    CI job with ``ALOPS_GITLAB_TOKEN``, GitLab's own registry of the project.
    """
    uri = env.get(variables.MLFLOW_TRACKING_URI, "").strip()
    if uri:
        return uri, env.get(variables.MLFLOW_TRACKING_TOKEN, "").strip() or None
    api = env.get(variables.CI_API_V4_URL, "").strip().rstrip("/")
    project = env.get(variables.CI_PROJECT_ID, "").strip()
    token = env.get(variables.GITLAB_TOKEN, "").strip()
    if api and project and token:
        from alops.gitlab import quote_ref

        return f"{api}/projects/{quote_ref(project)}/ml/mlflow", token
    return None


def is_gitlab(uri: str) -> bool:
    """Whether ``uri`` is GitLab's MLflow API (``…/api/v4/projects/<id>/ml/mlflow``)."""
    return bool(_GITLAB.match(uri))


def register(uri: str, token: str | None, package: Package, manifest: Mapping[str, Any]) -> ModelVersion:
    """Register ``package`` (version ``package.version`` of ``package.model``) at ``uri``; idempotent.

    A version of the model already tagged ``gitlab.version`` = this version is returned,
    not registered again (on GitLab, one a killed job left without its files gets them).
    DataError when the server refuses the token, ToolError when it fails or cannot be reached.
    """
    from alops.release.registry import check

    check(package.model, package.version)
    with _settings(token):
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        try:
            _registered_model(client, package)
            if is_gitlab(uri):
                return _on_gitlab(client, package, manifest)
            return _on_mlflow(client, uri, package, manifest)
        except MlflowException as exc:
            raise _error(exc, uri, token) from None


@contextmanager
def _settings(token: str | None) -> Iterator[None]:
    """MLflow's token, timeout and retries in ``os.environ`` for the block only (its client reads nothing else)."""
    wanted = {
        variables.MLFLOW_TRACKING_TOKEN: token,
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(TIMEOUT_S),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(RETRIES),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(BACKOFF),
        # MLflow 3 fetches a telemetry config from config.mlflow-telemetry.io when first imported: not from
        # a release job (read at import, so this holds when alops is the first to import mlflow).
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    before = {name: os.environ.get(name) for name in wanted}
    try:
        for name, value in wanted.items():
            _put(name, value)  # no token: none left from the shell either (it may be another server's)
        yield
    finally:
        for name, value in before.items():
            _put(name, value)


def _put(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _code(exc: Exception) -> str:
    return str(getattr(exc, "error_code", ""))


def _registered_model(client: MlflowClient, package: Package) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(package.model)
        return
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_DOES_NOT_EXIST":
            raise
    try:
        client.create_registered_model(package.model, description=f"Released by alops from {package.model}'s tags.")
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_ALREADY_EXISTS":  # a job beside this one made it first
            raise


def _on_gitlab(client: MlflowClient, package: Package, manifest: Mapping[str, Any]) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_model_version(package.model, package.version)
    except MlflowException as exc:
        if _code(exc) != "RESOURCE_DOES_NOT_EXIST":
            raise
        found = client.create_model_version(
            package.model,
            source="",  # ignored: GitLab makes the version's run and package itself
            tags=_tags(package, manifest),
            description=_description(package),
            await_creation_for=0,  # GitLab answers with the version made; the wait polls it and logs
        )
    run_id = str(found.run_id)
    # The version exists before its files: a job killed in between left it without the COMPLETE tag, and
    # the next one logs them again. (GitLab's list_artifacts does not work through MLflow's HTTP client.)
    if client.get_run(run_id).data.tags.get(COMPLETE) != "true":
        _log_values(client, run_id, package, manifest)
        _log_files(client, run_id, package, manifest)
        client.set_tag(run_id, COMPLETE, "true")
    return ModelVersion(package.model, str(found.version), run_id, None)


def _on_mlflow(client: MlflowClient, uri: str, package: Package, manifest: Mapping[str, Any]) -> ModelVersion:
    from mlflow.exceptions import MlflowException

    query = f"name = '{package.model}' and tags.`{VERSION_TAG}` = '{package.version}'"  # both checked: no quotes
    existing = sorted(client.search_model_versions(query), key=lambda mv: int(mv.version))
    if existing:
        return _version(uri, existing[0])
    experiment = client.get_experiment_by_name(package.model)
    if experiment is not None:
        experiment_id = experiment.experiment_id
    else:
        try:
            experiment_id = client.create_experiment(package.model)
        except MlflowException as exc:
            if _code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment_id = client.get_experiment_by_name(package.model).experiment_id  # type: ignore[union-attr]
    run = client.create_run(experiment_id, run_name=f"{package.model} {package.version}")
    run_id = run.info.run_id
    _log_values(client, run_id, package, manifest)
    _log_files(client, run_id, package, manifest)
    client.set_terminated(run_id, "FINISHED")
    created = client.create_model_version(
        package.model,
        source=run.info.artifact_uri,
        run_id=run_id,
        tags=_tags(package, manifest),
        description=_description(package),
        await_creation_for=0,  # a plain server has it READY at once; the wait only logs
    )
    return _version(uri, created)


def _version(uri: str, mv: Any) -> ModelVersion:
    url = f"{uri.rstrip('/')}/#/models/{mv.name}/versions/{mv.version}" if uri.startswith(("http:", "https:")) else None
    return ModelVersion(str(mv.name), str(mv.version), str(mv.run_id), url)


def _description(package: Package) -> str:
    commit = package.meta.get("commit") or "an unknown commit"
    return f"{package.model} {package.version}, trained at {commit}, released by alops."


def _tags(package: Package, manifest: Mapping[str, Any]) -> dict[str, str]:
    """The model version's (and run's) tags: the semantic version, the commit, the pipeline, the CI job."""
    import alops

    ci = manifest.get("ci") if isinstance(manifest.get("ci"), Mapping) else {}
    tags = {
        VERSION_TAG: package.version,
        "alops.commit": str(package.meta.get("commit") or ""),
        "alops.dataset": str(manifest.get("dataset") or ""),
        "alops.pipeline_url": str((ci or {}).get("pipeline_url") or ""),
        # GitLab links a run to the CI job of this tag (its "Associating a run to a CI/CD job").
        "gitlab.CI_JOB_ID": str((ci or {}).get("job_id") or ""),
        "alops.version": alops.__version__,
    }
    return {key: value for key, value in tags.items() if value}


def _log_values(client: MlflowClient, run_id: str, package: Package, manifest: Mapping[str, Any]) -> None:
    from mlflow.entities import Metric, Param, RunTag

    metrics = [Metric(key, value, 0, 0) for key, value in _metrics(manifest).items()]
    params = [Param(key, value) for key, value in _params(manifest).items()]
    tags = [RunTag(key, value) for key, value in _tags(package, manifest).items()]
    client.log_batch(run_id, metrics=metrics, tags=tags)
    for start in range(0, len(params), _BATCH):
        client.log_batch(run_id, params=params[start : start + _BATCH])


def _flat(block: Any) -> dict[str, dict[str, Any]]:
    return {str(f): dict(v) for f, v in block.items() if isinstance(v, Mapping)} if isinstance(block, Mapping) else {}


def _metrics(manifest: Mapping[str, Any]) -> dict[str, float]:
    """The run's metrics; named ``FILE/NAME`` only when there are several metrics files."""
    files = _flat(manifest.get("metrics"))
    out = {}
    for file, values in files.items():
        for name, value in values.items():
            number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
            if math.isfinite(number):
                out[name if len(files) == 1 else f"{file}/{name}"] = number
    return out


def _params(manifest: Mapping[str, Any]) -> dict[str, str]:
    files = _flat(manifest.get("params"))
    out = {}
    for file, values in files.items():
        for name, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            out[name if len(files) == 1 else f"{file}/{name}"] = text[:_MAX_VALUE]
    return out


def _log_files(client: MlflowClient, run_id: str, package: Package, manifest: Mapping[str, Any]) -> None:
    """The archive, its ``alops-package.json`` and the manifest, flat (GitLab takes no folders)."""
    from alops.release.package import MANIFEST, META

    with tempfile.TemporaryDirectory(prefix="alops-mlflow-") as tmp:
        meta, run_manifest = Path(tmp) / META, Path(tmp) / MANIFEST
        meta.write_text(json.dumps(package.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        run_manifest.write_text(json.dumps(dict(manifest), indent=2) + "\n", encoding="utf-8")
        for path in (package.archive, meta, run_manifest):
            client.log_artifact(run_id, str(path))  # artifact_path None: at the top, as GitLab requires


def _error(exc: Exception, uri: str, token: str | None) -> AlopsError:
    from alops.text import redact_output

    said = redact_output(str(exc), {variables.MLFLOW_TRACKING_TOKEN: token} if token else None).splitlines()
    first = said[0] if said else type(exc).__name__
    if "(Caused by " in first:  # urllib3's "Max retries exceeded with url: … (Caused by …)": the cause alone
        first = first.rsplit("(Caused by ", 1)[1].removesuffix(")")
    first = first[:300]
    status = getattr(exc, "get_http_status_code", lambda: None)()
    shown = redact_output(uri)
    if _code(exc) in ("UNAUTHENTICATED", "PERMISSION_DENIED") or status in (401, 403):
        hint = (
            f"set {variables.GITLAB_TOKEN} (or {variables.MLFLOW_TRACKING_TOKEN}) to a token with the api scope and "
            "role Developer or higher: the CI job token cannot use GitLab's model registry"
            if is_gitlab(uri)
            else f"check {variables.MLFLOW_TRACKING_TOKEN} (or the server's credentials)"
        )
        return DataError(f"the model registry at {shown} refused alops ({first}): {hint}")
    return ToolError(
        f"the model registry at {shown} failed ({first}): check {variables.MLFLOW_TRACKING_URI} and that the "
        "server is up; the package is already in the package registry, so run the job again"
    )
