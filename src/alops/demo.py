"""The example project as a real repository, and a demo of its flows.

:func:`prepare_project` turns ``examples/project-skeleton`` into a git and DVC
repository whose data sits on a local-directory DVC remote, its dev set built
by ``alops devset build``; tests of the CI templates use it too. :func:`demo`
clones it once per branch and runs each branch's flow there, as a CI pipeline
would, then one round of active learning on an al branch
(:mod:`alops.demo_round`).

The skeleton is read from alops's source tree, so this works from a source
checkout (``pip install -e .``); an installed wheel does not carry it.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alops import dvc, proc
from alops import env as variables
from alops.data import count_files, outputs
from alops.demo_compare import Comparison
from alops.demo_round import RoundReport
from alops.errors import ConfigError, ToolError
from alops.text import redact_output

REMOTE_NAME = "storage"
ORIGIN = "git@gitlab.example.com:grp/proj.git"
FLOWS = ("feature/demo", "experiment/demo")
EXPERIMENT = "experiment/demo"  # changes a parameter, and is compared with main
# What a run of the skeleton leaves behind; never copied into a new project.
#: Prefixes of the variables :func:`environment` leaves out.
_NOT_FOR_THE_DEMO = ("ALOPS_", "AWS_", "DVC_", "CI", "GITLAB_")
_GENERATED = {".git", ".dvc", ".alops", "data", "models", "metrics", "scores", "dvc.lock", ".venv"}
# The example repository's one commit: with this identity unless git's
# environment variables give one (a fresh machine may have no user.name), and
# without the user's signing or hooks, which are for their own repositories.
_COMMIT = ["-c", "user.name=alops demo", "-c", "user.email=demo@alops.invalid", "-c", "commit.gpgsign=false"]


@dataclass(frozen=True)
class FlowReport:
    """One branch of the demo: its plan and what running it did."""

    branch: str
    role: str
    reason: str
    dataset: str
    runner: str
    runner_tags: tuple[str, ...]
    files: int
    fetched: int  # objects the pull downloaded from the remote
    rows: int
    not_downloaded: tuple[str, ...]
    stages: tuple[str, ...]
    reproduced: tuple[str, ...]
    pushed: bool
    new_remote_files: int
    metrics: dict[str, float]
    seconds: float
    compared: Comparison | None = None  # the experiment against main: diff, gate, report page


@dataclass(frozen=True)
class DemoReport:
    workdir: Path
    project: Path
    remote: Path
    remote_files: int
    baseline: dict[str, float]  # main's metrics, trained and committed first: every comparison's baseline
    flows: tuple[FlowReport, ...]
    al: RoundReport
    seconds: float


def skeleton() -> Path:
    """``examples/project-skeleton`` of the source tree alops runs from."""
    path = Path(__file__).resolve().parents[2] / "examples" / "project-skeleton"
    if not (path / "alops.yaml").is_file():
        raise ConfigError(
            "the example project ships with alops's source, not with an installed package: "
            "clone the alops repository and run `pip install -e .` there, then run this again"
        )
    return path


def prepare_project(dest: Path, remote: Path, *, env: Mapping[str, str]) -> Path:
    """Make ``dest`` a git+DVC repository of the example project, its data pushed to ``remote``.

    ``remote`` (a local directory) becomes the default DVC remote ``storage``,
    committed in ``.dvc/config`` so every clone, and every isolated CI job, finds
    it. The repository gets an ``origin`` that looks like GitLab's, with
    ``origin/HEAD`` pointing at ``main``. Returns ``dest``.
    """
    dest, remote = Path(dest).resolve(), Path(remote).resolve()
    if dest.exists() and any(dest.iterdir()):
        raise ConfigError(f"{dest} is not empty: choose a new directory for the example project")
    shutil.copytree(skeleton(), dest, ignore=_ignore, dirs_exist_ok=True)
    _git(dest, "init", "--quiet", "--initial-branch=main")
    dvc.init(cwd=dest, env=env)
    made = proc.run([sys.executable, "scripts/make_data.py"], cwd=dest, check=False, env=env)
    if made.returncode != 0:
        if "No module named 'sklearn'" in made.stderr:
            raise ToolError("the example project needs scikit-learn: run `pip install 'alops[example]'`")
        raise ToolError(f"scripts/make_data.py failed:\n{redact_output(made.stderr).strip()[-2000:]}")
    _build_dev_set(dest)
    dvc.add(["data/full", "data/dev", "data/labels"], cwd=dest, env=env)
    remote.mkdir(parents=True, exist_ok=True)
    dvc.add_remote(REMOTE_NAME, str(remote), cwd=dest, default=True, env=env)
    dvc.push(run_cache=False, cwd=dest, env=env)
    _git(dest, "add", "--all")
    message = "Example project: data tracked by DVC on remote `storage`"
    _git(dest, *_COMMIT, "commit", "--quiet", "--no-verify", "-m", message)
    _git(dest, "remote", "add", "origin", ORIGIN)
    _git(dest, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(dest, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    return dest


def environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment the demo runs DVC and the stages in: ``env`` without what would reach past the demo.

    A developer's shell or a CI job may set a shared DVC cache (``ALOPS_DVC_CACHE_DIR``),
    cloud credentials (``AWS_*``), DVC's config folders (``DVC_*``) or a CI context
    (``CI*``, ``GITLAB_*``); the demo uses its own local remote and cache, and none of them.
    """
    out = {k: v for k, v in env.items() if not k.startswith(_NOT_FOR_THE_DEMO)}
    out[variables.DVC_NO_ANALYTICS] = "1"
    return out


