"""The release package: ONE file, ``<model>-<version>.tar.gz``, that a serving image or a deploy unpacks.

Inside: ``alops-package.json`` (what it is: model, version, commit, the serving
requirements pinned to what the run used, the run's metrics), ``model/`` (the
release's model path), ``predictor.py`` (the project's predictor) and the run's
``alops-manifest.json``. The same inputs give the same bytes (sorted names, mtime
0, owner 0, modes 0644/0755, a gzip header without name or time), so a rebuilt
package can be compared with the one in the registry byte for byte.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alops.errors import DataError

if TYPE_CHECKING:
    from alops.sections import Release

#: The format of ``alops-package.json`` this alops writes and reads.
FORMAT = 1
META = "alops-package.json"
MANIFEST = "alops-manifest.json"
MODEL_DIR = "model"
PREDICTOR = "predictor.py"
#: Largest ``alops-package.json`` read (a real one is a few kilobytes).
MAX_META_BYTES = 1 << 20
_BARE = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._,\s-]*\])?$")


@dataclass(frozen=True)
class Package:
    """A built (or downloaded) package: its archive and what its ``alops-package.json`` says."""

    model: str
    version: str
    archive: Path
    meta: dict[str, Any]


def file_name(model: str, version: str) -> str:
    """The archive's name: ``digits-1.2.0.tar.gz``."""
    return f"{model}-{version}.tar.gz"


def build(root: Path, release: Release, manifest: Mapping[str, Any], version: str, out_dir: Path) -> Package:
    """Package the model the run of ``manifest`` trained as ``release.model`` ``version``, into ``out_dir``.

    DataError when the model path or the predictor is missing. Written atomically: a
    reader of ``out_dir`` sees no archive or a whole one.
    """
    from alops import atomic

    dataset = manifest.get("dataset")
    if not isinstance(dataset, str) or not dataset:
        raise DataError("the run manifest names no dataset: give the alops-manifest.json `alops run` wrote")
    model_path = root / release.model_path(dataset)
    if not model_path.exists():
        raise DataError(
            f"the model to release, {release.model_path(dataset)} (release.path in alops.yaml), is missing: "
            "run `alops run` to train it, or `dvc pull` to fetch the run's outputs"
        )
    predictor = root / release.predictor
    if not predictor.is_file():
        raise DataError(
            f"the predictor {release.predictor} (release.predictor in alops.yaml) is missing: write it, with "
            "load(model_dir) returning an object whose predict(instances) returns a list"
        )
    meta = _meta(release, manifest, version)
    archive = out_dir / file_name(release.model, version)
    manifest_bytes = (json.dumps(dict(manifest), indent=2) + "\n").encode("utf-8")
    with atomic.writing_to(archive), atomic.replacing(archive, folder=False) as tmp:
        with tmp.open("wb") as raw:
            # filename="" and mtime=0: no name, no time in the gzip header (bytes depend on content only).
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
                with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    _add_bytes(tar, META, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8"))
                    _add_bytes(tar, MANIFEST, manifest_bytes)
                    for name, source in _model_entries(model_path):
                        _add_path(tar, name, source)
                    _add_path(tar, PREDICTOR, predictor)
            raw.flush()
            os.fsync(raw.fileno())
    return Package(release.model, version, archive, meta)


def _meta(release: Release, manifest: Mapping[str, Any], version: str) -> dict[str, Any]:
    import alops

    return {
        "format": FORMAT,
        "model": release.model,
        "version": version,
        "commit": manifest.get("commit"),
        "model_dir": MODEL_DIR,
        "predictor": PREDICTOR,
        "requirements": pinned(release.requirements, manifest),
        "metrics": manifest.get("metrics") or {},
        # The run's time, not the packaging's: the same run packaged twice gives the same bytes.
        "created": manifest.get("created"),
        "alops": alops.__version__,
    }


def pinned(requirements: tuple[str, ...] | list[str], manifest: Mapping[str, Any]) -> list[str]:
    """``requirements`` with each bare name pinned ``==`` to the version the run had installed.

    Names compare as PEP 503 does (case, ``-``, ``_`` and ``.`` alike); a name the
    manifest lacks, and any requirement with a specifier or marker, stays as written.
    """
    env = manifest.get("environment") or {}
    packages = env.get("packages") if isinstance(env, Mapping) else None
    installed = {_normal(k): str(v) for k, v in (packages or {}).items()} if isinstance(packages, Mapping) else {}
    out = []
    for requirement in requirements:
        match = _BARE.match(requirement.strip())
        found = installed.get(_normal(match.group(1))) if match else None
        out.append(f"{requirement.strip()}=={found}" if found else requirement)
    return out


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _model_entries(model_path: Path) -> Iterator[tuple[str, Path]]:
    """(name in the archive, file or folder) for the model, sorted; a folder's symlinks followed (DVC links its cache)."""
    if not model_path.is_dir():
        yield f"{MODEL_DIR}/{model_path.name}", model_path
        return
    yield MODEL_DIR, model_path
    found: list[tuple[str, Path]] = []
    seen = {os.path.realpath(model_path)}
    for folder, dirs, files in os.walk(model_path, followlinks=True):
        for name in list(dirs):  # a link back up the tree would walk for ever
            real = os.path.realpath(Path(folder) / name)
            if real in seen:
                raise DataError(f"{Path(folder) / name} links to a folder already in the model: remove that link")
            seen.add(real)
        rel = Path(folder).relative_to(model_path)
        for name in [*dirs, *files]:
            found.append(((Path(MODEL_DIR) / rel / name).as_posix(), Path(folder) / name))
    yield from sorted(found)


def _info(name: str, mode: int, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, 0o644, len(data)), io.BytesIO(data))


