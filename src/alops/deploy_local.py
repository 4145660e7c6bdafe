"""The service ``alops deploy`` runs itself for an environment without a ``command``: one ``alops serve`` per port.

The process is started detached (its own session, output to ``<state_dir>/<environment>.log``)
so that it outlives ``alops deploy``; what it is lies in ``<state_dir>/<environment>.json``
(pid, port, version, package, started). A state file whose pid is gone, or is now another
program (``/proc/PID/cmdline`` is not our ``alops serve --package DIR``), is stale: it is
ignored, never acted on, so no stranger is ever signalled.

:func:`replace` swaps a new version in on the same port: the old service is stopped
(SIGTERM to its process group, SIGKILL after a grace), the new one started and waited
for; when it does not come up it is stopped and the old one started again, so the
environment serves what its tags say. The port is down in between (the new service's
start, a few seconds: the package is loaded before the port opens).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from alops import atomic
from alops import env as variables
from alops.errors import StepError, ToolError
from alops.text import redact_output

if TYPE_CHECKING:
    from alops.sections import Environment

#: Seconds a service has to stop after SIGTERM (uvicorn finishes the requests in flight) before SIGKILL.
STOP_GRACE_S = 10.0
#: The last lines of a service's log an error quotes.
LOG_TAIL_LINES = 20
#: Secrets the service never needs: the deploy's own credentials stay with the deploy.
_NOT_PASSED = (variables.GITLAB_TOKEN, variables.CI_JOB_TOKEN, variables.MLFLOW_TRACKING_TOKEN)
_POLL_S = 0.1
#: The line that opens each start's part of the log.
_MARK = "--- alops deploy starts alops serve at "


@dataclass(frozen=True)
class Service:
    """A local service as its state file records it."""

    pid: int
    port: int
    version: str
    package: str  # the extracted package folder it serves (absolute)
    started: str  # ISO 8601, UTC
    log: str


def state_file(state_dir: Path, environment: str) -> Path:
    return state_dir / f"{environment}.json"


def log_file(state_dir: Path, environment: str) -> Path:
    return state_dir / f"{environment}.log"


def read(state_dir: Path, environment: str) -> Service | None:
    """The environment's service when its state file names one that runs (ours, alive); else None."""
    path = state_file(state_dir, environment)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        service = Service(
            int(data["pid"]),
            int(data["port"]),
            str(data["version"]),
            str(data["package"]),
            str(data["started"]),
            str(data["log"]),
        )
    except (OSError, ValueError, KeyError, TypeError):  # absent, torn by hand, from another alops: stale
        return None
    return service if is_ours(service) else None


def write(state_dir: Path, environment: str, service: Service) -> None:
    atomic.write_text(state_file(state_dir, environment), json.dumps(asdict(service), indent=2) + "\n")


def forget(state_dir: Path, environment: str) -> None:
    state_file(state_dir, environment).unlink(missing_ok=True)


