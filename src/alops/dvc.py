"""The only place alops calls DVC: its command line, run by this interpreter.

``python -m dvc`` of ``sys.executable`` is the DVC alops was installed with, so
a job never picks up another ``dvc`` from PATH. Failures become the
``AlopsError`` that says what to do. DVC's configuration files are read (and
the local one written) here too, with the configobj library DVC itself uses:
what alops needs from them costs no DVC start. What alops returns or reports of DVC's
output goes through :func:`alops.text.redact_output` first, so remote URLs with credentials and
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
from alops.text import redact_output

_NO_SUCH_REMOTE = re.compile(r"remote '([^']+)' doesn't exist")
_NO_DEFAULT = ("no remote specified", "No remote provided and no default remote set")
_MISSING = re.compile(r"^(?:md5|name): .*$", re.MULTILINE)
_MISSING_MD5 = re.compile(r"\bmd5: ([0-9a-f]{32}(?:\.dir)?)\b")
#: What DVC says when no credentials are found at all (botocore's words).
_CREDENTIALS = ("Unable to locate credentials", "NoCredentialsError", "PartialCredentialsError")
#: S3's (botocore's) words for an error answer: "An error occurred (InvalidAccessKeyId) when calling the PutObject operation".
_S3_ERROR = re.compile(r"An error occurred \(([A-Za-z0-9.]+)\) when calling the (\w+) operation")
#: Error codes by which S3 refuses the credentials (a HEAD request's has no body: just "403").
_REFUSED = frozenset(
    {
        "401",
        "403",
        "Forbidden",
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
        "AccountProblem",
    }
)
#: Error codes by which S3 says the bucket, or its region, is not what the remote's URL says.
_NO_BUCKET = frozenset({"NoSuchBucket"})
_WRONG_REGION = frozenset({"PermanentRedirect", "AuthorizationHeaderMalformed", "301"})
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
#: DVC commands that talk to a remote: their failures are classified as data unreachable where they say so.
_TRANSFERS = ("push", "pull", "fetch", "status")
# DVC 3 says "s3 is supported, but requires 'dvc-s3' to be installed"; older
# releases "requires these missing dependencies: ['s3']".
_PLUGIN = re.compile(r"requires '(dvc-[a-z0-9]+)' to be installed|requires these missing dependencies: \['?([a-z0-9]+)")

#: How S3 transfers are bounded, when neither the environment nor the DVC remote says otherwise.
#: botocore's standard retry mode (throttling, 5xx and connection errors, capped
#: jittered back-off) with 2 attempts per request, instead of its legacy 5; s3fs
#: retries each call too (ALOPS_S3_RETRIES), and waits at most ALOPS_S3_READ_TIMEOUT
#: seconds for each read of a socket, not for a whole transfer, so large uploads are
#: not cut. A dead network is reported after about retries x attempts x read timeout
#: (about 45 s; a reset connection in seconds): alops stops DVC once one object failed so.
#: DVC's remote options ``connect_timeout`` / ``read_timeout`` take precedence.
#: See :mod:`alops.dvcmain`, which applies the ALOPS_S3_* ones.
TRANSFER_DEFAULTS = {
    "AWS_RETRY_MODE": "standard",
    "AWS_MAX_ATTEMPTS": "2",
    "ALOPS_S3_RETRIES": "2",
    "ALOPS_S3_CONNECT_TIMEOUT": "5",
    "ALOPS_S3_READ_TIMEOUT": "10",
}


#: Link types for a cache shared by many jobs: no copy of the data when the file
#: system allows it (reflink, hardlink), a symlink across mounts, a copy last.
SHARED_CACHE_TYPE = "reflink,hardlink,symlink,copy"


class CredentialsError(DataError):
    """The remote refused the credentials, or found none (exit code 4); ``code``: S3's error code."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CloudStatus:
    """What ``dvc status --cloud`` says of some targets.

    ``paths``: for each path the remote and the cache disagree on, ``new``
    (only in the cache: a push sends it), ``deleted`` (only on the remote) or
    ``missing`` (on neither). ``missing``: the md5s (``….dir`` for a
    directory) DVC warns are on neither, including those it cannot name a path
    for (a directory whose listing is in neither place).
    """

    paths: dict[str, str]
    missing: frozenset[str]


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
        return redact_output(self.url)


def pull(
    targets: Sequence[str],
    *,
    remote: str | None = None,
    cwd: str | Path,
    run_cache: bool = False,
    progress: bool = False,
    env: Mapping[str, str] | None = None,
) -> str:
    """``dvc pull [-r remote] [--run-cache] targets``; return what DVC printed.

    DVC exits 0 when the cache already holds everything, even with no remote
    configured; alops treats that as the error it is, so a project without a
    remote fails here rather than later in a CI job. With ``progress`` DVC's
    output is shown as it happens, too (redacted, like everything alops prints).
    """
    args = ["pull", *_remote(remote), *(["--run-cache"] if run_cache else []), "--", *targets]
    result = _run(args, cwd=cwd, remote=remote, capture=not progress, env=env)
    if any(s in (result.stdout or "") + (result.stderr or "") for s in _NO_DEFAULT):
        raise _no_default_remote()
    return redact_output(result.stdout or "", env)