def demo(workdir: Path, *, env: Mapping[str, str], progress: Callable[[str], None] | None = None) -> DemoReport:
    """Prepare the example project in ``workdir``, run the feature and experiment flows, then an active-learning round.

    Each flow runs in a fresh clone, so its data really comes from the DVC
    remote. Each pushes what its flow pushes in CI, explicitly (as ``alops run
    --push`` / ``--no-push``): the experiment flow's push is part of what the
    demo shows, and a local ``alops run`` pushes nothing unless told to.
    ``env`` is the environment DVC and the stages run in (the CLI passes
    :func:`environment` of its own); the plans never read it. ``progress`` is told what is happening, step by step.
    """
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.run import run_flow

    say = progress or (lambda _: None)
    started = time.monotonic()
    workdir = Path(workdir).resolve()
    say("Preparing the example project: git, DVC, the digits data pushed to a local DVC remote")
    project = prepare_project(workdir / "project", workdir / "remote", env=env)
    remote = workdir / "remote"
    remote_files = count_files(remote)
    say("Training main, the default branch, on the full data: its committed metrics are the baseline")
    baseline = _train_main(project, env)
    reports = []
    for branch in FLOWS:
        clone = workdir / branch.replace("/", "-")
        say(f"Running {branch} in a fresh clone ({clone.name}/)")
        flow_started = time.monotonic()
        _git(workdir, "clone", "--quiet", str(project), str(clone))
        _git(clone, "checkout", "--quiet", "-b", branch)
        if branch == EXPERIMENT:
            from alops.demo_compare import change_params

            _git(clone, *_COMMIT, "commit", "--quiet", "--no-verify", "-am", change_params(clone))
        config = load_config(clone / "alops.yaml")
        # An empty environment: the demo plans from the checkout, never from a CI job it may run in.
        plan = current_plan(config, {})
        before = count_files(remote)
        result = run_flow(config, plan, quiet=True, push=plan.push, env=env)
        ours = [p for t in plan.targets for p in outputs(clone, t)]
        others = {t for name, ds in config.datasets.items() if name != plan.dataset for t in ds.targets}
        absent = [p for t in sorted(others) for p in outputs(clone, t) if not p.exists()]
        compared = None
        if branch == EXPERIMENT:
            from alops.demo_compare import compare_with_main

            compared = compare_with_main(clone, workdir / "report", env=env)
        reports.append(
            FlowReport(
                branch=branch,
                role=plan.role,
                reason=plan.reason,
                dataset=plan.dataset,
                runner=plan.runner,
                runner_tags=plan.runner_tags,
                files=result.pulled.files if result.pulled else 0,
                fetched=result.pulled.fetched if result.pulled else 0,
                rows=sum(_rows(p) for p in ours),
                not_downloaded=tuple(str(p.relative_to(clone)) for p in absent),
                stages=result.stages,
                reproduced=result.reproduced,
                pushed=result.pushed,
                new_remote_files=count_files(remote) - before,
                metrics=next(iter(result.metrics.values()), {}),
                seconds=time.monotonic() - flow_started,
                compared=compared,
            )
        )
    from alops.demo_round import BRANCH, al_round

    clone = workdir / BRANCH.replace("/", "-")
    say(f"Running one active-learning round on {BRANCH} in a fresh clone ({clone.name}/)")
    _git(workdir, "clone", "--quiet", str(project), str(clone))
    # The al flow pushes outputs and run-cache in CI, as the experiment flow does: so here too.
    round_report = al_round(clone, env=env, push=True)
    flows = tuple(reports)
    seconds = time.monotonic() - started
    return DemoReport(workdir, project, remote, remote_files, baseline, flows, round_report, seconds)