def _add_path(tar: tarfile.TarFile, name: str, path: Path) -> None:
    if path.is_dir():
        tar.addfile(_info(name, 0o755, kind=tarfile.DIRTYPE))
        return
    if not path.is_file():
        raise DataError(f"{path} is neither a file nor a folder (a broken link?): the package takes files only")
    executable = os.stat(path).st_mode & 0o100
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        tar.addfile(_info(name, 0o755 if executable else 0o644, size), fh)


def read_meta(archive: Path) -> dict[str, Any]:
    """The ``alops-package.json`` of ``archive`` (its first member: read without unpacking the rest)."""
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            first = tar.next()
            if first is None or first.name != META or not first.isfile() or first.size > MAX_META_BYTES:
                raise DataError(f"{archive} is not an alops package: it does not start with {META}")
            fh = tar.extractfile(first)
            data = fh.read() if fh else b""
    except FileNotFoundError:
        raise DataError(f"{archive}: file not found") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _not_a_package(archive, exc) from None
    return _parse_meta(data, archive)


def _parse_meta(data: bytes, archive: Path) -> dict[str, Any]:
    try:
        meta = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DataError(f"{archive}: {META} is not JSON: build the package again") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = json.dumps(meta.get("format") if isinstance(meta, dict) else None)[:20]
        raise DataError(f"{archive}: {META} format {found} is not one this alops reads ({FORMAT})")
    for key in ("model", "version", "model_dir", "predictor"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise DataError(f"{archive}: {META} has no {key}")
    return meta


def _not_a_package(archive: Path, exc: BaseException) -> DataError:
    why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return DataError(f"{archive} is not an alops package, or a truncated one ({why}): download or build it again")


def extract(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into the folder ``dest`` (replaced whole, atomically); ``dest``.

    Only regular files and folders under ``dest`` are accepted (no absolute paths, no
    ``..``, no links or devices), and tarfile's ``data`` filter applies on top.
    """
    from alops import atomic

    with atomic.writing_to(dest), atomic.replacing(dest, folder=True) as tmp:
        try:
            # One pass over the stream, each member checked before it is written (a 5 GiB model is read once).
            with tarfile.open(archive, mode="r|gz") as tar:
                for member in tar:
                    _check_member(archive, member, tmp)
                    tar.extract(member, tmp, filter="data")
        except FileNotFoundError:
            raise DataError(f"{archive}: file not found") from None
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile) and exc.errno is not None:
                raise  # the disk (writing_to says what), not the archive
            raise _not_a_package(archive, exc) from None
        if not (tmp / META).is_file():
            raise DataError(f"{archive} is not an alops package: it has no {META}")
        _parse_meta((tmp / META).read_bytes(), archive)
    return dest


def _check_member(archive: Path, member: tarfile.TarInfo, dest: Path) -> None:
    name = member.name
    target = (dest / name).resolve()
    if name.startswith("/") or ".." in Path(name).parts or not target.is_relative_to(dest.resolve()):
        raise DataError(f"{archive} is not a package alops made: {name!r} points outside the package")
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{archive} is not a package alops made: {name!r} is a link or a device, not a file")
