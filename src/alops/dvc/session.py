"""The repository a DVC child process works on, and its remotes (in :mod:`alops.dvc.child`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alops.dvc.failure import Failure, Known
from alops.dvc.remote import Remote


class Session:
    """One open repository for all of a request's operations (reopened after its configuration changes)."""

    def __init__(self, root: Path, *, quiet: bool) -> None:
        self.root = root
        self.quiet = quiet
        self._repo: Any = None
        self.remote: Remote | None = None  # the last one looked up: failures name it
        self.phase = ""  # what the current operation is doing, where failures differ (a push's status)

    @property
    def repo(self) -> Any:
        if self._repo is None:
            from dvc.repo import Repo  # type: ignore[import-untyped,unused-ignore]

            self._repo = Repo(str(self.root))
        return self._repo

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)


def remote(session: Session, name: str | None) -> Remote:
    """The remote ``name`` (the default remote if None) from DVC's merged configuration."""
    config = session.repo.config
    chosen = name or config["core"].get("remote")
    if not chosen:
        raise Known(Failure("no_remote"))
    options = config["remote"].get(chosen) or config["remote"].get(chosen.lower())
    if not options or not options.get("url"):
        raise Known(Failure("unknown_remote", name=chosen))
    session.remote = Remote(chosen, str(options["url"]), {str(k): text(v) for k, v in options.items()})
    return session.remote


def text(value: Any) -> str:
    """A config value as DVC's files write it: lists joined by commas, booleans lowercase."""
    return (
        ",".join(map(str, value))
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )
