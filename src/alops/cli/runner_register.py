"""``alops runner register``: create a GPU or CPU runner in GitLab, over :mod:`alops.runner.register`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops.runner.register import DEFAULT_TIMEOUT, EXECUTORS, KINDS

_IMAGE = "python:3.11.13-slim-bookworm"  # runners/docker/config.toml's image for jobs that name none


@click.command()
@click.option("--kind", type=click.Choice(KINDS), required=True, help="A GPU runner or a CPU runner.")
@click.option("--group", metavar="ID_OR_PATH", help="Create a group runner (serves every project of the group).")
@click.option("--project", metavar="ID_OR_PATH", help="Create a project runner, locked to that project.")
@click.option("--description", help="The runner's name in GitLab (default: alops-KIND-GROUP_OR_PROJECT).")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    help="A runner tag (repeat for more); replaces alops.yaml's runners.gpu/runners.cpu (default [gpu] / [docker]).",
)
@click.option(
    "--maximum-timeout",
    type=int,
    metavar="SECONDS",
    help=f"The longest job it runs (default: gpu {DEFAULT_TIMEOUT['gpu']}, cpu {DEFAULT_TIMEOUT['cpu']}).",
)
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="docker",
    show_default=True,
    help="The host's executor, for the command printed to finish on the host.",
)
@click.option("--image", default=_IMAGE, show_default=True, help="The host command's default job image.")
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the new runner's glrt- token here (mode 0600); it must not exist yet.",
)
@click.option(
    "--protected",
    is_flag=True,
    help="A CPU runner for protected refs only (full-data jobs); GPU runners always are.",
)
@click.option(
    "--show-token", is_flag=True, help="Print the new runner's token on stdout instead (GitLab shows it once)."
)
@click.pass_obj
def register(
    obj: dict[str, str] | None,
    kind: str,
    group: str | None,
    project: str | None,
    description: str | None,
    tags: tuple[str, ...],
    maximum_timeout: int | None,
    executor: str,
    image: str,
    protected: bool,
    token_file: Path | None,
    show_token: bool,
) -> None:
    """Create a runner in GitLab with a glrt- token, once; print the command that finishes it on the host.

    GitLab keeps the settings alops needs (POST /user/runners): a GPU runner
    takes only jobs tagged alops.yaml's runners.gpu ([gpu]), never untagged
    jobs, and only from protected refs (where the full-data credentials are);
    a CPU runner takes runners.cpu's tags, and untagged jobs when runners.cpu
    is empty (the templates' CPU jobs are then untagged). Project runners are
    locked to their project. `gitlab-runner register` refuses these settings
    with a glrt- token, so the printed command has none of them, and reads the
    token from $RUNNER_TOKEN.

    Idempotent: when the group or project has a runner with this description,
    nothing is created; its id is printed, and each setting that differs from
    these is a warning on stderr (edit the runner in GitLab, or delete it and
    run again): alops never changes an existing runner.

    GitLab shows the new runner's token once: give --token-file FILE (written
    0600, refused if FILE exists) or --show-token (printed on stdout, to pipe
    it into a secret store); one of the two is required.

    Needs ALOPS_GITLAB_TOKEN with the create_runner and manage_runner scopes
    (api before GitLab 17.1), of an Owner of the group (a Maintainer of the
    project); the server is ALOPS_GITLAB_URL or CI_SERVER_URL.

    \b
    Exit codes: 0 created, or already there; 2 bad options or alops.yaml;
    3 GitLab unreachable or failed, or the token file cannot be written;
    4 ALOPS_GITLAB_TOKEN missing or refused.
    """
    from alops.errors import AlopsError, ConfigError, ToolError
    from alops.gitlab import server_url
    from alops.runner import register as runners
    from alops.text import quote

    if (group is None) == (project is None):
        raise ConfigError("give exactly one of --group ID_OR_PATH and --project ID_OR_PATH")
    if (token_file is None) == (not show_token):
        raise ConfigError(
            "say where the new runner's token goes: --token-file FILE (written 0600) or --show-token "
            "(printed once on stdout), exactly one"
        )
    scope, target = ("group", group) if group is not None else ("project", str(project))
    request = runners.request_for(
        kind,
        scope,
        target,
        configured_tags=_configured_tags(obj, kind),
        description=description,
        tags=tags,
        maximum_timeout=maximum_timeout,
        protected=protected,
    )
    env = dict(os.environ)
    gl = runners.client(env)

    def before_create() -> None:
        if token_file is not None:
            runners.check_token_file(token_file)

    done = runners.register(gl, request, before_create=before_create)
    where = f"{scope} {quote(target)}"
    if done.created:
        click.echo(f"created runner #{done.id} {quote(request.description)} in {where}: {runners.describe(request)}")
        if done.token and token_file is not None:
            try:
                runners.write_token_file(token_file, done.token)
            except (AlopsError, OSError) as exc:
                raise ToolError(
                    f"{exc}; runner #{done.id} was created but its token is lost: reset its token in GitLab "
                    "(the runner's page) or delete the runner, and run again"
                ) from None
            click.echo(f"its token is in {quote(str(token_file))} (mode 0600); GitLab will not show it again")
        elif done.token:
            click.echo(f"token: {done.token}")
    else:
        click.echo(f"runner #{done.id} {quote(request.description)} already exists in {where}: nothing created")
        for difference in done.differences:
            click.echo(f"warning: runner #{done.id} differs: {difference}", err=True)
        if done.differences:
            click.echo(
                f"warning: alops never changes an existing runner: edit #{done.id} in GitLab or delete it and "
                "run again",
                err=True,
            )
    argv = runners.host_command(server_url(env), executor, image, request.description, gpu=kind == "gpu")
    click.echo(f"on the runner host, with {runners.TOKEN_ENV} holding the token:")
    click.echo("  " + runners.shell_line(argv))


def _configured_tags(obj: dict[str, str] | None, kind: str) -> tuple[str, ...]:
    """alops.yaml's runners.<kind>, when there is an alops.yaml; none otherwise."""
    from alops.config import DEFAULT_FILE, load_config

    path = Path((obj or {}).get("config") or DEFAULT_FILE)
    if not path.is_file():
        return ()
    return tuple(load_config(path).runners.get(kind, ()))
