"""``alops init``: adopt alops in an existing DVC project.

What a project already says is read, not asked: the datasets from its ``.dvc``
files, the pipeline stages and metrics from ``dvc.yaml``, the parameters from
``params.yaml``. From these :func:`propose` derives an ``alops.yaml`` and a
``.gitlab-ci.yml`` (rendered in :mod:`alops.init_render`), and :func:`init`
writes them: atomically, never over a file the user has (unless forced), and
not at all when nothing would change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alops import dvcyaml, proc, yamlfile
from alops.config import DEFAULT_FILE
from alops.errors import AlopsError, ConfigError
from alops.project import dvc_files

CI_FILE = ".gitlab-ci.yml"
#: Words in a .dvc file's path that say which dataset it holds.
_DEV_WORDS = {"dev", "devset"}
_FULL_WORDS = {"full"}
_TOKENS = re.compile(r"[^A-Za-z0-9]+")
_FULL_TOKEN = re.compile(r"(?<![A-Za-z0-9])full(?![A-Za-z0-9])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PARAM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
MAX_PARAMS = 50


@dataclass(frozen=True)
class Datasets:
    full: tuple[str, ...]  # .dvc files
    dev: tuple[str, ...]  # .dvc files, or the one `alops devset build` will write
    build: tuple[str, str] | None  # (source, output) when the dev set is still to be built
    unused: tuple[str, ...]  # .dvc files that are neither


@dataclass(frozen=True)
class Stages:
    train: tuple[str, ...]
    evaluate: tuple[str, ...]
    metrics: tuple[str, ...]
    split: tuple[str, ...]  # groups with a dev and a full copy
    unsplit: tuple[str, ...]  # groups that are not


@dataclass(frozen=True)
class Proposal:
    """What ``alops init`` would write for a project, and why."""

    root: Path
    version: str
    datasets: Datasets
    stages: Stages
    params_file: str | None
    params: dict[str, Any]  # dotted key -> current value
    alops_yaml: str
    gitlab_ci: str
    include_block: str  # the include to add to an existing .gitlab-ci.yml
    advice: str | None  # how to split dvc.yaml's stages by dataset, when they are not


@dataclass(frozen=True)
class FileResult:
    path: Path
    action: str  # written, would-write, unchanged, kept, add-include
    reason: str
    text: str


@dataclass(frozen=True)
class InitResult:
    proposal: Proposal
    files: tuple[FileResult, ...]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return any(f.action in ("written", "would-write") for f in self.files)


def require_project(root: Path) -> None:
    """Raise ConfigError (exit 2) unless ``root`` is the top of a git repository with DVC and a dvc.yaml."""
    top = proc.run(["git", "rev-parse", "--show-toplevel"], cwd=root, check=False)
    if top.returncode != 0:
        raise ConfigError(f"{root} is not in a git repository: run `git init` and `dvc init` there first")
    if Path(top.stdout.strip()).resolve() != root.resolve():
        raise ConfigError(
            f"{root} is inside the git repository {top.stdout.strip()}: run `alops init` at its top, "
            "where .gitlab-ci.yml and alops.yaml belong"
        )
    if not (root / ".dvc").is_dir():
        raise ConfigError(f"{root} is not a DVC project (no .dvc/): run `dvc init` first")
    if not (root / dvcyaml.FILE).is_file():
        raise ConfigError(
            f"{root} has no {dvcyaml.FILE}: alops runs your DVC pipeline's stages; add them first "
            "(`dvc stage add -n train -d data/full -o models python train.py`)"
        )


def propose(root: Path, version: str, *, force: bool = False) -> Proposal:
    """What ``alops init`` would write in ``root``; ConfigError when something it needs is missing.

    An alops.yaml already there (and kept: not ``force``) decides the CI inputs.
    """
    from alops import init_render

    require_project(root)
    pipeline = dvcyaml.load(root)
    assert pipeline is not None
    datasets = find_datasets(root)
    stages = find_stages(pipeline)
    if not stages.train:
        raise ConfigError(f"{pipeline.path} has no stages: add your pipeline's stages with `dvc stage add` first")
    params_file, params = _params(root)
    existing = None if force else _existing_config(root)
    alops_yaml = init_render.alops_yaml(datasets, stages, params_file, params, version)
    _self_check(alops_yaml)
    if existing is not None:  # a kept alops.yaml is what CI must agree with
        branches, runners, dev, full, gates, releases = existing
    else:  # the alops.yaml init writes has no quality gates and no release section yet
        branches, runners, dev, full, gates, releases = {}, {}, datasets.dev, datasets.full, False, False
    include = init_render.include_block(version, dev, full, branches, runners, gates=gates, releases=releases)
    advice = None
    if not stages.split:
        advice = init_render.split_advice(pipeline, datasets, stages)
    return Proposal(
        root,
        version,
        datasets,
        stages,
        params_file,
        params,
        alops_yaml,
        init_render.gitlab_ci(include, version),
        include,
        advice,
    )


def init(root: Path, version: str, *, force: bool = False, dry_run: bool = False) -> InitResult:
    """Write ``alops.yaml`` and ``.gitlab-ci.yml`` in ``root`` as :func:`propose` says."""
    proposal = propose(root, version, force=force)
    results = [
        _decide(root / DEFAULT_FILE, proposal.alops_yaml, force, dry_run, None),
        _decide(root / CI_FILE, proposal.gitlab_ci, force, dry_run, proposal.include_block),
    ]
    return InitResult(proposal, tuple(results), dry_run)


def _decide(path: Path, text: str, force: bool, dry_run: bool, include: str | None) -> FileResult:
    old = path.read_text("utf-8", errors="replace") if path.is_file() else None
    if old == text:
        return FileResult(path, "unchanged", "already as alops init writes it", text)
    if old is not None and not force:
        if include is not None and not _includes_alops(old):
            return FileResult(path, "add-include", "exists without the alops include: add this block to it", include)
        return FileResult(path, "kept", "exists and differs; --force replaces it", text)
    if dry_run:
        return FileResult(path, "would-write", "replace" if old is not None else "create", text)
    from alops.atomic import replacing

    with replacing(path, folder=False) as tmp:
        tmp.write_text(text, "utf-8")
    return FileResult(path, "written", "replaced" if old is not None else "created", text)


def _self_check(text: str) -> None:
    """What init writes must load: a project it cannot describe is an error here, not a broken file."""
    from alops.config import validate_document

    try:
        validate_document(yamlfile.loads(text, DEFAULT_FILE))
    except ConfigError as exc:
        raise ConfigError(
            f"alops init cannot describe this project in a valid alops.yaml (nothing was written): {exc}"
        ) from None


def _includes_alops(text: str) -> bool:
    return "ci-templates/alops.yml" in text or "mlops/alops/alops@" in text


def find_datasets(root: Path) -> Datasets:
    """Map the project's .dvc files to the full and dev datasets, by the words in their paths."""
    files = [f for f in dvc_files(root) if not _CONTROL.search(f)]
    if not files:
        raise ConfigError(
            f"{root} has no .dvc files: track your data with DVC first (`dvc add data/full`), then run this again"
        )
    dev = [f for f in files if _DEV_WORDS & _words(f)]
    rest = [f for f in files if f not in dev]
    full = [f for f in rest if _FULL_WORDS & _words(f)] or rest
    unused = [f for f in rest if f not in full]
    if not full:  # every .dvc file looks like a dev set
        raise ConfigError(
            f"{root}: every .dvc file looks like a dev set ({', '.join(dev)}): track the full data too (`dvc add …`)"
        )
    build = None
    if not dev:
        source = tracked_path(root, full[0])
        output = per_dataset(source, "dev")
        build = (source, output)
        dev = [output + ".dvc"]
    return Datasets(tuple(full), tuple(dev), build, tuple(unused))


