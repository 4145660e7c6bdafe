"""Does ``alops.yaml`` fit the project it sits in?

The schema says a file is well formed; this says whether the jobs it
describes can run here: the ``pipeline`` stages exist in ``dvc.yaml``, the
metrics files are written by the evaluate stages, the dataset targets exist,
and the CI template's inputs (seen in a job as ``ALOPS_*`` variables) agree
with the file. Every problem reads ``file:line: key.path: what is wrong;
what is allowed``; the caller passes the environment in.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alops import dvcyaml
from alops import env as variables
from alops.config import Config
from alops.dvcyaml import Pipeline, shown
from alops.errors import ConfigError
from alops.roles import PATTERN_ROLES

JOBS = ("train", "evaluate", "score")
MAX_LISTED = 12
#: Folders never searched for .dvc files.
_SKIP_DIRS = {".git", ".dvc", "node_modules", "__pycache__"}


@dataclass(frozen=True)
class ProjectCheck:
    """What ``check`` found: problems (the file does not fit) and notes (worth knowing, not wrong)."""

    problems: tuple[str, ...]
    notes: tuple[str, ...]


def check(config: Config, env: Mapping[str, str]) -> ProjectCheck:
    """Check ``config`` against its project (``dvc.yaml``, the data) and the CI variables in ``env``."""
    problems: list[str] = []
    notes: list[str] = []
    pipeline = dvcyaml.load(config.root)
    if pipeline is None:
        problems.append(
            f"{config.where('pipeline')}: pipeline: there is no {_shown_root(config, dvcyaml.FILE)}, so no stage can run; "
            "add the stages with `dvc stage add` (or check only this file with --no-project)"
        )
    else:
        problems += _stages(config, pipeline) + _metrics(config, pipeline)
    problems += _datasets(config, pipeline, notes)
    problems += _ci_inputs(config, env)
    return ProjectCheck(tuple(problems), tuple(notes))


def combinations(config: Config, job: str) -> list[tuple[str, str]]:
    """(dataset, role) of every role whose flow runs ``job``, as the jobs fill in the placeholders.

    The scoring stages (``pipeline.score``) run in the al role's query step, on its dataset.
    """
    if job == "score":
        return [(config.flows["al"].dataset, "al")]
    return [(flow.dataset, role) for role, flow in config.flows.items() if job in flow.jobs]


def _expand(template: str, dataset: str, role: str) -> str:
    return template.replace("{dataset}", dataset).replace("{role}", role)


def _listing(items: list[str]) -> str:
    more = f", … ({len(items)} in all)" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more if items else "none"


def _stages(config: Config, pipeline: Pipeline) -> list[str]:
    out = []
    for job in JOBS:
        combos = combinations(config, job)
        for i, template in enumerate(getattr(config.pipeline, job)):
            expanded = sorted({_expand(template, d, r) for d, r in combos})
            missing = [e for e in expanded if not pipeline.has(e)]
            if not missing:
                continue
            as_run = f" (as {', '.join(missing)})" if missing != [template] else ""
            # Stage for stage, group for group: train@dev is no typo of the group train.
            names = list(pipeline.names) if "@" in missing[0] else list(dict.fromkeys(s.group for s in pipeline.stages))
            guess = _guess(template, missing, names, combos, pipeline.has)
            out.append(
                f"{config.where('pipeline', job, i)}: pipeline.{job}[{i}]: {template!r} is not a stage of "
                f"{dvcyaml.FILE}{as_run}; {guess}stages there: {_listing(list(pipeline.names))}"
            )
    return out


def _guess(
    template: str,
    missing: list[str],
    candidates: list[str],
    combos: list[tuple[str, str]],
    exists: Callable[[str], bool],
) -> str:
    """``did you mean …? `` for the first missing name, written with the template's placeholders when that fits."""
    close = difflib.get_close_matches(missing[0], candidates, n=1, cutoff=0.6)
    if not close:
        return ""
    guess = close[0]
    # Say it the way alops.yaml writes it: train@dev for trian@dev becomes train@{dataset}.
    dataset, role = next(((d, r) for d, r in combos if _expand(template, d, r) == missing[0]), ("", ""))
    candidate = guess
    if "{role}" in template and role:
        candidate = candidate.replace(role, "{role}")
    if "{dataset}" in template and dataset:
        candidate = candidate.replace(dataset, "{dataset}")
    if candidate != guess and all(exists(_expand(candidate, d, r)) for d, r in combos):
        guess = candidate
    return f"did you mean {guess!r}? "


def _metrics(config: Config, pipeline: Pipeline) -> list[str]:
    out = []
    # A flow whose evaluate stages are missing is reported as such, not once more per metrics file.
    combos = [
        (d, r)
        for d, r in combinations(config, "evaluate")
        if all(pipeline.has(_expand(t, d, r)) for t in config.pipeline.evaluate)
    ]
    for i, template in enumerate(config.pipeline.metrics):
        where = f"{config.where('pipeline', 'metrics', i)}: pipeline.metrics[{i}]"
        if not config.pipeline.evaluate:
            out.append(
                f"{where}: {template!r} has no stage to write it: pipeline.evaluate is empty; "
                "add the stage that writes it to pipeline.evaluate"
            )
            break
        if not combos:
            break
        by_combo = {(d, r): _evaluate_outs(config, pipeline, d, r) for d, r in combos}
        paths = {(d, r): _expand(template, d, r) for d, r in combos}
        written = {c for c in combos if any(dvcyaml.covers(o, paths[c]) for o in by_combo[c])}
        if written and ("{" not in template or written == set(combos)):
            continue  # a fixed name needs one flow that writes it; a template, every flow
        missing = sorted({paths[c] for c in combos if c not in written})
        stages = sorted({_expand(t, d, r) for d, r in combos for t in config.pipeline.evaluate})
        writes = sorted({shown(o) for c in combos for o in by_combo[c]})
        others = sorted({s.name for s in pipeline.stages for p in missing if any(dvcyaml.covers(o, p) for o in s.outs)})
        hint = f"it is an output of {', '.join(others)}: add that stage to pipeline.evaluate; " if others else ""
        as_run = f" (as {', '.join(missing)})" if missing != [template] else ""

        every_out = [o for c in combos for o in by_combo[c]]
        guess = "" if others else _guess(template, missing, writes, combos, functools.partial(_held, every_out))
        out.append(
            f"{where}: {template!r} is not written by the evaluate stages{as_run}; {hint}{guess}"
            f"{', '.join(stages)} write: {_listing(writes)}"
        )
    return out


