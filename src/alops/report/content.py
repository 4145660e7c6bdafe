"""What a report says, gathered once: the markdown note and the HTML page both render it."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops import env as variables

if TYPE_CHECKING:
    import gitlab

    from alops.compare import Diff, Snapshot
    from alops.config import Config
    from alops.flow import Plan
    from alops.gate import GateResult


@dataclass(frozen=True)
class Plot:
    file: str  # its file name in the report folder: confusion.png
    title: str
    png: bytes


@dataclass(frozen=True)
class LeftOut:
    """A part of the report that is not there, and why (a missing input never fails the report)."""

    title: str
    why: str


@dataclass(frozen=True)
class Content:
    role: str
    branch: str
    dataset: str
    diff: Diff
    gate: GateResult | None  # None: alops.yaml has no quality gates
    manifest: dict[str, Any] | None  # this run's alops-manifest.json, when there is one
    plots: tuple[Plot, ...]
    left_out: tuple[LeftOut, ...]
    pipeline_url: str | None
    page_url: str | None  # the HTML page among the report job's artifacts
    reproduce: tuple[str, ...]  # shell commands, each safe to paste

    @property
    def marker(self) -> str:
        """The hidden first line that finds this flow's note again on the merge request."""
        return marker(self.role)


def marker(role: str) -> str:
    return f"<!-- alops-report flow={role} -->"


#: Makes the GitLab client for the history plot, or says why there is none.
ClientFactory = Callable[[], "tuple[gitlab.Gitlab | None, str]"]


def build(
    config: Config,
    plan: Plan,
    env: Mapping[str, str],
    *,
    against: str | None,
    out: Path,
    gitlab_client: ClientFactory,
) -> Content:
    """Everything the report shows, read from the workspace, the baseline and (for the history) GitLab."""
    from alops import baseline, compare, manifest
    from alops import gate as gates
    from alops.report import history

    left: list[LeftOut] = []
    current = baseline.current(config, plan, env)
    base = _baseline(config, plan, env, against)
    diff = compare.compare(current, base)
    run: dict[str, Any] | None = None
    path = config.root / manifest.FILE
    if path.is_file():
        from alops.errors import DataError

        try:
            run = manifest.load(path)
        except DataError as exc:
            left.append(LeftOut("Run manifest", str(exc)))
    gate = None
    if config.quality:
        compared = base.label if base.source != "none" else None
        gate = gates.evaluate(config.quality, current.metrics, base.metrics or None, compared)
    plots = list(_confusion_plots(config, plan, left))
    plots += history.plot(config, plan, env, current, run, gitlab_client, left)
    job_url = env.get(variables.CI_JOB_URL)
    page_url = None
    if job_url and not out.is_absolute():
        page_url = f"{job_url.rstrip('/')}/artifacts/file/{out.as_posix().strip('/')}/index.html"
    return Content(
        role=plan.role,
        branch=plan.ref,
        dataset=plan.dataset,
        diff=diff,
        gate=gate,
        manifest=run,
        plots=tuple(plots),
        left_out=tuple(left),
        pipeline_url=env.get(variables.CI_PIPELINE_URL) or None,
        page_url=page_url,
        reproduce=reproduce_commands(run, current, env),
    )


def _baseline(config: Config, plan: Plan, env: Mapping[str, str], against: str | None) -> Snapshot:
    from alops import baseline
    from alops.compare import Snapshot

    ref = against or baseline.default_ref(config, env)
    if ref is None:
        why = "no baseline: there is no merge request target, default branch or origin HEAD (pass --against REF)"
        return Snapshot(label="none", source="none", note=why)
    if against is None and ref == plan.ref:
        return Snapshot(label=ref, source="none", note=f"this is the default branch {ref}: nothing to compare with")
    return baseline.at_ref(config, plan, ref, env)


