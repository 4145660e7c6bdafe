"""``alops experiments``: what the whole team has tried and what won.

The project's experiment branches (their role from alops.yaml's branch
patterns, found as ``alops flow`` finds it) and their merge requests, each
with the run manifest of its latest successful pipeline (read from that
pipeline's artifacts through python-gitlab): metrics, the parameters that
differ from the default branch's, data versions. The default branch is the
reference row. Rows are sorted by one metric and the best one is marked.

Everything that comes from GitLab (branch names, titles, manifests) is
someone's text: :func:`render` escapes it for the terminal and for HTML.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from alops import env as variables
from alops.compare import Snapshot
from alops.config import Config
from alops.errors import ConfigError, DataError

if TYPE_CHECKING:
    import gitlab

#: The version of the JSON shape (``alops experiments --format json``).
FORMAT_VERSION = 1
FORMATS = ("text", "json", "html")
#: The CI job whose artifacts hold a branch's manifest, unless ALOPS_BASELINE_JOB names another.
DEFAULT_JOB = "alops-run-gpu"
#: Experiment branches read by default: the most recently committed ones (one API request each).
DEFAULT_LIMIT = 50
NO_MANIFEST = "no manifest"
#: Manifests read at the same time.
_PARALLEL = 8
_SHORT = 8
_TITLE_CHARS = 40


@dataclass(frozen=True)
class MergeRequest:
    iid: int
    title: str
    state: str  # "opened" or "merged"
    url: str | None


@dataclass(frozen=True)
class Row:
    """One branch: its head, its merge request, and what its latest manifest says (``snapshot``)."""

    branch: str
    role: str  # "experiment", or "default" for the reference row
    snapshot: Snapshot  # source "artifacts" (a manifest was read) or "none" (``note`` says why)
    head: str | None = None  # the branch's head commit; None when the branch is gone (a merged MR's)
    when: str | None = None  # UTC, ``2026-12-02T05:00:00Z``: the manifest's creation, else the head's commit date
    merge_request: MergeRequest | None = None
    params: dict[str, Any] = field(default_factory=dict)  # parameter → value: those that differ from the baseline's
    data: dict[str, str] = field(default_factory=dict)  # the dataset's DVC targets → their hashes
    value: float | None = None  # the sorting metric's value
    best: bool = False

    @property
    def baseline(self) -> bool:
        return self.role == "default"

    @property
    def commit(self) -> str | None:
        """The commit the manifest was made from, else the branch's head."""
        return self.snapshot.commit or self.head

    @property
    def note(self) -> str:
        if self.snapshot.source == "none":
            return self.snapshot.note or NO_MANIFEST
        if self.head and self.snapshot.commit and self.head != self.snapshot.commit:
            return f"the branch has newer commits (head {self.head[:_SHORT]})"
        return ""


@dataclass(frozen=True)
class Experiments:
    """The table: its rows in sorted order, and how they were sorted."""

    project: str
    job: str
    default_branch: str | None
    metric: str | None  # the sorting metric; None: no gate and no --sort (newest first)
    better: str  # "higher" or "lower"
    ascending: bool
    rows: tuple[Row, ...]
    left_out: int = 0  # experiment branches beyond --limit


def project_id(env: Mapping[str, str], given: str | None = None) -> str:
    """The GitLab project: ``given`` (``--project``), else CI_PROJECT_ID, else CI_PROJECT_PATH."""
    found = given or env.get(variables.CI_PROJECT_ID) or env.get(variables.CI_PROJECT_PATH)
    if not found:
        raise ConfigError(
            f"the GitLab project is unknown: pass --project GROUP/NAME (or its numeric id), or set "
            f"{variables.CI_PROJECT_ID} (GitLab sets it in CI jobs)"
        )
    return found