def _evaluate_outs(config: Config, pipeline: Pipeline, dataset: str, role: str) -> list[str]:
    names = [_expand(t, dataset, role) for t in config.pipeline.evaluate]
    return [o for name in names for s in pipeline.stage(name) for o in s.outs]


def dvc_files(root: Path) -> list[str]:
    """The ``.dvc`` files of the project, relative to ``root``, sorted.

    git lists them without descending into ignored folders (DVC ignores the
    data it tracks, which may hold millions of files); outside a git
    repository the folders are walked, hidden ones skipped.
    """
    from alops import proc
    from alops.errors import ToolError

    args = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.dvc"]
    try:
        listed = proc.run(args, cwd=root, check=False)
    except ToolError:  # git is not installed
        listed = None
    if listed is not None and listed.returncode == 0:
        names = {n for n in listed.stdout.split("\0") if n and (root / n).is_file()}
        return sorted(n for n in names if not any(p.startswith(".") for p in n.split("/")))
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        rel = Path(folder).relative_to(root)
        found += [(rel / f).as_posix() for f in files if f.endswith(".dvc") and not f.startswith(".")]
    return sorted(found)


def _datasets(config: Config, pipeline: Pipeline | None, notes: list[str]) -> list[str]:
    root = config.root
    if not (root / ".dvc").is_dir():
        notes.append(
            f"{_shown_root(config)} is not a DVC project (no .dvc/): the datasets' targets were not checked; run `dvc init`"
        )
        return []
    build = config.devset.build.output if config.devset.build else None
    out = []
    known: list[str] | None = None
    for name, dataset in config.datasets.items():
        for j, target in enumerate(dataset.targets):
            path = dvcyaml.normalize(target)
            if (root / path).exists() or (root / f"{path}.dvc").is_file():
                continue
            if pipeline and (pipeline.has(path) and ":" not in path or _written(pipeline, path)):
                continue
            if name == "dev" and build and path in (dvcyaml.normalize(build), dvcyaml.normalize(build) + ".dvc"):
                notes.append(f"datasets.dev.targets[{j}]: {target} is not built yet: run `alops devset build`")
                continue
            known = dvc_files(root) if known is None else known
            close = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            out.append(
                f"{config.where('datasets', name, 'targets', j)}: datasets.{name}.targets[{j}]: {target} does not "
                f"exist: no such .dvc file, and no stage of {dvcyaml.FILE} writes it; {hint}"
                f".dvc files here: {_listing(known)} (track data with `dvc add PATH`)"
            )
    return out


def _written(pipeline: Pipeline, path: str) -> bool:
    return _held([o for s in pipeline.stages for o in s.outs], path)


def _held(outs: list[str], path: str) -> bool:
    return any(dvcyaml.covers(o, path) for o in outs)


def _ci_inputs(config: Config, env: Mapping[str, str]) -> list[str]:
    from alops.flow import runner_tags as parse_tags  # the template's rendering of array inputs, parsed in one place

    out = []
    for role in PATTERN_ROLES:
        variable = variables.branches(role)
        value = env.get(variable)
        if value and value != config.branches[role]:
            out.append(
                f"{config.where('branches', role)}: branches.{role}: {config.branches[role]} here, but the CI "
                f"template's {role}-branches input is {_text(value)} ({variable}); make them equal: in CI the "
                "input decides the role, so `alops flow` elsewhere would disagree"
            )
    for runner in ("cpu", "gpu"):
        variable = variables.tags(runner)
        value = env.get(variable)
        # unset in alops.yaml: the template's tags are the only ones
        if value is None or not config.written("runners", runner):
            continue
        where = f"{config.where('runners', runner)}: runners.{runner}"
        try:
            tags = parse_tags(value, ()) if value.strip() else ()
        except ConfigError as exc:
            out.append(f"{where}: {exc} ({variable})")
            continue
        if set(tags) != set(config.runners[runner]):
            out.append(
                f"{where}: {json.dumps(list(config.runners[runner]))} here, but the CI template's {runner}-tags input "
                f"is {json.dumps(list(tags))} ({variable}); make them equal"
            )
    return out


def _text(value: str) -> str:
    """A value from the environment, safe to print: as it is, or escaped when it holds control characters."""
    from alops.text import quote as printable

    return value if value.isprintable() else printable(value)


def _shown_root(config: Config, name: str = "") -> str:
    """The project folder (or a file in it) as the user named alops.yaml: relative stays relative."""
    folder = config.path.parent
    if str(folder) == ".":
        return name or "the project"
    return str(folder / name) if name else str(folder)
