"""The text ``alops init`` writes and prints: alops.yaml, .gitlab-ci.yml, the advice on dvc.yaml.

Every value that comes from the project (paths, stage names, parameter
values) goes through PyYAML's emitter, so a name with a colon, a quote or a
leading ``*`` is quoted, never read back as something else.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import yaml

from alops.roles import DEFAULT_PATTERNS, PATTERN_ROLES

if TYPE_CHECKING:
    from alops.dvcyaml import Pipeline
    from alops.init import Datasets, Stages

#: The CI template's defaults of the inputs alops init may set (ci-templates/alops.yml).
DEFAULT_DEV_FILES: tuple[str, ...] = ("data/dev.dvc",)
DEFAULT_FULL_FILES: tuple[str, ...] = ("data/full.dvc",)
DEFAULT_GPU_TAGS: tuple[str, ...] = ("gpu",)
#: GitLab's cache:key:files takes one or two files (https://docs.gitlab.com/ci/yaml/#cachekeyfiles).
MAX_KEY_FILES = 2
_WIDE = 1 << 20


def flow(items: Any) -> str:
    """A list (or a scalar, alone) in YAML's flow style, quoted where YAML needs it."""
    value = list(items) if isinstance(items, (list, tuple)) else [items]
    text = yaml.safe_dump(value, default_flow_style=True, width=_WIDE, allow_unicode=True).strip()
    return text if isinstance(items, (list, tuple)) else text[1:-1]


def alops_yaml(
    datasets: Datasets, stages: Stages, params_file: str | None, params: dict[str, Any], version: str
) -> str:
    lines = [
        f"# yaml-language-server: $schema=https://gitlab.com/mlops/alops/-/raw/{release_tag(version)}/src/alops/schema/alops.schema.json",
        f"# The ALOps configuration of this project, written by `alops init` (alops {version}).",
        "# `alops config validate` checks it against its schema and against this project",
        "# (dvc.yaml, the .dvc files, params.yaml); `alops flow --branch NAME` shows",
        "# what CI does on a branch. Every key: `alops config schema`.",
        "version: 1",
        "",
        "# Which branch gets which role (GitLab rules regular expressions). These are",
        "# the defaults; if you change one, set the CI template's *-branches input to",
        "# the same value (in CI the input decides).",
        "# branches:",
        *(f"#   {role}: {DEFAULT_PATTERNS[role]}" for role in ("feature", "experiment", "release", "al")),
        "",
        "# The data, as DVC targets (.dvc files). full: what the default branch and",
        "# experiment/*, release/*, al/* branches train on, on GPU runners; dev: a",
        "# small sample of it for fast feedback on feature branches, on CPU runners.",
        "datasets:",
        "  full:",
        f"    targets: {flow(datasets.full)}",
        "  dev:",
        f"    targets: {flow(datasets.dev)}",
    ]
    if datasets.build is not None:
        source, output = datasets.build
        lines += [
            f"    # There is no dev set yet: `alops devset build` samples it from {source}",
            f"    # as below and tracks it with DVC ({output}.dvc). Name your label",
            "    # column (and a train/validation/test column) so every class and split",
            "    # keeps its share; `alops devset check` later says when to rebuild it.",
            "    build:",
            f"      source: {flow(source)}",
            f"      output: {flow(output)}",
            "      fraction: 0.1           # or count: N rows",
            "      # label: label",
            "      # split: split",
            "      seed: 0",
        ]
    if datasets.unused:
        lines.append(f"# Not used as a dataset: {', '.join(datasets.unused)}")
    lines += [
        "",
        "# The DVC stages each CI job reproduces (`dvc repro` of these names); {dataset}",
        "# becomes dev or full, so a feature branch runs prepare@dev, the default branch",
        "# prepare@full. Stages that write metrics are the evaluate job's.",
    ]
    if stages.unsplit:
        lines.append(f"# Not split by dataset (the same run for every branch): {', '.join(stages.unsplit)}.")
    lines += [
        "pipeline:",
        f"  train: {flow(stages.train)}",
    ]
    if stages.evaluate:
        lines.append(f"  evaluate: {flow(stages.evaluate)}")
    if stages.metrics:
        lines += ["  # Metrics files the evaluate stages write (JSON or YAML).", f"  metrics: {flow(stages.metrics)}"]
    lines += [
        "",
        "# Runner tags of the CPU and GPU jobs. In CI the template's cpu-tags and",
        "# gpu-tags inputs decide: if you set these, make them equal.",
        "# runners:",
        "#   cpu: []",
        "#   gpu: [gpu]",
    ]
    if params_file and params:
        lines += [
            "",
            "# The parameters of the pipeline and the values each may take. `alops init`",
            "# allowed only each one's current value: widen every list to the values you",
            f"# mean to try; `alops config validate` then checks {params_file} against them.",
            "parameters:",
            f"  file: {flow(params_file)}",
            "  allowed:",
            *(f"    {key}: {flow([value])}" for key, value in params.items()),
        ]
    return "\n".join(lines) + "\n"