def collect(
    config: Config,
    env: Mapping[str, str],
    *,
    project: str,
    job: str | None = None,
    include_merged: bool = False,
    limit: int = DEFAULT_LIMIT,
    sort: str | None = None,
    ascending: bool | None = None,
) -> Experiments:
    """The project's experiment branches and merge requests with their manifests, sorted.

    ``sort`` defaults to the first quality gate's metric, its direction to the
    gate's ``better`` (``ascending`` overrides it); ``limit`` keeps the most
    recently committed experiment branches (0: all of them).
    """
    from alops import gitlab as api

    job = job or env.get(variables.BASELINE_JOB) or DEFAULT_JOB
    client = api.client_from_env(env)
    default, found, left_out = _branches(client, config, env, project, include_merged=include_merged, limit=limit)
    snapshots = _manifests(client, project, job, [row.branch for row in found])
    rows = [_with_data(config, replace(row, snapshot=snap)) for row, snap in zip(found, snapshots, strict=True)]
    rows = [_dated(row) for row in _compared(config, rows)]
    metric, better, up = ordering(config, sort, ascending)
    return Experiments(project, job, default, metric, better, up, rank(rows, metric, better, up), left_out)


def ordering(config: Config, sort: str | None, ascending: bool | None) -> tuple[str | None, str, bool]:
    """The sorting metric, which way is better, and whether rows go up: from ``--sort``/``--ascending`` or the gates."""
    gates = config.quality
    metric = sort or (gates[0].metric if gates else None)
    gate = next((g for g in gates if g.metric == metric), None)
    better = gate.better if gate else ("lower" if ascending else "higher")
    return metric, better, (better == "lower") if ascending is None else ascending


def rank(rows: Sequence[Row], metric: str | None, better: str, ascending: bool) -> tuple[Row, ...]:
    """``rows`` by ``metric`` (rows without it last; newest first among equals), the best one marked."""
    newest = sorted(rows, key=lambda r: r.branch)
    newest.sort(key=lambda r: r.when or "", reverse=True)
    if metric is None:
        return tuple(newest)
    valued = [replace(r, value=value(metric, r)) for r in newest]
    known = sorted((r for r in valued if r.value is not None), key=lambda r: r.value or 0.0, reverse=not ascending)
    if known:
        pick = max if better == "higher" else min
        top = pick(r.value or 0.0 for r in known)
        first = next(i for i, r in enumerate(known) if r.value == top)
        known[first] = replace(known[first], best=True)
    return (*known, *(r for r in valued if r.value is None))


def value(metric: str, row: Row) -> float | None:
    """``metric`` (a key path, or FILE:KEY) in the row's manifest; None when absent or not a finite number."""
    from alops.gate import find

    metrics = row.snapshot.metrics
    try:
        found = find(metric, metrics)
    except ConfigError:
        holders = [name for name, values in metrics.items() if metric in values]
        raise ConfigError(
            f"{metric} is in several metrics files of the manifest of branch {_quoted(row.branch)} "
            f"({', '.join(holders)}): sort by FILE:KEY, e.g. --sort {holders[0]}:{metric}"
        ) from None
    return found if found is not None and math.isfinite(found) else None


# --- reading GitLab ------------------------------------------------------------------------------


def _branches(
    client: gitlab.Gitlab, config: Config, env: Mapping[str, str], project: str, *, include_merged: bool, limit: int
) -> tuple[str | None, list[Row], int]:
    """The default branch's row and the experiment rows (not yet with manifests), and how many --limit left out."""
    import gitlab.exceptions

    from alops import gitlab as api
    from alops.flow import Context, patterns, role_of

    states = ("opened", "merged") if include_merged else ("opened",)
    try:
        with api.reaching(client):
            remote = client.projects.get(project, lazy=True)
            branches = [b.attributes for b in remote.branches.list(get_all=True, per_page=100)]
            mrs = [m.attributes for s in states for m in remote.mergerequests.list(state=s, get_all=True, per_page=100)]
    except gitlab.exceptions.GitlabError as exc:
        if client.job_token and getattr(exc, "response_code", None) in (401, 403):
            raise DataError(
                f"GitLab refused CI_JOB_TOKEN to list the branches and merge requests of project {project}: "
                f"a job token cannot; set {variables.GITLAB_TOKEN} to a project access token with the read_api scope"
            ) from None
        raise api.api_error(exc, client, f"list the branches and merge requests of project {project}") from None
    default = next((str(b["name"]) for b in branches if b.get("default") is True), None)
    default = default or env.get(variables.CI_DEFAULT_BRANCH) or None
    pats = patterns(config, env)

    def role(name: str) -> str:
        return role_of(Context(name, None, "push", default or ""), pats)[0]

    heads = {b["name"]: _mapping(b.get("commit")) for b in branches if isinstance(b.get("name"), str)}
    found: dict[str, Row] = {}
    for name, commit in heads.items():
        if name == default or role(name) == "experiment":
            found[name] = Row(name, role(name), _nothing(name), commit.get("id"), _utc(commit.get("committed_date")))
    # Newest first, opened before merged: the first merge request of a branch is the one shown.
    for mr in sorted(mrs, key=lambda m: (m.get("state") != "opened", -_int(m.get("iid")))):
        source = mr.get("source_branch")
        if not isinstance(source, str) or mr.get("source_project_id", 0) != mr.get("project_id", 0):
            continue  # a fork's branch of the same name is another branch
        if source not in found and source not in heads and mr.get("state") == "merged" and role(source) == "experiment":
            found[source] = Row(source, "experiment", _nothing(source), None, _utc(mr.get("merged_at")))
        if source in found and found[source].merge_request is None and not found[source].baseline:
            found[source] = replace(found[source], merge_request=_merge_request(mr))
    rows = sorted((r for r in found.values() if not r.baseline), key=lambda r: r.when or "", reverse=True)
    kept = rows if limit <= 0 else rows[:limit]
    reference = [found[default]] if default in found else []
    return default, reference + kept, len(rows) - len(kept)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _merge_request(mr: Mapping[str, Any]) -> MergeRequest:
    url = mr.get("web_url")
    return MergeRequest(
        _int(mr.get("iid")), str(mr.get("title") or ""), str(mr.get("state")), url if isinstance(url, str) else None
    )