def push(
    *,
    targets: Sequence[str] | None = None,
    remote: str | None = None,
    run_cache: bool = True,
    cwd: str | Path,
    progress: bool = False,
    env: Mapping[str, str] | None = None,
) -> str:
    """``dvc push [-r remote] [--run-cache] [targets]``; return what DVC printed.

    DVC uploads a directory's listing only after every file in it, and S3
    stores an object only once it has all of its bytes, so an interrupted push
    leaves complete objects only; the next push sends what is still missing.
    """
    args = ["push", *_remote(remote), *(["--run-cache"] if run_cache else []), "--", *(targets or ())]
    return redact_output(_run(args, cwd=cwd, remote=remote, capture=not progress, env=env).stdout or "", env)


def checkout(targets: Sequence[str], *, cwd: str | Path, env: Mapping[str, str] | None = None) -> None:
    """``dvc checkout targets``: the workspace from the cache, without the network."""
    _run(["checkout", "--", *targets], cwd=cwd, env=env)


def cloud_status(
    targets: Sequence[str], *, remote: str | None = None, cwd: str | Path, env: Mapping[str, str] | None = None
) -> CloudStatus:
    """``dvc status --cloud --json``: where the cache and the remote disagree on ``targets`` (see :class:`CloudStatus`)."""
    args = ["status", "--cloud", "--json", *_remote(remote), "--", *targets]
    result = _run(args, cwd=cwd, remote=remote, env=env)
    out = result.stdout or ""
    text = out.strip().splitlines()[-1] if out.strip() else "{}"
    try:
        found = json.loads(text)
    except ValueError:
        raise ToolError(
            f"`dvc status --cloud --json` printed something that is not JSON: {redact_output(text, env)[:200]}"
        ) from None
    paths = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
    # DVC warns of what is on neither side on stderr ("Missing cache files: md5: ….dir") and leaves it out of the JSON.
    said = result.stderr or ""
    missing = frozenset(_MISSING_MD5.findall(said)) if "Missing cache files" in said else frozenset()
    return CloudStatus(paths, missing)


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


def repro(
    stages: Sequence[str],
    *,
    cwd: str | Path,
    pull: bool = False,
    quiet: bool = False,
    env: Mapping[str, str] | None = None,
) -> str:
    """``dvc repro [--pull] stages``.

    With ``quiet=False`` DVC's output (and the stages' own) is shown as it
    happens, as a long training run should (redacted); otherwise it is returned.
    ``pull`` lets DVC fetch missing outputs and run-cache entries from the
    default remote, so a stage another pipeline already ran is restored, not rerun.
    """
    args = ["repro", *(["--pull"] if pull else []), "--", *stages]
    return redact_output(_run(args, cwd=cwd, capture=quiet, failure=EXIT_FAILURE, env=env).stdout or "", env)


def status(stages: Sequence[str], *, cwd: str | Path, env: Mapping[str, str] | None = None) -> dict[str, object]:
    """The stale ones among ``stages`` and their upstream stages, as ``dvc status --json`` gives them."""
    out = _run(["status", "--json", "--with-deps", "--", *stages], cwd=cwd, env=env).stdout or ""
    text = out.strip().splitlines()[-1] if out.strip() else "{}"
    try:
        found = json.loads(text)
    except ValueError:
        raise ToolError(f"`dvc status --json` printed something that is not JSON: {redact_output(text, env)[:200]}") from None
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


def environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment DVC runs in: ``env`` (default: this process's), this interpreter's scripts first on PATH.

    Stage commands say ``python src/train.py``; without this, running
    ``.venv/bin/alops`` from a shell without the virtualenv activated would
    give the stages another Python, one without the project's packages.
    S3 transfers get the bounded :data:`TRANSFER_DEFAULTS` where ``env`` sets none.
    """
    out = dict(os.environ if env is None else env)
    bindir = os.path.dirname(sys.executable)
    out["PATH"] = bindir + os.pathsep + out.get("PATH", os.defpath)
    out.setdefault("PYTHONUNBUFFERED", "1")  # stage output appears as it happens in a job log
    for key, value in TRANSFER_DEFAULTS.items():
        if not out.get(key):
            out[key] = value
    return out


def _remote(remote: str | None) -> list[str]:
    return ["--remote", remote] if remote else []


def _run(
    args: list[str],
    *,
    cwd: str | Path,
    remote: str | None = None,
    capture: bool = True,
    failure: int = EXIT_TOOL,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    # DVC's own command line, through alops.dvcmain (which bounds S3 retries and timeouts).
    # Its standard input is never a terminal and its output always a pipe (see
    # alops.proc), so DVC prints the same words on a terminal and in a CI log, and
    # a failure is classified the same way in both.
    command = [sys.executable, "-m", "alops.dvcmain", *args]
    environ = environment(env)
    # Once one object's transfer failed for the network, after all its retries, the
    # others would fail the same way one batch after another: stop DVC instead, so a
    # dead network is reported after one object's retries, however many objects there
    # are. What arrived is kept (S3 stores only whole objects); the next run sends the rest.
    give_up = _network_failure if args[0] in ("push", "pull", "fetch") else None
    result = proc.run(command, cwd=cwd, env=environ, capture=capture, check=False, give_up=give_up)
    if result.returncode != 0:
        raise _error(args, result, cwd=cwd, remote=remote, captured=capture, failure=failure, env=environ)
    return result


def _error(
    args: list[str],
    result: subprocess.CompletedProcess[str],
    *,
    cwd: str | Path,
    remote: str | None,
    captured: bool,
    failure: int,
    env: Mapping[str, str] | None = None,
) -> AlopsError:
    """The error a failed DVC command stands for, from its output, redacted (``env``: the secrets to mask).

    The output is the same whether or not it was also shown (``captured``):
    only an unexplained failure of a streamed ``dvc repro`` points at the
    output above instead of quoting it.
    """
    shown = "dvc " + shlex.join(a for a in args if a != "--")
    text = redact_output((result.stderr or "") + "\n" + (result.stdout or ""), env).strip()
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
    if re.search(r"No module named .?dvc\b", text):
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
    if args[0] in _TRANSFERS:
        unreachable = _unreachable(args[0], text, where=where, url=_url(cwd, remote))
        if unreachable is not None:
            return unreachable
    if not captured and args[0] == "repro":
        message = f"`{shown}` failed with exit code {result.returncode}: DVC's output above says which stage and why"
        return AlopsError(message, exit_code=failure)
    tail = "\n".join(text.splitlines()[-20:])
    message = f"`{shown}` failed with exit code {result.returncode}" + (f":\n{tail}" if tail else "")
    return ToolError(message) if failure == EXIT_TOOL else AlopsError(message, exit_code=failure)


def _network_failure(line: str) -> bool:
    """Whether a line of DVC's stderr says a transfer failed for the network (after botocore's and s3fs's retries)."""
    return line.startswith("ERROR") and any(s in line for s in _NETWORK)


def _unreachable(command: str, text: str, *, where: str, url: str) -> DataError | None:
    """The data-unreachable error (exit code 4) that DVC's output shows, if any: credentials, bucket, network."""
    codes = [m.group(1) for m in _S3_ERROR.finditer(text)]
    refused = next((c for c in codes if c in _REFUSED), None)
    if refused or any(s in text for s in _CREDENTIALS):
        said = f" ({refused})" if refused else ""
        return CredentialsError(
            f"{where}{url} refused the credentials{said} (or found none): check that AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys) are set, current, and allowed on "
            "the bucket (in CI: masked, protected CI/CD variables), then run again",
            code=refused or "NoCredentials",
        )
    if any(c in _NO_BUCKET for c in codes):
        return DataError(
            f"the bucket of {where}{url} does not exist (NoSuchBucket): check the remote's url and endpointurl "
            "(`dvc remote list`, `dvc config --list`), or create the bucket"
        )
    if any(c in _WRONG_REGION for c in codes):
        return DataError(
            f"{where}{url} is in another region than the one configured: set it with "
            "`dvc remote modify <remote> region <its region>` (or AWS_DEFAULT_REGION)"
        )
    if any(s in text for s in _NETWORK):
        network = "\n".join(line for line in text.splitlines() if any(s in line for s in _NETWORK))
        tail = "\n".join(network.splitlines()[-5:])
        if command == "status":
            return DataError(
                f"{where}{url} cannot be reached (network): check the network and the remote's endpointurl, "
                f"then run again. DVC said:\n{tail}"
            )
        direction = "to" if command == "push" else "from"
        return DataError(
            f"the transfer {direction} {where} was cut off (network): run the command again; "
            f"what arrived is kept and is not transferred again. DVC said:\n{tail}"
        )
    return None


def _url(cwd: str | Path, name: str | None) -> str:
    """`` (s3://bucket/path)``, the remote's URL without credentials, for messages; empty if unknown."""
    try:
        return f" ({remote(cwd, name).shown})"
    except AlopsError:
        return ""


def _no_default_remote() -> DataError:
    return DataError(
        "no DVC remote is configured: run `dvc remote add -d storage s3://…` and commit .dvc/config "
        "(or name a remote in alops.yaml, datasets.<name>.remote)"
    )
