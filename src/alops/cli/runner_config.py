"""``alops runner config``: a runner's config.toml or Helm values, over :mod:`alops.runner.config`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops import env as variables
from alops.errors import ConfigError


@click.command()
@click.option("--executor", required=True, type=click.Choice(["docker", "kubernetes", "docker-autoscaler"]))
@click.option("--gpu/--cpu", default=True, show_default=True, help="A GPU runner (gpu jobs) or a CPU runner.")
@click.option("--name", default="", help="The runner's name. Default: alops-<gpu|cpu>-<docker|k8s|fleet>.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    help="A tag GitLab gives the runner. Default: alops.yaml's runners.gpu/cpu, else gpu / none.",
)
@click.option(
    "--url",
    default=None,
    help=f"GitLab's URL. Default: ${variables.GITLAB_URL}, ${variables.CI_SERVER_URL}, else https://gitlab.example.com/.",
)
@click.option("--image", default=None, help="The image of jobs that name none (pinned).")
@click.option("--cache-bucket", default="alops-runner-cache", show_default=True, help="The S3 cache bucket.")
@click.option(
    "--cache-path",
    default="alops",
    show_default=True,
    help="The cache's Path in the bucket (the same on every runner).",
)
@click.option("--cache-region", default="eu-west-1", show_default=True, help="The bucket's region.")
@click.option(
    "--dvc-cache",
    default="/srv/dvc-cache",
    show_default=True,
    help="Host directory of the shared DVC cache (Docker GPU runners; Kubernetes mounts the alops-dvc-cache claim).",
)
@click.option("--concurrent", type=int, default=None, help="Jobs at once over the host (at least --limit).")
@click.option("--limit", type=int, default=None, help="Jobs at once on this runner.")
@click.option(
    "--plugin",
    type=click.Choice(["aws", "googlecloud", "azure"]),
    default="aws",
    show_default=True,
    help="docker-autoscaler: the fleeting plugin.",
)
@click.option(
    "--group-name",
    default="alops-gpu-fleet",
    show_default=True,
    help="docker-autoscaler: the ASG, instance group or scale set.",
)
@click.option(
    "--plugin-option",
    "plugin_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="docker-autoscaler: a documented plugin_config key (e.g. zone=europe-west4-b).",
)
@click.option("--max-instances", type=int, default=4, show_default=True, help="docker-autoscaler: instances at most.")
@click.option(
    "--idle-count",
    type=int,
    default=0,
    show_default=True,
    help="docker-autoscaler: idle job slots kept (0: scale to zero).",
)
@click.option(
    "--idle-time", default="20m0s", show_default=True, help="docker-autoscaler: how long an idle instance lives."
)
@click.option(
    "--max-use-count",
    type=int,
    default=10,
    show_default=True,
    help="docker-autoscaler: jobs per instance before it is replaced.",
)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here (else stdout)."
)
@click.option("--force", is_flag=True, help="Replace --output if it exists.")
@click.pass_obj
def config(  # noqa: PLR0913 - one parameter per option
    obj: dict[str, str] | None,
    executor: str,
    gpu: bool,
    name: str,
    tags: tuple[str, ...],
    url: str | None,
    image: str | None,
    cache_bucket: str,
    cache_path: str,
    cache_region: str,
    dvc_cache: str,
    concurrent: int | None,
    limit: int | None,
    plugin: str,
    group_name: str,
    plugin_options: tuple[str, ...],
    max_instances: int,
    idle_count: int,
    idle_time: str,
    max_use_count: int,
    output: Path | None,
    force: bool,
) -> None:
    """Render a runner's config.toml (docker, docker-autoscaler) or Helm values (kubernetes).

    The output holds no token: a glrt-REPLACE_ME placeholder (config.toml) or
    the name of the Secret that holds it (Helm). Create the runner in GitLab
    first with the tags and settings the header comment names.

    \b
    Exit codes: 0 written; 2 an option is not allowed (the message says what is).
    """
    from alops.runner.config import RunnerSpec, render

    env = dict(os.environ)
    pairs = []
    for item in plugin_options:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--plugin-option {item!r}: write KEY=VALUE")
        pairs.append((key, value))
    spec = RunnerSpec(
        executor=executor,
        gpu=gpu,
        name=name,
        tags=tags or _default_tags(gpu, (obj or {}).get("config")),
        url=url or env.get(variables.GITLAB_URL) or env.get(variables.CI_SERVER_URL) or RunnerSpec.url,
        image=image or RunnerSpec.image,
        cache_bucket=cache_bucket,
        cache_path=cache_path,
        cache_region=cache_region,
        dvc_cache=dvc_cache,
        concurrent=concurrent,
        limit=limit,
        plugin=plugin,
        group_name=group_name,
        max_instances=max_instances,
        idle_count=idle_count,
        idle_time=idle_time,
        max_use_count=max_use_count,
        plugin_options=tuple(pairs),
    )
    text = render(spec)
    if output is None:
        click.echo(text, nl=False)
    else:
        _write(output, text, force=force)


def _default_tags(gpu: bool, config_path: str | None) -> tuple[str, ...]:
    from alops.config import DEFAULT_FILE, load_config

    path = Path(config_path or DEFAULT_FILE)
    if path.is_file():
        try:
            runners = load_config(path).runners
        except ConfigError:
            runners = {}
        found = runners.get("gpu" if gpu else "cpu")
        if found is not None:
            return tuple(found)
    return ()  # RunnerSpec's default: gpu for a GPU runner, none for a CPU runner


def _write(path: Path, text: str, *, force: bool) -> None:
    from alops import atomic
    from alops.text import safe

    if path.exists() and not force:
        raise ConfigError(f"{safe(str(path))} exists: run with --force to replace it, or choose another --output")
    with atomic.writing_to(path):
        atomic.write_text(path, text)
    click.echo(f"wrote {safe(str(path))}")
