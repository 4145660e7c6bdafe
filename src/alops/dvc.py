"""The only place alops calls DVC: its command line, run by this interpreter.

``python -m dvc`` of ``sys.executable`` is the DVC alops was installed with, so
a job never picks up another ``dvc`` from PATH. Failures become the
``AlopsError`` that says what to do. DVC's configuration files are read (and
the local one written) here too, with the configobj library DVC itself uses:
what alops needs from them costs no DVC start. What alops returns or reports of DVC's
output goes through :func:`redact` first, so remote URLs with credentials and
secret variables never reach a job log through alops.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alops import proc
from alops.errors import EXIT_FAILURE, EXIT_TOOL, AlopsError, ConfigError, DataError, ToolError

_NO_SUCH_REMOTE = re.compile(r"remote '([^']+)' doesn't exist")
_NO_DEFAULT = ("no remote specified", "No remote provided and no default remote set")
_MISSING = re.compile(r"^(?:md5|name): .*$", re.MULTILINE)
_CREDENTIALS = (
    "Unable to locate credentials",
    "NoCredentialsError",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "AccessDenied",
    "403 Forbidden",
)
#: A transfer the network broke off (botocore's and aiohttp's words, through DVC).
_NETWORK = (
    "Could not connect to the endpoint URL",
    "Connection was closed before we received a valid response",
    "Connect timeout on endpoint URL",
    "Read timeout on endpoint URL",
    "Connection reset by peer",
    "ServerDisconnectedError",
    "ClientOSError",
)
# DVC 3 says "s3 is supported, but requires 'dvc-s3' to be installed"; older
# releases "requires these missing dependencies: ['s3']".
_PLUGIN = re.compile(r"requires '(dvc-[a-z0-9]+)' to be installed|requires these missing dependencies: \['?([a-z0-9]+)")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|_KEY)", re.IGNORECASE)


#: Link types for a cache shared by many jobs: no copy of the data when the file
#: system allows it (reflink, hardlink), a symlink across mounts, a copy last.
SHARED_CACHE_TYPE = "reflink,hardlink,symlink,copy"


class CredentialsError(DataError):
    """The remote refused the credentials, or found none (exit code 4)."""


@dataclass(frozen=True)
class Remote:
    """A DVC remote as DVC's configuration files define it."""

    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict, repr=False)  # may hold secrets: never shown

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower() if "://" in self.url else "local"

    @property
    def shown(self) -> str:
        """The URL with any credentials taken out, for messages."""
        return redact(self.url)


def pull(
    targets: Sequence[str],
    *,
    remote: str | None = None,
    cwd: str | Path,
    run_cache: bool = False,
    progress: bool = False,
) -> str:
    """``dvc pull [-r remote] [--run-cache] targets``; return what DVC printed.

    DVC exits 0 when the cache already holds everything, even with no remote
    configured; alops treats that as the error it is, so a project without a
    remote fails here rather than later in a CI job. With ``progress`` DVC's
    progress bars go to the terminal (and its output is not returned).
    """
    args = ["pull", *_remote(remote), *(["--run-cache"] if run_cache else []), "--", *targets]
    result = _run(args, cwd=cwd, remote=remote, capture=not progress)
    if any(s in (result.stdout or "") + (result.stderr or "") for s in _NO_DEFAULT):
        raise _no_default_remote()
    return redact(result.stdout or "")


def push(
    *,
    targets: Sequence[str] | None = None,
    remote: str | None = None,
    run_cache: bool = True,
    cwd: str | Path,
    progress: bool = False,
) -> str:
    """``dvc push [-r remote] [--run-cache] [targets]``; return what DVC printed.

    DVC uploads a directory's listing only after every file in it, and S3
    stores an object only once it has all of its bytes, so an interrupted push
    leaves complete objects only; the next push sends what is still missing.
    """
    args = ["push", *_remote(remote), *(["--run-cache"] if run_cache else []), "--", *(targets or ())]
    return redact(_run(args, cwd=cwd, remote=remote, capture=not progress).stdout or "")