def include_block(
    version: str,
    dev: tuple[str, ...],
    full: tuple[str, ...],
    branches: dict[str, str],
    runners: dict[str, tuple[str, ...]],
    *,
    gates: bool,
    releases: bool = False,
) -> str:
    """The ``include:`` of the alops templates, with the inputs that differ from their defaults.

    ``gates``: alops.yaml has ``quality.thresholds``; without them the gate job is off
    (``alops gate`` with nothing to check fails, exit 2). ``releases``: alops.yaml has a
    ``release`` section; without it the release jobs are off (``alops release`` fails, exit 2)."""
    inputs: list[str] = []
    for name, files, default in (
        ("dev-dvc-files", dev, DEFAULT_DEV_FILES),
        ("full-dvc-files", full, DEFAULT_FULL_FILES),
    ):
        key = tuple(files[:MAX_KEY_FILES])
        if key != default:
            more = "  # GitLab's cache key takes two files at most" if len(files) > MAX_KEY_FILES else ""
            inputs.append(f"      {name}: {flow(key)}{more}")
    for role in PATTERN_ROLES:
        if branches.get(role, DEFAULT_PATTERNS[role]) != DEFAULT_PATTERNS[role]:
            inputs.append(f"      {role}-branches: {flow(branches[role])}")
    runner_defaults: tuple[tuple[str, tuple[str, ...]], ...] = (("cpu", ()), ("gpu", DEFAULT_GPU_TAGS))
    for runner, default in runner_defaults:
        if runner in runners and tuple(runners[runner]) != default:
            inputs.append(f"      {runner}-tags: {flow(runners[runner])}")
    if not gates:
        inputs.append("      gate: false  # true once alops.yaml has quality.thresholds (see `alops gate`)")
    if not releases:
        inputs.append("      releases: false  # true once alops.yaml has a release section (see `alops release`)")
    lines = [
        "include:",
        "  - project: mlops/alops",
        f"    ref: {release_tag(version)}",
        "    file: /ci-templates/alops.yml",
        *(["    inputs:", *inputs] if inputs else []),
        "  - project: mlops/alops",
        f"    ref: {release_tag(version)}",
        "    file: /ci-templates/workflow.yml",
    ]
    return "\n".join(lines) + "\n"


def release_tag(version: str) -> str:
    """The tag of an alops release: its version as it is (``0.1.0``), as the CI/CD component's version is.

    One tag serves ``include: project: … ref:`` and ``component: …@``; the
    templates' README (ci-templates/README.md) pins both to ``0.1.0``.
    """
    return version


def gitlab_ci(include: str, version: str) -> str:
    header = [
        "# The ALOps pipeline of this project, written by `alops init`. The branch",
        "# decides the data and the runners: feature/* branches train on the dev data",
        "# on CPU runners; the default branch and experiment/*, release/*, al/*",
        "# branches train on the full data on GPU runners (the gpu-tags input) and",
        "# push their results to the DVC remote. `alops flow --branch NAME` shows a",
        "# branch's plan; ci-templates/README.md in alops describes every input.",
        "#",
        "# The jobs need the DVC remote's credentials as masked CI/CD variables",
        "# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY for S3); protect them so only",
        "# protected branches can push to the remote.",
        "#",
        "# The same templates as CI/CD components (GitLab 17.0 or later):",
        f"#   - component: $CI_SERVER_FQDN/mlops/alops/alops@{release_tag(version)}",
        f"#   - component: $CI_SERVER_FQDN/mlops/alops/workflow@{release_tag(version)}",
    ]
    return "\n".join(header) + "\n" + include