def _manifests(client: gitlab.Gitlab, project: str, job: str, branches: list[str]) -> list[Snapshot]:
    """The manifest of each branch's latest successful pipeline, a few requests at a time."""
    from concurrent.futures import ThreadPoolExecutor

    if len(branches) <= 1:
        return [_manifest(client, project, job, b) for b in branches]
    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        return list(pool.map(lambda b: _manifest(client, project, job, b), branches))


def _manifest(client: gitlab.Gitlab, project: str, job: str, branch: str) -> Snapshot:
    from alops import gitlab as api
    from alops import manifest

    data = api.artifact_file(client, project, ref=branch, job=job, path=manifest.FILE)  # a down server: ToolError
    if data is None:
        return _nothing(branch)
    try:
        doc = manifest.loads(data, f"the {manifest.FILE} of job {job} on {_quoted(branch)}")
    except DataError as exc:  # one broken artifact does not hide the team's table
        return replace(_nothing(branch), note=str(exc))
    return manifest.snapshot(doc, branch, "artifacts")


def _nothing(branch: str) -> Snapshot:
    return Snapshot(label=branch, source="none", note=NO_MANIFEST)


# --- what the rows show --------------------------------------------------------------------------


def _params_file(config: Config) -> str:
    return config.parameters.file if config.parameters else "params.yaml"


def _label(file: str, key: str, params_file: str) -> str:
    """A parameter's name in the table: its dotted key in the parameters file, ``FILE:KEY`` in any other."""
    return key if file == params_file else f"{file}:{key}"


def _compared(config: Config, rows: list[Row]) -> list[Row]:
    """Each experiment row with the parameters that differ from the baseline's (all of them without a baseline)."""
    from alops.compare import compare

    pfile = _params_file(config)
    base = next((r.snapshot for r in rows if r.baseline and r.snapshot.source != "none"), None)
    out = []
    for row in rows:
        if row.baseline or row.snapshot.source == "none":
            out.append(row)
        elif base is None:
            params = {_label(f, k, pfile): v for f, values in row.snapshot.params.items() for k, v in values.items()}
            out.append(replace(row, params=params))
        else:
            changed = compare(row.snapshot, base).params
            out.append(replace(row, params={_label(c.file, c.key, pfile): c.new for c in changed}))
    return out


def _with_data(config: Config, row: Row) -> Row:
    """The hashes of the manifest's dataset targets (of every data path when the dataset is unknown here)."""
    manifest = row.snapshot.manifest or {}
    dataset = config.datasets.get(str(manifest.get("dataset")))
    data = row.snapshot.data
    if dataset is None:
        return replace(row, data=dict(data))
    # A target is a .dvc file (data/full.dvc) or a path; the manifest names the path (data/full).
    paths = [t.removesuffix(".dvc").rstrip("/") for t in dataset.targets]
    inside = {p: h for p, h in data.items() if any(p == t or p.startswith(t + "/") for t in paths)}
    return replace(row, data=inside)


