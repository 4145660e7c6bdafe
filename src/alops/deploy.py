"""``alops deploy``: serve a released version in an environment, or put back the one it had before.

A deploy resolves the version (the one asked for, the latest registered, or on a
rollback the environment's previous one, from the GTO tags), extracts its package
from the registry into ``<state_dir>/<environment>/<version>/``, starts the service
(alops runs ``alops serve`` itself for an environment without a ``command``, see
:mod:`alops.deploy_local`; otherwise it runs the command), waits until the
environment's URL serves that version, and only then writes the GTO stage tag
``MODEL#ENVIRONMENT#N`` on the version's commit: the tags never say an environment
runs a version it does not.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from alops import atomic, deploy_local, proc
from alops import env as variables
from alops.errors import AlopsError, ConfigError, DataError, StepError
from alops.text import redact_output

if TYPE_CHECKING:
    from alops.release.registry import Registry
    from alops.release.tags import ModelTags, TagStore
    from alops.release.version import Version
    from alops.sections import Environment, Release

#: Written into ``--dotenv`` for GitLab's ``environment:url`` (alops does not read it).
DEPLOY_URL = variables.DEPLOY_URL
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Deployment:
    """What a deploy did: ``version`` now serves at ``url``; ``tag`` says so in git."""

    environment: str
    version: str
    previous: str | None  # what the environment's tags said before (None: never deployed)
    url: str
    tag: str
    rollback: bool


def tag_store(root: Path, env: Mapping[str, str]) -> TagStore:
    """Where stage tags go: GitLab's API in CI (``CI_PROJECT_ID`` set), the local git repository otherwise.

    In CI the token is checked here, before a deploy touches any service: the job token
    cannot create tags, so a deploy that would end without its tag is refused up front.
    """
    if env.get(variables.CI_PROJECT_ID):
        if not env.get(variables.GITLAB_TOKEN, "").strip():
            raise DataError(
                f"{variables.GITLAB_TOKEN} is not set: alops deploy records each deploy as a GTO stage tag "
                "(MODEL#ENVIRONMENT#N), created through GitLab's API, which CI_JOB_TOKEN cannot do: create a "
                "project access token with the api scope (role Maintainer where tags are protected, else "
                f"Developer) and add it as the CI/CD variable {variables.GITLAB_TOKEN}, masked and protected; "
                "nothing was deployed"
            )
        from alops.gitlab import client_from_env
        from alops.release.tags import GitLabTags

        return GitLabTags(client_from_env(env, require_write=True), env[variables.CI_PROJECT_ID])
    from alops.release.tags import LocalTags

    return LocalTags(root, env)


def environment_of(release: Release, name: str, where: str = "alops.yaml") -> Environment:
    """``release.environments[name]``; ConfigError naming the allowed ones."""
    if name not in release.environments:
        allowed = ", ".join(sorted(release.environments))
        raise ConfigError(
            f"{where}: release.environments has no environment {name!r}: use one of {allowed}, or add it there"
        )
    return release.environments[name]


def default_environment(release: Release, env: Mapping[str, str]) -> str | None:
    """The environment of a CI job (``CI_ENVIRONMENT_NAME``) when it is one of release.environments."""
    name = env.get(variables.CI_ENVIRONMENT_NAME, "")
    return name if name in release.environments else None


def local_address(target: Environment, where: str = "alops.yaml") -> tuple[str, int]:
    """The host and port ``alops serve`` binds for an environment without a command (loopback only)."""
    url = urlsplit(target.url)
    key = f"release.environments.{target.name}.url"
    host = (url.hostname or "").lower()
    if host not in _LOCAL_HOSTS or url.scheme != "http":
        raise ConfigError(
            f"{where}: {key}: {target.url} is not on this machine: alops runs the service itself only on "
            "http://127.0.0.1:PORT or http://localhost:PORT; give the environment a `command` that deploys "
            "the serving image elsewhere"
        )
    if url.path not in ("", "/") or url.query:
        raise ConfigError(f"{where}: {key}: {target.url}: alops serve answers at the root: drop the path")
    try:
        port = url.port or 80
    except ValueError:
        raise ConfigError(f"{where}: {key}: {target.url}: the port is not a number from 1 to 65535") from None
    return "127.0.0.1", port


def deploy(
    root: Path,
    release: Release,
    environment: str,
    version: str | None,
    *,
    rollback: bool,
    registry: Registry,
    tags: TagStore,
    env: Mapping[str, str],
    state_dir: Path,
    where: str = "alops.yaml",
    progress: Callable[[str], None] | None = None,
) -> Deployment:
    """Serve ``version`` (None: the latest registered; ``rollback``: the previous one) in ``environment``.

    ``where`` names alops.yaml's ``release.environments`` in messages; ``progress`` gets one line per step.
    """
    say = progress or (lambda line: None)
    target = environment_of(release, environment, where)
    address = None if target.command else local_address(target, where)
    atomic.ignored_folder(state_dir)  # packages, state and logs: nothing of it is ever committed
    with deploy_local.locked(state_dir, environment):  # from the tags read to the tag written
        model = release.model
        known = tags.read(model)
        chosen = _choose(known, model, environment, version, rollback)
        commit = known.commit_of(chosen)
        if commit is None:  # _choose only returns registered versions
            raise DataError(f"{model} {chosen} has no registration tag")
        current = known.current(environment)
        previous = None if current is None or current.version is None else str(current.version)
        say(f"{'rolling back' if rollback else 'deploying'} {model} {chosen} (commit {commit[:12]}) to {environment}")
        package = fetch(registry, model, str(chosen), state_dir / environment, say)
        if address is None:
            _run_command(root, release, target, str(chosen), package, env, previous, where, say)
        else:
            deploy_local.replace(model, target, address, str(chosen), package, state_dir, env, say)
        if current is not None and current.version == chosen:
            say(f"tag {current.tag} already says {environment} has {model} {chosen}")
            tag = current.tag
        else:
            tag = _write_tag(tags, model, environment, chosen, commit, say)
        return Deployment(environment, str(chosen), previous, target.url, tag, rollback)


def _choose(known: ModelTags, model: str, environment: str, version: str | None, rollback: bool) -> Version:
    from alops.release.tags import registration_tag
    from alops.release.version import option

    registered = sorted(known.versions())
    if rollback:
        if version is not None:
            raise ConfigError("--rollback puts back the environment's previous version: give it or --version, not both")
        back = known.previous(environment)
        if back is None:
            current = known.current(environment)
            had = f"has had only {model} {current.version}" if current and current.version else "has no deploy"
            raise DataError(f"{environment} {had}: there is nothing to roll back to (deploy a version with --version)")
        return back
    if version is None:
        if not registered:
            raise DataError(f"{model} has no registered version (no {model}@vX.Y.Z tag): run `alops release` first")
        return registered[-1]
    wanted = option(version)
    if wanted not in registered:
        shown = ", ".join(str(v) for v in registered) or "none"
        raise DataError(
            f"{model} {wanted} is not registered (no tag {registration_tag(model, wanted)}): registered versions: "
            f"{shown}"
        )
    return wanted


def fetch(registry: Registry, model: str, version: str, folder: Path, say: Callable[[str], None]) -> Path:
    """The package of ``version`` extracted in ``folder/<version>``: an earlier extraction is reused."""
    from alops.release.package import extract

    dest = folder / version
    meta = _meta(dest)
    if meta.get("model") == model and meta.get("version") == version:
        say(f"package: {dest} (extracted before)")
        return dest
    folder.mkdir(parents=True, exist_ok=True)
    download = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    try:
        archive = registry.download(model, version, download)
        extract(archive, dest)
    finally:
        shutil.rmtree(download, ignore_errors=True)
    meta = _meta(dest)
    if meta.get("model") != model or meta.get("version") != version:
        raise DataError(
            f"the package of {model} {version} from {registry.where} says it is {meta.get('model')!r} "
            f"{meta.get('version')!r}: upload the right one (alops release) and deploy again"
        )
    say(f"package: {dest} (from {registry.where})")
    return dest


def _meta(package: Path) -> dict[str, Any]:
    """What an extracted package's alops-package.json says ({} when there is none to read)."""
    import json

    from alops.release.package import META

    try:
        data = json.loads((package / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def stop(state_dir: Path, environment: str, port: int | None = None, model: str = "") -> deploy_local.Service | None:
    """Stop the environment's local service, if one runs (``port``: also one no state file names); what was stopped."""
    if not deploy_local.state_file(state_dir, environment).exists() and port is None:
        return None
    with deploy_local.locked(state_dir, environment):
        service = deploy_local.read(state_dir, environment)
        if service is None and port is not None:
            service = deploy_local.on_port(port, model)
        if service is not None:
            deploy_local.stop(service)
        deploy_local.forget(state_dir, environment)
    return service


def _run_command(
    root: Path,
    release: Release,
    target: Environment,
    version: str,
    package: Path,
    env: Mapping[str, str],
    previous: str | None,
    where: str,
    say: Callable[[str], None],
) -> None:
    """Run the environment's command (no shell) with the ALOPS_DEPLOY_* variables, then wait for its URL."""
    assert target.command is not None
    args = list(target.command)
    if "/" in args[0] and not Path(args[0]).is_absolute():  # ./deploy.sh: the project's, not the caller's cwd
        args[0] = str(root / args[0])
    child_env = {**env, **deploy_variables(release, target.name, version, package, env)}
    if variables.DEPLOY_IMAGE not in child_env or not child_env[variables.DEPLOY_IMAGE]:
        child_env.pop(variables.DEPLOY_IMAGE, None)
    say(f"running {redact_output(' '.join(target.command), env)}")
    done = proc.run(args, cwd=root, env=child_env, capture=False, check=False)
    key = f"release.environments.{target.name}.command"
    tagged = f"{target.name} has {release.model} {previous}" if previous else f"{target.name} has no version yet"
    if done.returncode != 0:
        detail = redact_output(done.stderr or done.stdout or "", env).strip()
        tail = "\n".join(detail.splitlines()[-deploy_local.LOG_TAIL_LINES :])
        raise StepError(
            f"the deploy command of {target.name} ({where}: {key}) failed with exit code {done.returncode}; "
            f"the tags still say {tagged}" + (f":\n{tail}" if tail else "")
        )
    say(f"waiting for {target.url}/healthz")
    try:
        deploy_local.wait_until_serving(target.url, release.model, version, target.timeout)
    except StepError as exc:
        again = f"deploy {previous} again with --version {previous}" if previous else "stop it"
        raise StepError(
            f"{target.name}'s command ran but {exc}: the tags still say {tagged}; fix the service "
            f"and deploy again, or {again}"
        ) from None
    say(f"{target.url} serves {release.model} {version}")


def deploy_variables(
    release: Release, environment: str, version: str, package: Path, env: Mapping[str, str]
) -> dict[str, str]:
    """The ALOPS_DEPLOY_* variables a ``command`` gets (ALOPS_DEPLOY_IMAGE empty when no image is known)."""
    image = env.get(variables.SERVE_IMAGE, "")
    if not image and env.get(variables.CI_REGISTRY_IMAGE):
        image = f"{env[variables.CI_REGISTRY_IMAGE]}/{release.model}:{version}"
    return {
        variables.DEPLOY_VERSION: version,
        variables.DEPLOY_IMAGE: image,
        variables.DEPLOY_PACKAGE: str(package.absolute()),
        variables.DEPLOY_ENVIRONMENT: environment,
    }


def _write_tag(
    tags: TagStore, model: str, environment: str, version: Version, commit: str, say: Callable[[str], None]
) -> str:
    from alops.release.tags import assignment_message, assignment_tag

    name = assignment_tag(model, environment, tags.read(model).next_number())  # read again: the latest counter
    try:
        tags.create(name, commit, assignment_message(model, environment, version))
    except AlopsError as exc:
        exc.message = (
            f"{model} {version} serves in {environment}, but its stage tag {name} was not written: {exc.message}; "
            f"run the same alops deploy again to write it"
        )
        exc.args = (exc.message,)
        raise
    say(f"tag {name} on {commit[:12]}")
    return name


def dotenv(deployment: Deployment) -> str:
    """The ``--dotenv`` file: GitLab's ``environment:url`` reads ALOPS_DEPLOY_URL from it."""
    for value in (deployment.url, deployment.version):
        if any(ch in value for ch in "\r\n\0"):
            raise ConfigError(f"{value!r} cannot be written to a dotenv file (a line break)")
    return f"{DEPLOY_URL}={deployment.url}\n{variables.DEPLOY_VERSION}={deployment.version}\n"