def _words(path: str) -> set[str]:
    return {w.lower() for w in _TOKENS.split(path.removesuffix(".dvc"))}


def tracked_path(root: Path, dvc_file: str) -> str:
    """The path a .dvc file tracks (its first output, relative to the project)."""
    base = dvc_file.removesuffix(".dvc")
    try:
        outs = yamlfile.load(root / dvc_file).data.get("outs") or []
    except AlopsError:
        return base
    path = outs[0].get("path") if outs and isinstance(outs[0], dict) else None
    if not isinstance(path, str) or _CONTROL.search(path):
        return base
    return dvcyaml.normalize(str(Path(dvc_file).parent / path))


def per_dataset(path: str, word: str) -> str:
    """``path`` for the dataset ``word``: its ``full`` replaced, else ``-word`` added to its name."""
    matches = list(_FULL_TOKEN.finditer(path))
    if matches:
        m = matches[-1]
        return path[: m.start()] + word + path[m.end() :]
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.partition(".") if not name.startswith(".") else (name, "", "")
    new = f"{stem}-{word}{dot}{ext}"
    return f"{folder}/{new}" if folder else new


def find_stages(pipeline: dvcyaml.Pipeline) -> Stages:
    """The stages each job runs: stages with a metrics output evaluate, the others train."""
    # In dvc.yaml's order; a group alops could not expand (foreach: ${…}) runs as a whole.
    defined = pipeline.document.data.get("stages")
    groups: dict[str, list[dvcyaml.Stage]] = {g: [] for g in (defined if isinstance(defined, dict) else {})}
    for stage in pipeline.stages:
        groups.setdefault(stage.group, []).append(stage)
    groups = {g: m for g, m in groups.items() if m or g in pipeline.open_groups}
    train: list[str] = []
    evaluate: list[str] = []
    metrics: list[str] = []
    split: list[str] = []
    unsplit: list[str] = []
    for group, members in groups.items():
        by_key = {s.key: s for s in members}
        if "dev" in by_key and "full" in by_key:
            split.append(group)
            name = f"{group}{dvcyaml.JOIN}{{dataset}}"
            found = _templated(by_key["dev"].metrics, by_key["full"].metrics)
        else:
            unsplit.append(group)
            name = group
            found = [m for s in members for m in s.metrics]
        found = [m for m in found if dvcyaml.UNRESOLVED not in m]
        (evaluate if found else train).append(name)
        metrics += [m for m in found if m not in metrics]
    if not train:  # every stage writes metrics: the train job runs them too
        train = list(evaluate)
    return Stages(tuple(train), tuple(evaluate), tuple(metrics), tuple(split), tuple(unsplit))