def _dated(row: Row) -> Row:
    created = _utc((row.snapshot.manifest or {}).get("created"))
    return replace(row, when=created or row.when)


def _utc(text: Any) -> str | None:
    """An ISO 8601 time as UTC, ``2026-12-02T05:00:00Z``; None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quoted(text: str) -> str:
    from alops.text import quote

    return quote(text)


# --- rendering -----------------------------------------------------------------------------------


def render(found: Experiments, fmt: str) -> str:
    """The table as ``text`` (aligned columns, terminal-safe), ``json`` (see :func:`to_json`) or ``html`` (a page)."""
    if fmt == "json":
        return json.dumps(_finite(to_json(found)), indent=2, allow_nan=False) + "\n"
    if fmt == "html":
        return _html(found)
    if fmt != "text":
        raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return _text(found)


def to_json(found: Experiments) -> dict[str, Any]:
    """The documented JSON shape: ``{"alops_experiments": 1, "project", "job", "default_branch", "sort": {"metric",
    "better", "ascending"}, "left_out", "rows": [...]}``, each row ``{"branch", "role", "baseline", "best",
    "merge_request": {"iid", "title", "state", "url"} | null, "commit", "head", "when", "manifest" (bool), "note",
    "value", "metrics", "params" (those that differ from the default branch's), "params_all", "data", "data_all",
    "pipeline_url"}``."""
    return {
        "alops_experiments": FORMAT_VERSION,
        "project": found.project,
        "job": found.job,
        "default_branch": found.default_branch,
        "sort": {"metric": found.metric, "better": found.better, "ascending": found.ascending},
        "left_out": found.left_out,
        "rows": [
            {
                "branch": r.branch,
                "role": r.role,
                "baseline": r.baseline,
                "best": r.best,
                "merge_request": None
                if r.merge_request is None
                else {k: getattr(r.merge_request, k) for k in ("iid", "title", "state", "url")},
                "commit": r.commit,
                "head": r.head,
                "when": r.when,
                "manifest": r.snapshot.source != "none",
                "note": r.note,
                "value": r.value,
                "metrics": r.snapshot.metrics,
                "params": r.params,
                "params_all": r.snapshot.params,
                "data": r.data,
                "data_all": r.snapshot.data,
                "pipeline_url": _pipeline_url(r),
            }
            for r in found.rows
        ],
    }


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null: JSON has no such numbers (a manifest's JSON may hold them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _pipeline_url(row: Row) -> str | None:
    url = row.snapshot.pipeline_url
    return url if isinstance(url, str) and url else None


def _columns(found: Experiments) -> list[str]:
    """The metric columns: the sorting metric first, then every other metric of any row."""
    seen: dict[str, None] = {}
    if found.metric:
        seen[found.metric] = None
    for row in found.rows:
        for label in _flat_metrics(row.snapshot):
            if found.metric is None or label not in (found.metric, found.metric.rpartition(":")[2]):
                seen.setdefault(label, None)
    return list(seen)


def _flat_metrics(snapshot: Snapshot) -> dict[str, float]:
    """Metrics by key path, ``FILE:KEY`` for a key that several files hold."""
    count: dict[str, int] = {}
    for values in snapshot.metrics.values():
        for key in values:
            count[key] = count.get(key, 0) + 1
    return {
        key if count[key] == 1 else f"{name}:{key}": v
        for name, values in snapshot.metrics.items()
        for key, v in values.items()
    }


def _cells(found: Experiments, row: Row, metrics: list[str]) -> list[Any]:
    """One row's cells, unescaped: marks, branch, MR, commit, when, metrics, params, data, note, pipeline."""
    flat = _flat_metrics(row.snapshot)
    values = [row.value if found.metric and i == 0 else flat.get(m) for i, m in enumerate(metrics)]
    mr = row.merge_request
    return [
        ", ".join(m for m, on in (("best", row.best), ("baseline", row.baseline)) if on),
        row.branch,
        "" if mr is None else f"!{mr.iid} {mr.title}" + (" (merged)" if mr.state == "merged" else ""),
        (row.commit or "")[:_SHORT],
        (row.when or "").replace("T", " ")[:16],
        *values,
        ", ".join(f"{k}={_show(v)}" for k, v in row.params.items()),
        ", ".join(f"{p}@{h[:_SHORT]}" for p, h in row.data.items()),
        row.note,
        _pipeline_url(row) or "",
    ]


def _header(metrics: list[str]) -> list[str]:
    return ["", "branch", "MR", "commit", "when", *metrics, "params", "data", "note", "pipeline"]


def _show(v: Any) -> str:
    """A parameter's value as the text table shows it; ``—``: the run has no such parameter (the baseline has)."""
    return "—" if v is None else v if isinstance(v, str) else json.dumps(v, default=str)


def _number(v: Any) -> str:
    return "-" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)


