"""``alops release``: version, register and release the model a release branch trained."""

from __future__ import annotations

import os
from pathlib import Path

import click

from alops.cli.options import branch_option


@click.command()
@branch_option
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The run manifest of the training run to release (the run job's artifact; default: "
    "alops-manifest.json in the repository root).",
)
@click.option("--version", "version", metavar="X.Y.Z", help="This version instead of the next one.")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    help="Which part of the last version to increment (default: alops.yaml release.bump).",
)
@click.option("--against", metavar="REF", help="The gates' baseline (default in CI: the default branch).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="alops-release",
    show_default=True,
    help="Where the package and RELEASE.md (the notes) are written.",
)
@click.option(
    "--dotenv",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write ALOPS_RELEASE_MODEL, _VERSION and _TAG (artifacts: reports: dotenv).",
)
@click.option("--dry-run", is_flag=True, help="Check and print the version; release nothing.")
@click.pass_obj
def release(
    obj: dict[str, str],
    branch: str | None,
    manifest_path: Path | None,
    version: str | None,
    bump: str | None,
    against: str | None,
    out: Path,
    dotenv: Path | None,
    dry_run: bool,
) -> None:
    """Release the model of a release branch's run, once it passes the gates.

    Checks that the run manifest is this commit's clean run on the release
    role's data, then holds its metrics to alops.yaml's quality.thresholds
    (failed: exit 6, nothing is released). The version comes from the branch
    name (release/1.4 gives 1.4.x, release/2 gives 2.x.0), the versions already
    tagged and release.bump. Then: the package (the model, the predictor, the
    manifest) to the registry (GitLab's generic packages in CI, else
    .alops/registry), the model to MLflow's registry when one is configured
    (MLFLOW_TRACKING_URI, or GitLab's with ALOPS_GITLAB_TOKEN), and last the
    GTO tag MODEL@vX.Y.Z with a GitLab Release whose notes hold the metrics,
    the gate, the data versions and the links. A commit already released is
    reported and left alone.

    \b
    Exit codes: 0 released (or already); 2 bad alops.yaml, no release
    section or not a release branch; 3 GitLab or MLflow refused; 4 no or
    wrong run manifest, version taken; 6 a gate failed.
    """
    from alops import atomic, manifest
    from alops import env as variables
    from alops.cli.gate import render
    from alops.config import load_config
    from alops.release.ship import services, ship
    from alops.text import safe

    config = load_config(obj["config"])
    env = dict(os.environ)
    using = services(config.root, env)
    done = ship(
        config,
        manifest_path=manifest_path or config.root / manifest.FILE,
        env=env,
        out=out,
        using=using,
        branch=branch,
        version=version,
        bump=bump,
        against=against,
        dry_run=dry_run,
    )
    click.echo(render(done.gate))
    if done.already:
        click.echo(
            f"{safe(done.model)} {done.version} is this commit's release already ({safe(done.tag)}): nothing to do"
        )
    elif dry_run:
        click.echo(f"would release {safe(done.model)} {done.version} as {safe(done.tag)} (dry run: nothing released)")
    else:
        for link in done.links:
            click.echo(f"{safe(link.name)}: {safe(link.url)}")
        click.echo(done.registry_note or f"registered: {safe(done.model)} {done.version}")
        where = done.release_url or using.publisher.where
        click.echo(f"released {safe(done.model)} {done.version}: tag {safe(done.tag)} ({safe(where)})")
    if dotenv is not None and not dry_run:
        lines = [
            f"{variables.RELEASE_MODEL}={done.model}",
            f"{variables.RELEASE_VERSION}={done.version}",
            f"{variables.RELEASE_TAG}={done.tag}",
        ]
        atomic.write_text(dotenv, "\n".join(lines) + "\n")
