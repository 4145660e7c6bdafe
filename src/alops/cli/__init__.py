"""The ``alops`` command: thin click commands over the alops library.

Subcommands are imported only when called, so ``alops flow`` in a CI job does
not pay for what ``alops data`` needs.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from alops import __version__
from alops import env as variables
from alops.cli.lazy import LazyGroup
from alops.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    AlopsError,
    MissingFileError,
    Terminated,
)

_COMMANDS = {
    "al": ("alops.cli.al", "al", "Active learning: query, label in Label Studio, ingest, retrain."),
    "config": ("alops.cli.config", "config", "Validate alops.yaml or print its JSON Schema."),
    "data": ("alops.cli.data", "data", "Pull the dataset a branch needs from its DVC remote."),
    "deploy": ("alops.cli.deploy", "deploy", "Serve a released version in an environment; roll back."),
    "doctor": ("alops.cli.doctor", "doctor", "Check this job environment: DVC, remote, cache, GPU, tokens."),
    "demo": ("alops.cli.demo", "demo", "Run the example project's flows in a temporary repository."),
    "experiments": (
        "alops.cli.experiments",
        "experiments",
        "Experiment branches and MRs: metrics, params, data.",
    ),
    "devset": ("alops.cli.devset", "devset", "Build the dev dataset, check it represents the full data."),
    "flow": ("alops.cli.flow", "flow", "Print the plan for a branch: role, data, runners, jobs."),
    "gate": ("alops.cli.gate", "gate", "Check the metrics against alops.yaml's quality gates."),
    "matrix": (
        "alops.cli.matrix",
        "matrix",
        "A child pipeline testing parameter combinations.",
    ),
    "metrics": ("alops.cli.metrics", "metrics", "Metrics, params and data versions against a baseline."),
    "package": ("alops.cli.package", "package", "The serving image's build context of a released version."),
    "release": ("alops.cli.release", "release", "Version, register and release a gated model."),
    "image": ("alops.cli.image", "image", "Job images tagged by their inputs' hash, resolved to digests."),
    "init": ("alops.cli.init", "init", "Adopt alops in a DVC project: alops.yaml, .gitlab-ci.yml."),
    "report": (
        "alops.cli.report",
        "report",
        "The experiment report, posted to the MR in place.",
    ),
    "reproduce": (
        "alops.cli.reproduce",
        "reproduce",
        "Rerun a run manifest; compare the metrics.",
    ),
    "runner": ("alops.cli.runner", "runner", "Render GitLab Runner configs; create runners in GitLab."),
    "run": ("alops.cli.run", "run", "Run a flow's DVC stages here, as its CI jobs would."),
    "serve": ("alops.cli.serve", "serve", "Serve a model package over HTTP (the serving image's command)."),
    "schedule": ("alops.cli.schedule", "schedule", "Create or update the project's GitLab pipeline schedules."),
}


class AlopsGroup(LazyGroup):
    """Loads subcommands lazily and turns errors into messages and exit codes."""

    lazy = _COMMANDS

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AlopsError as exc:
            _error(str(exc) + _config_hint(ctx, exc) + _pattern_hint(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Terminated:
            click.echo("Terminated (SIGTERM).", err=True)
            ctx.exit(EXIT_TERMINATED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # `alops flow | head`: the reader left before the end. Not a success (the
            # output was cut, and `set -o pipefail` should see it), not a bug: 128 + SIGPIPE,
            # what a shell reports for a tool killed by the signal. stdout is pointed at
            # /dev/null so the interpreter's flush at exit does not raise again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception:
            import traceback

            traceback.print_exc()
            click.echo(
                f"Error: alops {__version__} hit a bug (traceback above); please report it with the command you ran.",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


def _error(message: str) -> None:
    """``Error: …`` on stderr; whatever a message quotes is escaped so no terminal acts on it."""
    from alops.text import safe

    click.echo(f"Error: {safe(message, keep=chr(10))}", err=True)


def _pattern_hint(exc: AlopsError) -> str:
    """Which variable a refused branch pattern came from: alops.yaml's own are named when it is validated."""
    from alops.patterns import PatternError
    from alops.roles import PATTERN_ROLES

    if not isinstance(exc, PatternError):
        return ""
    for role in PATTERN_ROLES:
        name = variables.branches(role)
        if os.environ.get(name) == exc.pattern:
            return f"\nthe pattern is the value of {name} (the CI template's {role}-branches input): correct it there"
    return ""


def _config_hint(ctx: click.Context, exc: AlopsError) -> str:
    """What to do when alops.yaml itself is missing: where alops looked and how to point it elsewhere."""
    config = (ctx.obj or {}).get("config")
    if not isinstance(exc, MissingFileError) or config is None or Path(str(exc.path)) != Path(config):
        return ""
    source = ctx.get_parameter_source("config_path")
    if source == click.core.ParameterSource.ENVIRONMENT:
        return f"\nALOPS_CONFIG={config} names a file that does not exist: correct or unset ALOPS_CONFIG"
    if source == click.core.ParameterSource.COMMANDLINE:
        return "\n-c/--config names a file that does not exist: give the path of the project's alops.yaml"
    here = Path.cwd()
    above = [os.path.relpath(d / "alops.yaml", here) for d in here.parents if (d / "alops.yaml").is_file()][:1]
    below = sorted(str(p.relative_to(here)) for p in [*here.glob("*/alops.yaml"), *here.glob("*/*/alops.yaml")][:5])
    nearby = above + below
    found = f" (found here: {', '.join(nearby)})" if nearby else ""
    return (
        f"\nno alops.yaml in {here}: run alops in the project's folder (cd into it), point at the file with "
        f"-c PATH or ALOPS_CONFIG=PATH{found}, or create one with `alops init`"
    )


@click.group(cls=AlopsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="alops")
@click.option(
    "-c",
    "--config",
    "config_path",
    default="alops.yaml",
    show_default=True,
    envvar=variables.CONFIG,
    show_envvar=True,
    type=click.Path(dir_okay=False),
    help="The project's alops.yaml.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str) -> None:
    """CI/CD for ML projects with an active-learning loop on GitLab.

    \b
    Exit codes: 0 ok, 1 a pipeline step failed, 2 bad input or alops.yaml,
    3 an external tool (git, dvc) failed, 4 data unreachable, 5 the dev dataset
    no longer represents the full data, 6 a quality gate failed, 70 a bug, 130 interrupted,
    143 terminated (SIGTERM).
    """
    ctx.obj = {"config": config_path}


def _terminate(signum: int, frame: object) -> NoReturn:
    raise Terminated()


def run() -> None:
    """Console-script entry point."""
    # A cancelled CI job (and `docker stop`) sends SIGTERM: stop like Ctrl-C, with a message and exit 143.
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="alops")