def _sorted_by(found: Experiments) -> str:
    if found.metric is None:
        return "newest first (no quality gate and no --sort)"
    order = "best first" if found.ascending == (found.better == "lower") else "worst first"
    return f"sorted by {found.metric} ({found.better} is better, {order})"


def _branches_text(count: int, adjective: str = "") -> str:
    return f"{count} {adjective}experiment branch{'es' if count != 1 else ''}"


def _text(found: Experiments) -> str:
    from alops.text import clip, safe

    metrics = _columns(found)
    head = _header(metrics)
    n = len(metrics)
    table = [head]
    for row in found.rows:
        cells = _cells(found, row, metrics)
        cells[2] = clip(cells[2], _TITLE_CHARS)
        table.append([safe(_number(c) if 5 <= i < 5 + n else str(c)) for i, c in enumerate(cells)])
    keep = [i for i in range(len(head)) if i < 5 + n or any(line[i] for line in table[1:])]
    widths = {i: max(len(line[i]) for line in table) for i in keep}
    lines = ["  ".join(line[i].ljust(widths[i]) for i in keep).rstrip() for line in table]
    experiments = sum(not r.baseline for r in found.rows)
    intro = safe(f"{_branches_text(experiments)} of project {found.project}, {_sorted_by(found)}")
    notes = []
    if found.default_branch is None:
        notes.append(
            "no default branch: GitLab marks none and CI_DEFAULT_BRANCH is not set, so there is no baseline row"
        )
    if any(r.snapshot.note == NO_MANIFEST for r in found.rows):
        notes.append(
            f"{NO_MANIFEST}: the branch's latest successful pipeline kept no alops-manifest.json in the artifacts of "
            f"job {safe(found.job)} (ALOPS_BASELINE_JOB names another job)"
        )
    if found.left_out:
        notes.append(f"{_branches_text(found.left_out, 'older ')} left out: --limit 0 lists them all")
    return "\n".join([intro, "", *lines, *([""] if notes else []), *notes]) + "\n"


def _html(found: Experiments) -> str:
    from alops.report import html
    from alops.text import safe

    metrics = _columns(found)
    n = len(metrics)
    body = []
    for row in found.rows:
        # Invisible and control characters shown escaped here too: a right-to-left override in a
        # branch name would make the page show another name than the branch has.
        cells = [safe(c) if isinstance(c, str) else c for c in _cells(found, row, metrics)]
        mr = row.merge_request
        marks = [
            html.element("span", m, class_="badge pass" if m == "best" else "badge base")
            for m in cells[0].split(", ")
            if m
        ]
        cells[0] = html.join(marks, " ")
        cells[1] = html.element("code", cells[1])
        if mr is not None and mr.url:
            cells[2] = html.link(mr.url, cells[2])
        cells[5 : 5 + n] = ["-" if v is None else v for v in cells[5 : 5 + n]]
        url = _pipeline_url(row)
        cells[-1] = html.link(url, "pipeline") if url else ""
        body.append(cells)
    experiments = sum(not r.baseline for r in found.rows)
    intro = f"{_branches_text(experiments)} of project {found.project}, {_sorted_by(found)}."
    extra = (
        [f"{_branches_text(found.left_out, 'older ')} left out (--limit 0 lists them all)."] if found.left_out else []
    )
    content = html.join(
        [
            html.element("h1", "Experiments"),
            html.element("p", intro, class_="note"),
            html.table(_header(metrics), body),
            *(html.element("p", e, class_="note") for e in extra),
        ]
    )
    return html.page(f"Experiments: {found.project}", content, css=".badge.base { background: #57606a; }")