@contextmanager
def locked(state_dir: Path, environment: str) -> Iterator[None]:
    """Hold the environment's lock for the block: a second ``alops deploy`` of it meanwhile is refused."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / f"{environment}.lock").open("a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ToolError(
                f"another alops deploy of {environment} is running here (it holds {state_dir / environment}.lock): "
                "wait for it to end and run again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def is_ours(service: Service) -> bool:
    """Whether ``service.pid`` runs and is the ``alops serve --package`` of ``service.package``."""
    if not alive(service.pid):
        return False
    if not Path("/proc/self").is_dir():  # no /proc (macOS): a live pid is all there is to go on
        return True
    try:
        raw = Path(f"/proc/{service.pid}/cmdline").read_bytes()
    except OSError:  # it exited meanwhile
        return False
    args = [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")]
    return "serve" in args and "--package" in args and service.package in args


def on_port(port: int, model: str) -> Service | None:
    """An ``alops serve`` of ``model`` on ``port`` that no state file names (its state folder was removed).

    Found by its command line, which :func:`serve_command` wrote: ``serve --package DIR ... --port PORT``,
    and by what it serves. The environment's URL says the port is the environment's, so such a service
    is the one a deploy replaces; one serving another model is left alone (the port is then in use).
    """
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            args = [a.decode("utf-8", "surrogateescape") for a in (proc_dir / "cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        if "serve" not in args or _option(args, "--port") != str(port) or _option(args, "--package") is None:
            continue
        found = Service(int(proc_dir.name), port, "?", str(_option(args, "--package")), "", "")
        if found.pid == os.getpid() or not is_ours(found):
            continue
        served = _get(f"http://127.0.0.1:{port}/v1/models/{model}")
        if isinstance(served, dict) and served.get("name") == model:  # another model's service is not replaced
            return Service(found.pid, port, str(served.get("version")), found.package, "", "")
    return None


def _option(args: list[str], name: str) -> str | None:
    at = args.index(name) if name in args else -1
    return args[at + 1] if 0 <= at < len(args) - 1 else None


def _get(url: str) -> object:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback service
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a child of ours that exited is reaped here, not taken for alive)."""
    if pid <= 0:
        return False
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child: started by an earlier alops deploy
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]  # a zombie has exited


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` (what ``alops serve`` would bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def serve_command(package: Path, host: str, port: int) -> list[str]:
    """``alops serve`` with the Python of this alops (``python -m alops`` when it can, else the script beside it)."""
    if find_spec("alops.__main__") is not None:
        head = [sys.executable, "-m", "alops"]
    else:
        script = Path(sys.executable).parent / "alops"
        if not script.is_file():
            raise ToolError(f"cannot start `alops serve`: no `alops` beside {sys.executable}: reinstall alops")
        head = [str(script)]
    return [*head, "serve", "--package", str(package), "--host", host, "--port", str(port)]


def start(
    state_dir: Path, environment: str, package: Path, version: str, host: str, port: int, env: Mapping[str, str]
) -> Service:
    """Start ``alops serve`` for ``package`` detached: its own session, its output appended to the log."""
    log = log_file(state_dir, environment)
    state_dir.mkdir(parents=True, exist_ok=True)
    args = serve_command(package.absolute(), host, port)
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"{_MARK}{_now()}: {version}: {' '.join(args)}\n")
    child_env = {k: v for k, v in env.items() if k not in _NOT_PASSED}
    # posix_spawn, not Popen: nothing of ours waits on the service, and a Popen dropped while its
    # child runs warns (ResourceWarning); setsid detaches it from our terminal and process group.
    pid = os.posix_spawn(
        args[0],
        args,
        child_env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
        setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP),
    )
    return Service(pid, port, version, str(package.absolute()), _now(), str(log.absolute()))


def stop(service: Service, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM to the service's process group (uvicorn's workers too), SIGKILL after ``grace`` seconds."""
    if not is_ours(service):
        return
    _signal(service.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(service.pid):
        if time.monotonic() > deadline:
            _signal(service.pid, signal.SIGKILL)
            deadline = time.monotonic() + grace
        time.sleep(_POLL_S)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the session leader's pid is its process group's id
    except ProcessLookupError:
        pass
    except PermissionError:
        raise ToolError(
            f"cannot stop alops serve (pid {pid}): it belongs to another user: run alops deploy as that user"
        ) from None


def wait_until_serving(
    url: str, model: str, version: str, timeout: float, *, running: Callable[[], bool] = lambda: True
) -> None:
    """Wait until ``url`` answers ``/healthz`` and ``/v1/models/<model>`` says ``version``; StepError otherwise.

    ``running`` says whether the service can still come up (a process that exited cannot): asked
    between tries, so a crash is reported at once instead of after the whole timeout.
    """
    base = url.rstrip("/")
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        last = _serving(base, model, version) or ""
        if not last:
            return
        if not running():
            raise StepError(f"the service exited before it answered {base}/healthz ({last})")
        if time.monotonic() > deadline:
            raise StepError(f"{base} did not serve {model} {version} within {timeout:g} s ({last})")
        time.sleep(_POLL_S)


def _serving(base: str, model: str, version: str) -> str | None:
    """None when the service at ``base`` is healthy and serves ``version``, else what it said instead."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - the environment's URL
            response.read()
        with urllib.request.urlopen(f"{base}/v1/models/{model}", timeout=2) as response:  # noqa: S310
            served = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return f"{exc.url} answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"no answer: {getattr(exc, 'reason', exc)}"
    got = served.get("version") if isinstance(served, dict) else None
    return None if str(got) == version else f"it serves version {got!r}"


def log_tail(service: Service, lines: int = LOG_TAIL_LINES) -> str:
    """The end of the service's log, from its last start on (what the error shows)."""
    try:
        text = Path(service.log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    own = text.rpartition(_MARK)[2].split("\n", 1)[1:]  # from the last start on, without its own line
    return "\n".join("".join(own).splitlines()[-lines:])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def replace(
    model: str,
    target: Environment,
    address: tuple[str, int],
    version: str,
    package: Path,
    state_dir: Path,
    env: Mapping[str, str],
    say: Callable[[str], None],
) -> None:
    """Replace the environment's ``alops serve`` with one of ``package``; on failure, put the old one back.

    The old service is the one the state file names, else an ``alops serve`` of ``model`` on the port
    (:func:`on_port`). Anything else on the port is refused before anything is stopped.
    """
    host, port = address
    name = target.name
    old = read(state_dir, name)
    if old is None and state_file(state_dir, name).exists():
        say(f"state: {state_file(state_dir, name)} names no running service (ignored)")
        forget(state_dir, name)
    if old is None:
        old = on_port(port, model)
        if old is not None:  # a CI job's clone, its state folder with it, is gone; the service it started is not
            say(f"found alops serve of {model} {old.version} on port {port} (pid {old.pid}) without a state file")
    if old is not None and old.version == version and old.port == port and Path(old.package) == package.absolute():
        try:
            wait_until_serving(target.url, model, version, 0)
        except StepError:
            pass
        else:
            say(f"{name} already serves {model} {version} (pid {old.pid})")
            return
    if not (old is not None and old.port == port) and not port_free(host, port):
        raise ToolError(
            f"port {port} of {target.url} (release.environments.{name}.url) is in use by another program, not "
            f"by {name}'s alops serve: stop that program or give {name} another port; nothing was changed"
        )
    started = time.monotonic()
    new: Service | None = None
    try:  # from the old one's stop on: whatever happens (a crash, Ctrl-C, SIGTERM), the old one comes back
        if old is not None:
            stop(old)
            say(f"stopped {model} {old.version} (pid {old.pid})")
        new = start(state_dir, name, package, version, host, port, env)
        say(f"started alops serve (pid {new.pid}, log {new.log}); waiting for {target.url}/healthz")
        pid = new.pid
        wait_until_serving(target.url, model, version, target.timeout, running=lambda: alive(pid))
    except BaseException as exc:
        if new is not None:
            stop(new)
        forget(state_dir, name)
        tail = log_tail(new) if new is not None else ""  # before a restart of the old one adds to the same log
        restored = _restart(old, state_dir, name, host, model, env, target.timeout) if old is not None else ""
        if not isinstance(exc, StepError) or new is None:
            raise
        raise StepError(
            f"{model} {version} did not come up in {name}: {exc}{restored}"
            + (f"\nthe end of its log ({new.log}):\n{redact_output(tail, env)}" if tail else f"\nits log: {new.log}")
        ) from None
    write(state_dir, name, new)
    say(f"{target.url} serves {model} {version} ({time.monotonic() - started:.1f} s)")
    _prune(package.parent, keep={package.name, old.version if old else ""})


def _restart(
    old: Service, state_dir: Path, name: str, host: str, model: str, env: Mapping[str, str], timeout: float
) -> str:
    """Start the service that ran before again; what happened, for the error message."""
    stop(old)  # an interrupted stop: it may still be on its way out
    back = start(state_dir, name, Path(old.package), old.version, host, old.port, env)
    try:
        wait_until_serving(f"http://{host}:{old.port}", model, old.version, timeout, running=lambda: alive(back.pid))
    except StepError as again:
        stop(back)
        return f"; starting {model} {old.version} again failed too ({again}): {name} serves nothing now"
    write(state_dir, name, back)
    return f"; {name} serves {model} {old.version} again (pid {back.pid})"


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the extracted packages of ``folder`` other than ``keep`` (the new one, and the one to go back to)."""
    from alops.release.version import Version

    for path in folder.iterdir():
        try:
            Version.parse(path.name)
        except ValueError:
            continue
        if path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