def split_advice(pipeline: Pipeline, datasets: Datasets, stages: Stages) -> str:
    """What to change in dvc.yaml so that each stage has a dev and a full copy, shown on one of its stages."""
    from alops.init import per_dataset, tracked_path

    data = pipeline.document.data.get("stages") or {}
    plain = [
        g
        for g in stages.unsplit
        if isinstance(data.get(g), dict) and "foreach" not in data[g] and "matrix" not in data[g]
    ]
    root = pipeline.path.parent
    full = tracked_path(root, datasets.full[0])
    template = per_dataset(full, "${item}")
    uses_data = [g for g in plain if any(_under(d, full) for d in _entries(data[g].get("deps")))]
    head = textwrap.fill(
        f"{pipeline.path.name}'s stages are not split by dataset, so every branch would run them on the "
        "same data and feature branches could not use the small dev set. Give each stage one copy per "
        "dataset: `foreach: [dev, full]`, the stage's body under `do:`, and ${item} where the dataset "
        "goes in its cmd, deps and outs (DVC names the copies NAME@dev and NAME@full).",
        width=88,
    )
    if not plain:
        return head + "\n"
    group = (uses_data or plain)[0]
    outs = [o for g in plain for key in ("outs", "metrics", "plots") for o in _entries(data[g].get(key))]
    body = _split_body(data[group], full, template, outs)
    shown = yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=_WIDE, allow_unicode=True)
    example = "\n".join(
        [
            "stages:",
            f"  {flow(group)}:",
            "    foreach: [dev, full]",
            "    do:",
            *(f"      {ln}" for ln in shown.splitlines()),
        ]
    )
    others = [g for g in plain if g != group]
    tail = [
        f"Do the same for {', '.join(others)}: every output gets ${{item}}, and so does every dependency "
        "on another stage's output."
        if others
        else ""
    ]
    full_path = per_dataset(full, "full")
    if full_path != full:
        tail.append(
            f"Then move the full data where {template} finds it: `dvc move {full} {full_path}`"
            + (f" (the dev set goes to {per_dataset(full, 'dev')})." if datasets.build else ".")
        )
    tail.append(
        "Then run `alops init --force`: alops.yaml will name them "
        + ", ".join(f"{g}@{{dataset}}" for g in plain)
        + " (it names them without @ now)."
    )
    return f"{head}\nFor your stage {group!r}:\n\n{example}\n\n" + "\n".join(t for t in tail if t) + "\n"


def _entries(entries: Any) -> list[str]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        raw = next(iter(entry), None) if isinstance(entry, dict) else entry
        if isinstance(raw, str):
            out.append(raw)
    return out


def _under(path: str, folder: str) -> bool:
    from alops.dvcyaml import normalize

    p, f = normalize(path), normalize(folder)
    return p == f or p.startswith(f + "/")


def _split_body(spec: dict[str, Any], full: str, template: str, outs: list[str]) -> dict[str, Any]:
    from alops.init import per_dataset

    def data_path(path: str) -> str:
        if _under(path, full) and path.startswith(full):
            return template + path[len(full) :]
        for out in outs:  # an upstream stage's output: its per-dataset name
            if _under(path, out) and path.startswith(out):
                return per_dataset(out, "${item}") + path[len(out) :]
        return path

    def each(entries: Any, change: Any) -> Any:
        if not isinstance(entries, list):
            return entries
        out = []
        for entry in entries:
            if isinstance(entry, dict) and len(entry) == 1:
                ((key, opts),) = entry.items()
                out.append({change(key): opts})
            else:
                out.append(change(entry) if isinstance(entry, str) else entry)
        return out

    body = dict(spec)
    if "deps" in body:
        body["deps"] = each(body["deps"], data_path)
    for key in ("outs", "metrics", "plots"):
        if key in body:
            body[key] = each(body[key], lambda p: per_dataset(p, "${item}"))
    cmd = body.get("cmd")
    if isinstance(cmd, str):
        body["cmd"] = cmd.replace(full, template) if full in cmd else f"{cmd} ${{item}}"
    return body
