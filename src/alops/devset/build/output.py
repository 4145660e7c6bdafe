"""Where ``alops devset build`` may write: it replaces its output on every build, so it refuses any other.

The output must be inside the repository (after following symbolic links in its
folders), not the repository or the project folder itself, not inside ``.git``
or ``.dvc``, and must not hold the full data. An existing output is replaced only
when it is a dev set alops built: ``<output>.report.json`` beside it was written
by ``alops devset build`` for this same output, and the output is a file or a
folder as that report says. A first build into a path that does not exist is fine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from alops.devset.build import report
from alops.devset.build.spec import BuildSpec
from alops.devset.dataset.locate import Dataset
from alops.errors import ConfigError

#: Folders of tools whose contents alops never writes into.
FORBIDDEN = (".git", ".dvc")


def repository(root: Path) -> Path:
    """The git work tree holding ``root`` (a folder with ``.git``), else ``root`` itself."""
    root = root.resolve()
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return folder
    return root


def place(spec: BuildSpec) -> Path:
    """The absolute path of the output (its folders' links followed, its own name not); ConfigError when
    it is somewhere alops must not write."""
    given = Path(spec.output)
    if given.is_absolute():
        _refuse(spec, "is an absolute path", "give a path inside the repository, relative to alops.yaml")
    lexical = spec.root / given
    at = lexical.parent.resolve() / lexical.name if lexical.name not in ("", ".", "..") else lexical.resolve()
    repo, project = repository(spec.root), spec.root.resolve()
    if not at.is_relative_to(repo):
        link = " through a symbolic link" if Path(os.path.normpath(lexical.absolute())).is_relative_to(repo) else ""
        _refuse(spec, f"leaves the repository {repo}{link}", "give a path inside it, e.g. data/dev")
    if at == repo or project.is_relative_to(at):
        _refuse(spec, "is the project folder (or holds it)", "give a path of its own, e.g. data/dev")
    parts = at.relative_to(repo).parts
    if any(p in FORBIDDEN for p in parts):
        _refuse(spec, "is inside .git or .dvc", "give a path outside them, e.g. data/dev")
    full = (spec.root / spec.source).resolve()
    if full.is_relative_to(at):
        _refuse(spec, f"holds the full data {spec.source}", "give the dev set a path of its own, e.g. data/dev")
    return at


def check_kind(spec: BuildSpec, dataset: Dataset) -> None:
    """ConfigError when the dev set of a single table would not be a table of the same kind (by its suffix)."""
    if dataset.kind != "table":
        return
    source, output = dataset.path.suffix.lower(), Path(spec.output).suffix.lower()
    if source != output and {source, output} != {".parquet", ".pq"}:
        raise ConfigError(
            f"{spec.at('output')}: {spec.output}: the dev set of {dataset.path.name} is a table of the same kind: "
            f"give the output a {dataset.path.suffix} name"
        )


def check_replaceable(spec: BuildSpec, at: Path) -> None:
    """ConfigError when ``at`` exists and is not a dev set alops built for this output (see the module)."""
    if not os.path.lexists(at):
        return
    built = report.paths(at)[0]
    try:
        data = json.loads(built.read_text(encoding="utf-8"))
        ours = isinstance(data, dict) and (data.get("built_by") == report.BUILT_BY or _legacy(data))
        same = ours and (spec.root / str(data["output"])).resolve() == at.resolve()
        shape = ours and (data["kind"] == "table") == (at.is_file() or at.is_symlink())
    except (OSError, ValueError, KeyError, TypeError):
        ours = same = shape = False
    if ours and same and shape:
        return
    what = "a file" if at.is_file() else "a folder" if at.is_dir() else "there"
    why = (
        f"no {built.name} written by alops for it beside it"
        if not (ours and same)
        else f"{built.name} says the dev set is {'a table' if data['kind'] == 'table' else 'a folder'}"
    )
    _refuse(
        spec,
        f"is {what} that is not a dev set alops built ({why}), and a build replaces its output",
        "point output at a new path (a build creates it), or delete it yourself if it really is an old dev set",
    )


def _legacy(data: dict[str, object]) -> bool:
    # Reports of alops 0.1.0 had no "built_by"; they are the only JSON with all of these.
    return {"source", "output", "kind", "seed", "rows_full", "rows_dev", "strata"} <= set(data)


def _refuse(spec: BuildSpec, problem: str, todo: str) -> None:
    raise ConfigError(f"{spec.at('output')}: {spec.output} {problem}: {todo}")