def checkout(targets: Sequence[str], *, cwd: str | Path) -> None:
    """``dvc checkout targets``: the workspace from the cache, without the network."""
    _run(["checkout", "--", *targets], cwd=cwd)


def cloud_status(targets: Sequence[str], *, remote: str | None = None, cwd: str | Path) -> dict[str, str]:
    """``dvc status --cloud --json``: for each path the remote and the cache disagree on, ``new``
    (only in the cache: a push sends it), ``deleted`` (only on the remote) or ``missing`` (on neither)."""
    out = _run(["status", "--cloud", "--json", *_remote(remote), "--", *targets], cwd=cwd, remote=remote).stdout
    text = (out or "").strip().splitlines()[-1] if (out or "").strip() else "{}"
    try:
        found = json.loads(text)
    except ValueError:
        raise ToolError(
            f"`dvc status --cloud --json` printed something that is not JSON: {redact(text)[:200]}"
        ) from None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def use_cache_dir(path: str | Path, *, cwd: str | Path) -> bool:
    """Make ``path`` this project's DVC cache (``.dvc/config.local``), shared and linked, not copied.

    What ``dvc cache dir --local PATH``, ``dvc config --local cache.shared
    group`` and ``dvc config --local cache.type …`` would write, written
    directly with the configobj library DVC reads and writes its files with:
    three DVC starts would cost a GPU job about 2 s. ``cache.shared group``
    keeps the objects readable and writable by the group of every job that
    mounts the directory. Returns whether anything had to change.
    """
    from configobj import ConfigObj  # type: ignore[import-untyped,unused-ignore]

    wanted = {"dir": str(Path(path).resolve()), "shared": "group", "type": SHARED_CACHE_TYPE}
    file = Path(cwd) / ".dvc" / "config.local"
    current = dict(_read_ini(file).get("cache", {}))
    if "dir" in current:
        current["dir"] = str((file.parent / current["dir"]).resolve())
    if all(current.get(k) == v for k, v in wanted.items()):
        return False
    if not (Path(cwd) / ".dvc").is_dir():
        raise ConfigError(
            f"{Path(cwd).resolve()} is not in a DVC repository: run `dvc init` in the project's git repository"
        )
    Path(wanted["dir"]).mkdir(parents=True, exist_ok=True)
    config = ConfigObj(str(file), encoding="utf-8")  # keeps the file's other sections (remote credentials)
    config.setdefault("cache", {}).update(wanted)
    config.write()
    return True


def remote(root: str | Path, name: str | None = None) -> Remote:
    """The remote ``name`` (the default remote if None) from DVC's configuration files.

    Raises the DataError that says how to add it when it is not configured.
    """
    config = read_config(root)
    chosen = name or config.get("core", {}).get("remote")
    if not chosen:
        raise _no_default_remote()
    options = config.get(f'remote "{chosen.lower()}"')  # DVC lowercases section names, remote names included
    if options is None or not options.get("url"):
        raise DataError(
            f"DVC remote `{chosen}` is not configured: run `dvc remote add {chosen} s3://…` "
            "(or name a configured remote in alops.yaml, datasets.<name>.remote)"
        )
    return Remote(chosen, options["url"], dict(options))


def cache_dir(root: str | Path) -> Path:
    """The project's DVC cache directory: ``cache.dir`` from DVC's configuration, else ``.dvc/cache``."""
    root = Path(root)
    found = root / ".dvc" / "cache"
    for path in _config_files(root):  # later files win, as in DVC
        value = _read_ini(path).get("cache", {}).get("dir")
        if value:
            found = path.parent / value  # relative paths are relative to the config file
    return Path(os.path.normpath(found))


def read_config(root: str | Path) -> dict[str, dict[str, str]]:
    """DVC's configuration for the project at ``root``: system, global, project, local, merged per section."""
    merged: dict[str, dict[str, str]] = {}
    for path in _config_files(Path(root)):
        for section, values in _read_ini(path).items():
            merged.setdefault(section, {}).update(values)
    return merged


