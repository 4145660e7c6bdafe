"""``alops deploy``: serve a released version in an environment, roll back, or stop a local service."""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops import env as variables


@click.command()
@click.option(
    "--environment",
    "-e",
    metavar="NAME",
    help="One of alops.yaml's release.environments (default: CI_ENVIRONMENT_NAME when it is one of them).",
)
@click.option(
    "--version",
    "version",
    metavar="X.Y.Z",
    envvar=variables.RELEASE_VERSION,
    help="The version to deploy (default: the latest registered).",
)
@click.option("--rollback", is_flag=True, help="Deploy the version the environment had before its current one.")
@click.option("--stop", is_flag=True, help="Stop the environment's local service (no tag is written).")
@click.option(
    "--dotenv",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write ALOPS_DEPLOY_URL and ALOPS_DEPLOY_VERSION there (artifacts: reports: dotenv).",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where local services keep their packages, state and logs (default: .alops/deploy beside alops.yaml).",
)
@click.pass_obj
def deploy(
    obj: dict[str, str],
    environment: str | None,
    version: str | None,
    rollback: bool,
    stop: bool,
    dotenv: Path | None,
    state_dir: Path | None,
) -> None:
    """Serve a released version of alops.yaml's release.model in an environment.

    The version (--version, else the latest registered, or with --rollback
    the one the environment had before) is taken from the package registry
    and started: for an environment without a `command`, alops runs
    `alops serve` itself on the URL's port (the old service is stopped first
    and started again if the new one does not come up); otherwise the
    command runs with ALOPS_DEPLOY_VERSION, ALOPS_DEPLOY_IMAGE,
    ALOPS_DEPLOY_PACKAGE and ALOPS_DEPLOY_ENVIRONMENT set. Once the URL
    serves the version, a GTO stage tag MODEL#ENVIRONMENT#N records it (in
    CI through GitLab's API: ALOPS_GITLAB_TOKEN with the api scope).

    \b
    Exit codes: 0 deployed; 1 the service or the command failed (a local
    service's old version serves on; no tag is written); 2 bad alops.yaml
    or options; 3 a tool or server refused (a port in use, git, GitLab);
    4 a version, package or token is missing.
    """
    from alops import atomic
    from alops import deploy as deploys
    from alops.config import load_config
    from alops.errors import ConfigError
    from alops.release.registry import from_env
    from alops.text import safe

    config = load_config(obj["config"])
    release = config.release
    if release is None:
        raise ConfigError(
            f"{config.path} has no release: section: add one naming the model (release: {{model: NAME}}) and its "
            "environments (see `alops config schema`)"
        )
    env = dict(os.environ)
    where = config.where("release", "environments")
    environment = environment or deploys.default_environment(release, env)
    if environment is None:
        raise ConfigError(f"give --environment: one of {', '.join(sorted(release.environments))}")
    target = deploys.environment_of(release, environment, where)
    state = state_dir or config.root / ".alops" / "deploy"
    if stop:
        if version is not None or rollback:
            raise ConfigError("--stop stops the environment's service: give it without --version or --rollback")
        if target.command is not None:
            raise ConfigError(f"{environment} is deployed by its command: --stop stops only the services alops runs")
        with atomic.writing_to(state):
            stopped = deploys.stop(state, environment, deploys.local_address(target, where)[1], release.model)
        if stopped is None:
            click.echo(f"{environment} has no service running here")
        else:
            click.echo(f"stopped {release.model} {stopped.version} in {environment} (pid {stopped.pid})")
        return
    if version is not None and rollback:
        raise ConfigError("--rollback deploys the environment's previous version: give --version or --rollback")
    tags = deploys.tag_store(config.root, env)  # in CI: the token is checked before any service is touched
    with atomic.writing_to(state):  # a full disk or a read-only folder: a message, not a traceback
        result = deploys.deploy(
            config.root,
            release,
            environment,
            version,
            rollback=rollback,
            registry=from_env(config.root, env),
            tags=tags,
            env=env,
            state_dir=state,
            where=where,
            progress=lambda line: click.echo(safe(line)),
        )
    if dotenv is not None:
        with atomic.writing_to(dotenv):
            atomic.write_text(dotenv, deploys.dotenv(result))
    was = f"was {result.previous}" if result.previous else "first deploy"
    where_to = f"({result.url}; {was}; tag {result.tag})"
    if result.rollback:
        click.echo(f"rolled back {environment} to {release.model} {result.version} {where_to}")
    else:
        click.echo(f"deployed {release.model} {result.version} to {environment} {where_to}")
