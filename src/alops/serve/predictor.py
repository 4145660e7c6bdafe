"""A model package loaded for serving: its ``alops-package.json`` checked, its ``predictor.py`` imported and loaded.

The package is the folder ``alops package`` extracts (see the README's "Releases"):
``alops-package.json`` names the model, its version and commit, the model folder
and the predictor file. The predictor is the project's code: a module with
``load(model_dir)`` returning an object with ``predict(instances: list) -> list``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from alops.errors import ConfigError, DataError, StepError
from alops.text import clip, quote

META_FILE = "alops-package.json"
FORMAT = 1
MODEL_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


class Predictor(Protocol):
    def predict(self, instances: list[Any]) -> list[Any]: ...


@dataclass(frozen=True)
class Served:
    """What ``alops serve`` answers with: the package's model, version and commit, and its loaded predictor."""

    name: str
    version: str
    predictor: Predictor
    meta: dict[str, Any]

    @property
    def commit(self) -> str | None:
        commit = self.meta.get("commit")
        return commit if isinstance(commit, str) else None


def read_meta(package_dir: Path) -> dict[str, Any]:
    """``alops-package.json`` of ``package_dir``, checked: format, model name, version, and paths inside the package."""
    where = package_dir / META_FILE
    if not package_dir.is_dir():
        raise DataError(f"{package_dir}: no such folder: give the folder `alops package` extracted a release into")
    try:
        meta = json.loads(where.read_bytes(), parse_constant=_no_constant)
    except FileNotFoundError:
        raise DataError(
            f"{where}: not found: {package_dir} is not a model package (`alops package` makes one)"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ConfigError(f"{where}: not readable JSON ({clip(str(exc), 200)}): rebuild the package") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{where}: a JSON object expected: rebuild the package")
    if meta.get("format") != FORMAT:
        raise ConfigError(
            f"{where}: format {clip(repr(meta.get('format')), 40)} is not {FORMAT}, the one this alops reads: "
            "serve it with the alops version that built it, or rebuild the package"
        )
    _check(meta, where, "model", MODEL_NAME, "a model name of alops.yaml's release.model")
    _check(meta, where, "version", VERSION, "a version X.Y.Z")
    if meta.get("commit") is not None:
        _check(meta, where, "commit", COMMIT, "a commit's 40 hex digits")
    for key in ("model_dir", "predictor"):
        _inside(meta, where, key)
    return meta


def load(package_dir: Path) -> Served:
    """Load the package in ``package_dir``: DataError when it is missing, ConfigError or StepError when it is broken."""
    meta = read_meta(package_dir)
    model_dir = package_dir / meta["model_dir"]
    script = package_dir / meta["predictor"]
    if not model_dir.exists():
        raise DataError(f"{model_dir}: not found: the package's model ({META_FILE}: model_dir) is missing")
    if not script.is_file():
        raise DataError(f"{script}: not found: the package's predictor ({META_FILE}: predictor) is missing")
    module = _import(script)
    loader = getattr(module, "load", None)
    if not callable(loader):
        raise ConfigError(f"{script}: no function load(model_dir): the predictor must define one (see the README)")
    try:
        predictor = loader(model_dir)
    except Exception as exc:
        raise StepError(f"{script}: load({model_dir}) failed: {_failure(exc, script)}") from None
    if not callable(getattr(predictor, "predict", None)):
        raise ConfigError(
            f"{script}: load() returned {clip(type(predictor).__name__, 60)}, which has no predict(instances) method"
        )
    return Served(name=meta["model"], version=meta["version"], predictor=predictor, meta=meta)


def _import(script: Path) -> Any:
    # A unique module name: two packages (or one loaded twice, as in the tests) never share
    # a module, and pickled classes defined in the predictor find it in sys.modules.
    name = f"alops_predictor_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{script}: not importable as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise StepError(f"{script}: importing it failed: {_failure(exc, script)}") from None
    return module


def _failure(exc: BaseException, script: Path) -> str:
    """The exception and the predictor's line that raised it (the user's code; the rest of the traceback is noise)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == script]
    at = f" (line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {clip(str(exc), 300)}{at}"


def _check(meta: dict[str, Any], where: Path, key: str, pattern: re.Pattern[str], allowed: str) -> None:
    value = meta.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(f"{where}: {key}: {quote(clip(str(value), 60))} is not {allowed}: rebuild the package")


def _inside(meta: dict[str, Any], where: Path, key: str) -> None:
    value = meta.get(key)
    path = PurePosixPath(value) if isinstance(value, str) else None
    if path is None or not value or path.is_absolute() or ".." in path.parts or "\\" in value or "\x00" in value:
        raise ConfigError(
            f"{where}: {key}: {quote(clip(str(value), 60))} is not a relative path inside the package: rebuild it"
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