def _templated(dev: tuple[str, ...], full: tuple[str, ...]) -> list[str]:
    out = []
    for d, f in zip(dev, full, strict=False):
        candidate = d.replace("dev", "{dataset}")
        if d == f:
            out.append(d)
        elif candidate.replace("{dataset}", "full") == f:
            out.append(candidate)
        else:
            out += [d, f]
    return out


def _params(root: Path) -> tuple[str | None, dict[str, Any]]:
    path = root / "params.yaml"
    if not path.is_file():
        return None, {}
    doc = yamlfile.load(path)
    flat: dict[str, Any] = {}
    _flatten(doc.data, "", flat)
    return "params.yaml", dict(list(flat.items())[:MAX_PARAMS])


def _flatten(data: Any, prefix: str, out: dict[str, Any]) -> None:
    for key, value in data.items():
        if not _PARAM_KEY.match(key):
            continue
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", out)
        elif isinstance(value, (str, int, float, bool)) and not (isinstance(value, str) and _CONTROL.search(value)):
            out[prefix + key] = value


def _existing_config(
    root: Path,
) -> tuple[dict[str, str], dict[str, tuple[str, ...]], tuple[str, ...], tuple[str, ...], bool, bool] | None:
    """Branches, explicitly set runners, the targets, whether there are quality gates and a release section,
    of an alops.yaml already there (None: none, or invalid)."""
    if not (root / DEFAULT_FILE).is_file():
        return None
    from alops.config import load_config

    try:
        cfg = load_config(root / DEFAULT_FILE)
    except ConfigError:
        return None
    runners = {k: v for k, v in cfg.runners.items() if cfg.written("runners", k)}
    dev, full = cfg.datasets["dev"].targets, cfg.datasets["full"].targets
    return dict(cfg.branches), runners, dev, full, bool(cfg.quality), cfg.release is not None