def _train_main(project: Path, env: Mapping[str, str]) -> dict[str, float]:
    """Run the default flow on ``main`` in the project and commit its dvc.lock and metrics, as a team's main has."""
    from alops import metrics
    from alops.config import load_config
    from alops.flow import current_plan
    from alops.run import run_flow

    config = load_config(project / "alops.yaml")
    plan = current_plan(config, {})
    result = run_flow(config, plan, quiet=True, push=plan.push, env=env)
    _git(project, "add", "dvc.lock", *metrics.files(config, plan.dataset, plan.role))
    if config.report.confusion:
        _git(project, "add", config.report.confusion.replace("{dataset}", plan.dataset))
    _git(project, *_COMMIT, "commit", "--quiet", "--no-verify", "-m", "main: the default branch's model and metrics")
    _git(project, "update-ref", "refs/remotes/origin/main", "HEAD")
    return next(iter(result.metrics.values()), {})


def render(report: DemoReport) -> str:
    """The demo's results for people: what each flow did and why."""
    from alops.roles import ROLE_DEFAULTS

    lines = [
        "Two branches of the example project, each cloned fresh and its train and evaluate stages run here,",
        "with the dataset and push rule of its flow; then one round of active learning on a third.",
        "",
        f"project   {report.project}",
        "          a git repository; data/full and data/dev are tracked by DVC",
        f"remote    {report.remote}",
        f"          the DVC remote `{REMOTE_NAME}` (a local directory standing in for S3), {report.remote_files} files",
        "main      trained on the full data and committed (dvc.lock, metrics): "
        + ", ".join(f"{k} {v:.4g}" for k, v in report.baseline.items()),
    ]
    for flow in report.flows:
        tags = ", ".join(flow.runner_tags) or "untagged"
        data = f"{flow.dataset}: {flow.files} files, {flow.rows} rows, {flow.fetched} objects pulled from the remote"
        if flow.not_downloaded:
            data += f"; {', '.join(flow.not_downloaded)} not downloaded"
        n = len(flow.reproduced)
        ran = f"{n} of {len(flow.stages)} run or restored from the run-cache" if n else "all up to date"
        new = f"{flow.new_remote_files} new file{'s' if flow.new_remote_files != 1 else ''} on the remote"
        if flow.pushed:
            push = f"yes, as the {flow.role} flow does in CI (`alops run --push`): {new} (outputs and run-cache)"
        else:
            push = f"no, like the {flow.role} flow in CI: {new}"
        metrics = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in flow.metrics.items())
        lines += [
            "",
            f"{flow.branch}",
            f"  role      {flow.role}: {flow.reason}",
            f"            {ROLE_DEFAULTS[flow.role].summary}",
            f"  data      {data}",
            f"  runner    its CI jobs ask for a {flow.runner} runner (tags: {tags}); this machine ran them here",
            f"  stages    {' → '.join(flow.stages)} ({ran})",
            f"  metrics   {metrics or '(none)'}",
            f"  push      {push}",
            f"  time      {flow.seconds:.1f} s",
        ]
        if flow.compared:
            from alops.demo_compare import render as render_comparison

            lines += render_comparison(flow.compared)
    from alops.demo_round import render as render_round

    return "\n".join([*lines, *render_round(report.al)])


def _build_dev_set(project: Path) -> None:
    """``alops devset build``, as alops.yaml says; both datasets are then added to DVC in one call."""
    from alops.config import load_config
    from alops.devset.build.run import build
    from alops.devset.build.spec import build_spec

    build(build_spec(load_config(project / "alops.yaml")), track=False)


def _rows(path: Path) -> int:
    files = [path] if path.is_file() else sorted(path.rglob("*.csv")) if path.is_dir() else []
    total = 0
    for f in files:
        with f.open("rb") as fh:
            total += max(sum(1 for _ in fh) - 1, 0)  # minus the header
    return total


def _ignore(directory: str, names: list[str]) -> set[str]:
    top = Path(directory).resolve() == skeleton()
    return {n for n in names if n == "__pycache__" or (top and n in _GENERATED)}


def _git(cwd: Path, *args: str) -> None:
    proc.run(["git", *args], cwd=cwd)