def _config_files(root: Path) -> list[Path]:
    # The order DVC merges them in (dvc.config.Config.files); the directories as dvc.dirs finds them.
    import platformdirs

    system = os.environ.get("DVC_SYSTEM_CONFIG_DIR") or platformdirs.site_config_dir("dvc", "iterative")
    user = os.environ.get("DVC_GLOBAL_CONFIG_DIR") or platformdirs.user_config_dir("dvc", "iterative")
    return [Path(system) / "config", Path(user) / "config", root / ".dvc" / "config", root / ".dvc" / "config.local"]


def _read_ini(path: Path) -> dict[str, dict[str, str]]:
    """A DVC config file as ``{section: {key: value}}`` (``{}`` if absent), read as DVC reads it: with configobj."""
    from configobj import ConfigObj, ConfigObjError  # type: ignore[import-untyped,unused-ignore]

    try:
        parsed = ConfigObj(str(path), encoding="utf-8", file_error=True).dict()
    except (OSError, UnicodeDecodeError, ConfigObjError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for section, values in parsed.items():
        if isinstance(values, dict):
            # a value with unquoted commas is a list to configobj (DVC's cache.type)
            named = re.fullmatch(r'\s*(remote|machine|db)\s*"(.*)"\s*', section.lower())
            out[f'{named.group(1)} "{named.group(2)}"' if named else section.lower()] = {
                str(k).lower(): ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in values.items()
            }
    return out


def repro(stages: Sequence[str], *, cwd: str | Path, pull: bool = False, quiet: bool = False) -> str:
    """``dvc repro [--pull] stages``.

    With ``quiet=False`` DVC's output (and the stages' own) goes straight to
    the terminal, as a long training run should; otherwise it is returned.
    ``pull`` lets DVC fetch missing outputs and run-cache entries from the
    default remote, so a stage another pipeline already ran is restored, not rerun.
    """
    args = ["repro", *(["--pull"] if pull else []), "--", *stages]
    return redact(_run(args, cwd=cwd, capture=quiet, failure=EXIT_FAILURE).stdout or "")


def status(stages: Sequence[str], *, cwd: str | Path) -> dict[str, object]:
    """The stale ones among ``stages`` and their upstream stages, as ``dvc status --json`` gives them."""
    out = _run(["status", "--json", "--with-deps", "--", *stages], cwd=cwd).stdout or ""
    text = out.strip().splitlines()[-1] if out.strip() else "{}"
    try:
        found = json.loads(text)
    except ValueError:
        raise ToolError(f"`dvc status --json` printed something that is not JSON: {redact(text)[:200]}") from None
    return found if isinstance(found, dict) else {}


def init(*, cwd: str | Path) -> None:
    """``dvc init`` in a git repository."""
    _run(["init"], cwd=cwd)


def add(paths: Sequence[str], *, cwd: str | Path) -> None:
    """``dvc add paths``: track data in the cache and write one ``.dvc`` file per path."""
    _run(["add", "--", *paths], cwd=cwd)


def add_remote(name: str, url: str, *, cwd: str | Path, default: bool = True, local: bool = False) -> None:
    """``dvc remote add [-d] name url``, in ``.dvc/config`` (or ``.dvc/config.local`` with ``local``)."""
    args = ["remote", "add", "--force", *(["--default"] if default else []), *(["--local"] if local else [])]
    _run([*args, name, url], cwd=cwd)


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` without credentials: URL user-info, AWS key ids, values of secret-looking variables."""
    env = os.environ if env is None else env
    for name, value in env.items():
        if len(value) >= 6 and _SECRET_NAME.search(name) and value in text:
            text = text.replace(value, "***")
    text = _URL_USERINFO.sub(r"\1***@", text)
    return _AWS_KEY_ID.sub("***", text)


def environment() -> dict[str, str]:
    """The environment DVC runs in: this interpreter's scripts first on PATH.

    Stage commands say ``python src/train.py``; without this, running
    ``.venv/bin/alops`` from a shell without the virtualenv activated would
    give the stages another Python, one without the project's packages.
    """
    env = dict(os.environ)
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", os.defpath)
    env.setdefault("PYTHONUNBUFFERED", "1")  # stage output appears as it happens in a job log
    return env


def _remote(remote: str | None) -> list[str]:
    return ["--remote", remote] if remote else []


def _run(
    args: list[str],
    *,
    cwd: str | Path,
    remote: str | None = None,
    capture: bool = True,
    failure: int = EXIT_TOOL,
) -> subprocess.CompletedProcess[str]:
    result = proc.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=environment(), capture=capture, check=False)
    if result.returncode != 0:
        raise _error(args, result, cwd=cwd, remote=remote, captured=capture, failure=failure)
    return result


def _error(
    args: list[str],
    result: subprocess.CompletedProcess[str],
    *,
    cwd: str | Path,
    remote: str | None,
    captured: bool,
    failure: int,
) -> AlopsError:
    shown = "dvc " + shlex.join(a for a in args if a != "--")
    if not captured:
        message = f"`{shown}` failed with exit code {result.returncode}: DVC's output above says which stage and why"
        return AlopsError(message, exit_code=failure)
    text = redact((result.stderr or "") + "\n" + (result.stdout or "")).strip()
    found = _NO_SUCH_REMOTE.search(text)
    if found:
        name = found.group(1)
        return DataError(
            f"DVC remote `{name}` is not configured: run `dvc remote add {name} s3://…` "
            f"(or name a configured remote in alops.yaml, datasets.<name>.remote)"
        )
    if any(s in text for s in _NO_DEFAULT):
        return _no_default_remote()
    where = f"DVC remote `{remote}`" if remote else "the default DVC remote"
    if "not inside of a DVC repository" in text:
        return ConfigError(
            f"{Path(cwd).resolve()} is not in a DVC repository: run `dvc init` in the project's git repository "
            "(examples/project-skeleton/README.md lists the one-time steps)"
        )
    if "No module named dvc" in text:
        return ToolError(f"DVC is not installed for {sys.executable}: run `{sys.executable} -m pip install dvc`")
    plugin = _PLUGIN.search(text)
    if plugin:
        package = plugin.group(1) or f"dvc-{plugin.group(2)}"
        return ToolError(f"{where} needs the {package} package: run `pip install {package}`")
    missing = _MISSING.findall(text) if "Missing cache files" in text else []
    if missing:
        n = len(missing)
        return DataError(
            f"{n} file{'s' if n != 1 else ''} needed by `{shown}` {'are' if n != 1 else 'is'} on neither the local "
            f"cache nor {where}: run `dvc push` where the data was added, or check that the remote's URL "
            "is right and reachable (`dvc remote list`)"
        )
    if args[0] in ("push", "pull", "fetch") and any(s in text for s in _NETWORK):
        direction = "to" if args[0] == "push" else "from"
        tail = "\n".join(text.splitlines()[-5:])
        return DataError(
            f"the transfer {direction} {where} was cut off (network): run the command again; "
            f"what arrived is kept and is not transferred again. DVC said:\n{tail}"
        )
    if any(s in text for s in _CREDENTIALS):
        return CredentialsError(
            f"{where} refused the credentials (or found none): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(in CI: masked, protected CI/CD variables) and run again"
        )
    tail = "\n".join(text.splitlines()[-20:])
    message = f"`{shown}` failed with exit code {result.returncode}" + (f":\n{tail}" if tail else "")
    return ToolError(message) if failure == EXIT_TOOL else AlopsError(message, exit_code=failure)


def _no_default_remote() -> DataError:
    return DataError(
        "no DVC remote is configured: run `dvc remote add -d storage s3://…` and commit .dvc/config "
        "(or name a remote in alops.yaml, datasets.<name>.remote)"
    )
