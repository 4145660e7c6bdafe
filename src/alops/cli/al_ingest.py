"""``alops al ingest``: a label file (or Label Studio's annotations) into the labelled set, as one commit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from alops import env as variables

if TYPE_CHECKING:
    from alops.config import Config


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--from",
    "origin",
    type=click.Choice(["label-studio"]),
    help="Pull the finished annotations from Label Studio (into <batch_dir>/label-studio-export.json) and ingest them.",
)
@click.option("--strict", is_flag=True, help="Any rejected row fails the whole ingest (exit 4): nothing changes.")
@click.option(
    "--push/--no-push",
    default=None,
    help="dvc push the new data version and git push the commit (rebasing onto a branch that moved). "
    "Default: on in CI (CI set), off elsewhere.",
)
@click.option("--recover", "recover_only", is_flag=True, help="Only finish or discard what a killed ingest left.")
@click.pass_obj
def ingest(
    obj: dict[str, str], file: Path | None, origin: str | None, strict: bool, push: bool | None, recover_only: bool
) -> None:
    """Move labelled samples from the pool to the labelled set: one new data version, one commit.

    Reads FILE (CSV or JSONL with id and label columns, or a Label Studio
    JSON, JSON-MIN or CSV export), validates every row against alops.yaml's
    active_learning (known sample ids, classes, annotator policy), and moves
    the accepted samples' rows from the pool to the end of the labelled set
    with their label. Who gave each label, when and in which round goes to the
    label log (round-NNNN.csv and .json). Then `dvc add` and one git commit
    that changes only the .dvc files (trailers ALOps-Round, ALOps-Labels,
    ALOps-Ingest); with --push, `dvc push` and `git push` (-o ci.skip), taking
    the remote branch and applying the labels again on top when another ingest
    pushed first. Rejected rows, with their reason, go to
    <batch_dir>/rejected.csv. A killed ingest is finished or undone by the
    next one (or by --recover): never half a data version.

    \b
    Exit codes: 0 ingested, nothing to ingest, or recovered; 2 bad alops.yaml
    or usage (no FILE, the pool not tracked by DVC, uncommitted changes in the
    .dvc files); 3 git, DVC or Label Studio failed (a push still rejected
    after retries); 4 the data is not in the working tree (`alops data pull`),
    or the label file is unreadable, or --strict and a row was rejected;
    130 interrupted.
    """
    from alops.al.ingest import ingest as run_ingest
    from alops.al.ingest import recover
    from alops.al.ingest.report import summary
    from alops.config import load_config
    from alops.errors import ConfigError

    env = dict(os.environ)  # the command line is where the environment comes from: the library is given it
    config = load_config(obj["config"])
    done = recover(config.root, env)
    if done.action == "finished":
        click.echo(f"Finished the ingest {done.ingest_id} that was stopped after its commit point")
    elif done.action == "checked-out":
        click.echo("Checked out the data of the remote branch that an interrupted ingest had moved onto")
    elif done.action == "discarded":
        click.echo("Discarded what an ingest stopped before its commit point had staged (nothing had changed)")
    if recover_only:
        if done.action == "nothing":
            click.echo("Nothing to recover")
        return
    if (file is None) == (origin is None):
        raise ConfigError("name a label FILE or --from label-studio (one of the two): see `alops al ingest --help`")
    if origin == "label-studio":
        file = _pull(config, env)
    assert file is not None
    if push is None:
        push = bool(env.get(variables.CI))
    report = run_ingest(config, file, env=env, push=push, strict=strict, origin=origin or "file")
    click.echo(summary(report))


def _pull(config: Config, env: dict[str, str]) -> Path:
    from alops.al.labelstudio import pull
    from alops.sections import require

    al = require(config.al, "classes", command="alops al ingest --from label-studio")
    out = config.root / al.batch_dir / "label-studio-export.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    return pull(al.label_studio, al, out, env=env)
