"""The one way alops runs other programs: argument lists, never a shell; what they print, redacted.

Every program alops runs gets no terminal on its standard input (it cannot
prompt) and pipes for its output (DVC cannot tell a terminal from a CI log).
What it prints passes through :func:`alops.text.redact_output` before it reaches the user,
whether it is shown as it happens (``capture=False``) or quoted in an error
message; the result returned to the caller is the program's output as it
was, for the caller to parse (and to redact, where it quotes it).
"""

from __future__ import annotations

import locale
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from alops.errors import ToolError
from alops.text import redact_output


def run(
    args: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
    check: bool = True,
    give_up: Callable[[str], bool] | None = None,
    grace: float = 3.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` and return the result; raise ToolError (its message redacted) when it fails.

    With ``capture=False`` the command's output is also shown as it happens
    (long DVC runs should show progress), line by line and redacted; it is
    returned either way, so a failure is explained the same way in both modes.
    Output is decoded as ``text=True`` would (strictly, in the locale's encoding).

    ``give_up`` is asked about each line of the command's standard error: once
    it says True, the command has ``grace`` seconds to finish by itself, then
    it is interrupted (SIGINT, as Ctrl-C would) and its result is what it had
    printed by then, with its exit code.
    """
    environ = os.environ if env is None else env
    exe = shutil.which(args[0], path=environ.get("PATH"))
    if exe is None:
        raise ToolError(f"`{args[0]}` is not installed or not on PATH: install it and run again")
    try:
        child = subprocess.Popen(
            [exe, *args[1:]],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:  # not executable, bad cwd
        raise ToolError(f"cannot run `{args[0]}`: {exc}") from exc

    def clean(text: str) -> str:
        return redact_output(text, environ)

    outs: list[list[bytes]] = [[], []]
    hopeless = threading.Event()
    pumps = [
        threading.Thread(
            target=_pump,
            args=(stream, kept, None if capture else shown, clean, watch, hopeless),
            daemon=True,
        )
        for stream, kept, shown, watch in (
            (child.stdout, outs[0], sys.stdout, None),
            (child.stderr, outs[1], sys.stderr, give_up),
        )
    ]
    try:  # the pumps start inside: a Ctrl-C between two starts must still stop the child
        for pump in pumps:
            pump.start()
        returncode = _wait(child, hopeless, grace)
    except BaseException:  # Ctrl-C reaches the child too (same process group): let it stop, then go
        _stop(child)
        raise
    for pump in pumps:
        pump.join()
    encoding = locale.getpreferredencoding(False)
    # as text=True reads them: decoded strictly, "\r\n" and "\r" read as "\n"
    stdout, stderr = (b"".join(o).decode(encoding).replace("\r\n", "\n").replace("\r", "\n") for o in outs)
    result = subprocess.CompletedProcess(list(args), returncode, stdout, stderr)
    if check and returncode != 0:
        shown = " ".join(args[:3]) + (" …" if len(args) > 3 else "")
        detail = clean(result.stderr or result.stdout or "").strip()
        tail = "\n".join(detail.splitlines()[-20:])
        raise ToolError(f"`{clean(shown)}` failed with exit code {returncode}" + (f":\n{tail}" if tail else ""))
    return result


def _wait(child: subprocess.Popen[bytes], hopeless: threading.Event, grace: float) -> int:
    """The child's exit code; once ``hopeless`` is set, ``grace`` seconds more, then SIGINT, then SIGKILL."""
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if hopeless.is_set():
                break
    try:
        return child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGINT)
    try:
        return child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


def _pump(
    stream: IO[bytes] | None,
    kept: list[bytes],
    shown: IO[str] | None,
    clean: Callable[[str], str],
    give_up: Callable[[str], bool] | None,
    hopeless: threading.Event,
) -> None:
    """Read ``stream`` to its end, keeping every byte; show each line (``\\n`` or ``\\r``) redacted, and watch it."""
    if stream is None:
        return
    pending = b""
    with stream:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            kept.append(chunk)
            if shown is None and give_up is None:
                if not chunk:
                    return
                continue
            pending += chunk
            lines = re.split(rb"(?<=[\r\n])", pending) if chunk else [pending, b""]
            pending = lines.pop()  # an unfinished line waits for its end (or EOF)
            for raw in filter(None, lines):
                text = raw.decode("utf-8", "replace")
                if give_up is not None and not hopeless.is_set() and give_up(text):
                    hopeless.set()
                if shown is not None:
                    try:
                        shown.write(clean(text))
                        shown.flush()
                    except (OSError, ValueError):  # the terminal went away: keep reading so the child never blocks
                        shown = None
            if not chunk:
                return


def _stop(child: subprocess.Popen[bytes]) -> None:
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