def _confusion_plots(config: Config, plan: Plan, left: list[LeftOut]) -> list[Plot]:
    from alops.errors import DataError
    from alops.report import plots

    titles = ("Confusion matrix", "Per-class precision, recall and F1")
    pattern = config.report.confusion
    if pattern is None:
        why = "alops.yaml has no report.confusion (a CSV of actual,predicted rows the evaluate stage writes)"
        left.extend(LeftOut(title, why) for title in titles)
        return []
    name = pattern.replace("{dataset}", plan.dataset).replace("{role}", plan.role)
    path = config.root / name
    if not path.is_file():
        why = f"{name} (report.confusion) is not in the workspace: run the evaluate stage ({_stages(plan)})"
        left.extend(LeftOut(title, why) for title in titles)
        return []
    try:
        conf = plots.read_confusion(path, name)
    except DataError as exc:
        left.extend(LeftOut(title, str(exc)) for title in titles)
        return []
    cannot = plots.missing()
    if cannot:
        left.extend(LeftOut(title, cannot) for title in titles)
        return []
    subject = f"{plan.dataset}: {conf.total} test samples"
    return [
        Plot("confusion.png", titles[0], plots.confusion_png(conf, f"Confusion matrix ({subject})")),
        Plot("per-class.png", titles[1], plots.class_scores_png(plots.class_scores(conf), f"Per class ({subject})")),
    ]


def _stages(plan: Plan) -> str:
    return ", ".join(plan.evaluate_stages) or "dvc repro"


def reproduce_commands(run: Mapping[str, Any] | None, current: Snapshot, env: Mapping[str, str]) -> tuple[str, ...]:
    """How to run this again: from the pipeline, from the manifest, and by hand with git and DVC."""
    from alops import manifest

    commands = []
    url = env.get(variables.CI_PIPELINE_URL)
    if url:
        commands.append(f"alops reproduce {shlex.quote(url)}")
    commands.append(f"alops reproduce {manifest.FILE}")
    commit = (run or {}).get("commit") or current.commit
    if commit:
        stages = [shlex.quote(str(s)) for s in (run or {}).get("stages") or []]
        repro = " ".join(["dvc", "repro", *stages])
        commands.append(f"git checkout {shlex.quote(str(commit))} && dvc pull && {repro}")
    return tuple(commands)


def device_line(device: Mapping[str, Any]) -> str:
    """The manifest's ``environment.device`` in one line: cpu or cuda, the driver's CUDA, torch's build."""
    parts = [str(device["kind"])]
    if device.get("cuda"):
        parts.append(f"CUDA {device['cuda']} (driver {device.get('driver') or '?'})")
    torch = device.get("torch") or {}
    if torch.get("version"):
        build = f"CUDA {torch['cuda']} build" if torch.get("cuda") else "CPU build"
        parts.append(f"torch {torch['version']}, {build}")
    if device.get("visible") is not None:
        parts.append(f"CUDA_VISIBLE_DEVICES={device['visible']}")
    return " · ".join(parts)


def environment(run: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The run's environment as (what, value) rows: Python, platform, image, runner, GPUs, device, packages."""
    if not run:
        return []
    env = run.get("environment") or {}
    rows = [("commit", str(run.get("commit") or "")), ("dirty", "yes" if run.get("dirty") else "no")]
    for key in ("python", "platform", "image", "image_digest"):
        if env.get(key):
            rows.append((key.replace("_", " "), str(env[key])))
    runner = run.get("runner") or {}
    if runner:
        tags = ", ".join(str(t) for t in runner.get("tags") or [])
        rows.append(
            ("runner", f"{runner.get('description') or runner.get('id') or ''}" + (f" ({tags})" if tags else ""))
        )
    for gpu in run.get("gpu") or []:
        rows.append(("GPU", f"{gpu.get('name')} ({gpu.get('memory_mib')} MiB, driver {gpu.get('driver')})"))
    device = env.get("device") or {}
    if device.get("kind"):
        rows.append(("device", device_line(device)))
    packages = env.get("packages") or {}
    if packages:
        rows.append(("packages", ", ".join(f"{name} {version}" for name, version in sorted(packages.items()))))
    timings = run.get("timings") or {}
    if timings.get("total_s") is not None:
        rows.append(("run time", f"{timings['total_s']} s"))
    return rows
