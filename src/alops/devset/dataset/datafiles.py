"""The data's files as hostile input: what alops opens, how it names them, what it refuses.

Both `alops devset build` and `alops devset check` find and open their tables
here, so both refuse the same things:

* Only regular files are opened (``stat.S_ISREG``, checked on the open file
  descriptor, which is opened non-blocking: a named pipe never hangs a read).
* No file is read through a symbolic link that resolves outside the dataset
  (the source folder; for the configured source itself, the project) or the
  project's DVC cache (DVC's ``cache.type symlink`` links every tracked file
  into it, possibly a shared cache outside the project). The dev set is
  pushed and shared, so it must never pick up ``/etc/passwd`` or
  ``.dvc/config.local``: a table behind such a link is refused (exit 2), a
  manifest's file behind one is a corrupt row and never copied. Linked folders
  inside a folder source are not followed (no loops, no table read twice);
  DVC likewise refuses to add files inside a linked folder
  (https://github.com/treeverse/dvc/pull/4778).
* File names are shown escaped (:func:`shown`): bytes that are not UTF-8 and
  control characters never reach a terminal or a report as they are. A table
  whose name is not UTF-8 is refused: rows are keyed by their table's name.
* Data that is not there, cannot be read, or changes while it is read is a
  :class:`~alops.errors.DataError` (exit 4: get it again, run again); a file that
  is there but is not something alops reads is a ConfigError (exit 2).
* Limits, documented in the README: at most ``MAX_COLUMNS`` columns, a header
  line of at most ``MAX_HEADER_BYTES``, other lines of at most about ``MAX_LINE_BYTES``.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from alops.errors import ConfigError, DataError

#: The tables alops reads, by file suffix (lowercase), for both commands.
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Columns a table may have (Excel's limit: wide enough for real tables; every column costs the check a test).
MAX_COLUMNS = 16_384
#: How far a CSV line may run past the end of a block (``scan.BLOCK_BYTES``): memory per block in
#: flight stays bounded whatever the file holds.
MAX_LINE_BYTES = 64 << 20
#: Longest CSV header line (MAX_COLUMNS names of 256 bytes).
MAX_HEADER_BYTES = 4 << 20


def shown(path: Path | str) -> str:
    """``path`` for a message: bytes that are not UTF-8 as ``\\xff``, control characters escaped."""
    from alops.text import safe

    # The bytes of a name that are not UTF-8 as the bytes they are (\xff, not Python's \udcff).
    return safe(os.fsencode(str(path)).decode("utf-8", "backslashreplace"))


def is_utf8_name(path: Path | str) -> bool:
    """Whether the name decodes as UTF-8 (on Linux, other bytes arrive as surrogate escapes)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words."""
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading (unbuffered); DataError when it cannot be read, ConfigError when it is
    not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise DataError(f"{shown(path)}: cannot be read: {_why(exc)}") from None
    except ValueError:  # a NUL byte in the name
        raise ConfigError(f"{shown(path)}: not a file name alops can open") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{shown(path)}: is {kind(mode)}, not a file: alops reads only regular files")
        os.set_blocking(fd, True)
        return open(fd, "rb", buffering=0)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: Path) -> None:
    """ConfigError unless ``path`` is a regular file (for readers that open it by name, e.g. pyarrow)."""
    open_regular(path).close()


def still_there(path: Path, opened: os.stat_result) -> None:
    """DataError when ``path`` no longer names the file that was read (``opened``: its ``fstat``)."""
    try:
        now = os.stat(path)
    except OSError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
        raise DataError(
            f"{shown(path)}: {'deleted' if now is None else 'replaced'} while alops read it: "
            "run again once nothing writes to the data"
        )
    if now.st_size != opened.st_size:
        raise DataError(
            f"{shown(path)}: changed while alops read it ({opened.st_size:,} bytes, now {now.st_size:,}): "
            "run again once nothing writes to the data"
        )


def size(path: Path) -> int:
    """The size of a table that was read; DataError when it has gone since (exit 4, not a traceback)."""
    try:
        return os.stat(path).st_size
    except OSError:
        raise DataError(
            f"{shown(path)}: deleted while alops read it: run again once nothing writes to the data"
        ) from None


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "it does not exist"
    return exc.strerror or str(exc)


def escapes(path: Path, base: Path) -> Path | None:
    """Where ``path`` really is when a link takes it outside ``base`` and the DVC cache; else None."""
    real = Path(os.path.realpath(path))
    if real.is_relative_to(os.path.realpath(base)):
        return None
    cache = dvc_cache(str(base))
    if cache is not None and real.is_relative_to(cache):
        return None
    return real


@functools.lru_cache(maxsize=64)
def dvc_cache(start: str) -> str | None:
    """The DVC cache of the project holding ``start`` (found as DVC finds its root: a ``.dvc`` folder)."""
    from alops import dvc

    here = Path(os.path.realpath(start))
    for folder in (here, *here.parents):
        if (folder / ".dvc").is_dir():
            # DVC's merged configuration in this process's environment: a file-system
            # question about this machine, asked only for a link that leaves its folder.
            return os.path.realpath(dvc.cache_dir(folder, env=os.environ))
    return None


def confined(path: Path, base: Path, what: str) -> None:
    """ConfigError when a link takes ``path`` outside ``base`` (and the DVC cache)."""
    real = escapes(path, base)
    if real is not None:
        raise ConfigError(
            f"{shown(path)}: is a link to {shown(real)}, outside {what} {shown(base)}: alops reads no file "
            "through a link that leaves the dataset (or the DVC cache); put the file itself there, or remove the link"
        )


def walk(folder: Path, wanted: Callable[[str], bool]) -> list[Path]:
    """The files under ``folder`` whose name ``wanted`` accepts, sorted; hidden entries left out.

    ConfigError for a wanted file that is not a regular file, whose name is not
    UTF-8, or that links outside ``folder`` (and the DVC cache); for a link to a
    folder (never followed).
    """
    found: list[Path] = []
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError as exc:
            raise DataError(f"{shown(here)}: cannot be listed: {_why(exc)}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_link, is_dir = True, False
            if is_dir and is_link:
                raise ConfigError(
                    f"{shown(path)}: is a link to a folder: alops does not follow linked folders "
                    "(no table is read twice or from outside the dataset); put the folder itself there"
                )
            if is_dir:
                pending.append(path)
                continue
            if not wanted(entry.name):
                continue
            if not is_utf8_name(path):
                raise ConfigError(
                    f"{shown(path)}: the file name is not UTF-8: rename it (alops keys rows by their table's name)"
                )
            if is_link:
                confined(path, folder, "the dataset")
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                if is_link and exc.errno == errno.ENOENT:
                    raise DataError(
                        f"{shown(path)}: is a link to {shown(os.readlink(path))}, which does not exist: "
                        "get the file (`dvc pull`, `dvc checkout`) or remove the link"
                    ) from None
                raise DataError(f"{shown(path)}: cannot be read: {_why(exc)}") from None
            if not stat.S_ISREG(mode):
                raise ConfigError(f"{shown(path)}: is {kind(mode)}, not a file: alops reads only regular files")
            found.append(path)
    return sorted(found)


def source_path(root: Path, path: Path, what: str) -> None:
    """ConfigError when the configured source (or output) ``path`` inside the project links out of it."""
    if not Path(os.path.abspath(path)).is_relative_to(os.path.abspath(root)):
        return  # a path outside the project, given as such: the user's choice
    if os.path.lexists(path):
        confined(path, root, what)


def describe(path: Path) -> str | None:
    """``"is a named pipe"`` and the like when ``path`` exists but is neither a file nor a folder."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return f"is {kind(mode)}"
