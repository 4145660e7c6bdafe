"""The one commit of ``alops al sync``: the al branch's data files written, committed alone, or all put back.

Each file is replaced whole (:func:`alops.atomic.write_text`); if anything fails
before the commit is made (a hook, a full disk, Ctrl-C), every file written is
put back as it was and unstaged, so the branch is as the sync found it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from alops import atomic, proc
from alops.al.datafiles import LOCK, outputs
from alops.errors import ConfigError


def write_and_commit(
    root: Path,
    dvc_files: Mapping[str, str],
    new_here: Sequence[str],
    lock: str | None,
    message: Callable[[list[str]], str],
    env: Mapping[str, str],
) -> tuple[list[str], str]:
    """Write ``dvc_files`` (name -> text), git-ignore the outputs of those ``new_here``, write ``lock`` when set,
    and commit exactly those files (whatever else is staged stays staged); the files and the commit."""
    before: dict[str, str | None] = {}
    try:
        files: list[str] = []
        for name, text in dvc_files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            _replace(root, name, text, before)
            files.append(name)
            if name in new_here:  # as `dvc add` does: git ignores what DVC tracks
                files += _ignore_outputs(root, text, name, before)
        if lock is not None:
            _replace(root, LOCK, lock, before)
            files.append(LOCK)
        files = sorted(set(files))
        _git(root, ["add", "--", *files], env)
        _git(root, ["commit", "--quiet", f"--message={message(files)}", "--", *files], env)
    except BaseException:
        _restore(root, before, env)
        raise
    return files, _git(root, ["rev-parse", "HEAD"], env).strip()


def ignores(dvc_files: Sequence[str]) -> list[str]:
    """The ``.gitignore`` files that ``dvc add`` would have written for ``dvc_files``."""
    return sorted({posixpath.join(posixpath.dirname(f), ".gitignore") for f in dvc_files})


def refuse_dirty(root: Path, files: Sequence[str], env: Mapping[str, str]) -> None:
    """A ConfigError naming those of ``files`` that differ from HEAD (staged, changed, untracked): sync would lose them."""
    if not files:
        return
    out = _git(root, ["status", "--porcelain", "-z", "--untracked-files=all", "--", *files], env)
    dirty = sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})
    if dirty:
        raise ConfigError(
            f"cannot sync: {', '.join(dirty)} {'has' if len(dirty) == 1 else 'have'} changes not committed; "
            "commit them or discard them (`git restore FILE`), then run alops al sync again. Nothing was changed."
        )


def _replace(root: Path, name: str, text: str, before: dict[str, str | None]) -> None:
    path = root / name
    before.setdefault(name, path.read_text(encoding="utf-8") if path.exists() else None)
    atomic.write_text(path, text)


def _ignore_outputs(root: Path, text: str, dvc_file: str, before: dict[str, str | None]) -> list[str]:
    touched = []
    for out in outputs(text, dvc_file, dvc_file):
        ignore = posixpath.join(posixpath.dirname(out), ".gitignore")
        line = "/" + posixpath.basename(out)
        path = root / ignore
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if line not in old.splitlines():
            _replace(root, ignore, old + ("" if not old or old.endswith("\n") else "\n") + line + "\n", before)
            touched.append(ignore)
    return touched


def _restore(root: Path, before: Mapping[str, str | None], env: Mapping[str, str]) -> None:
    if before:
        proc.run(["git", "--literal-pathspecs", "reset", "--quiet", "--", *before], cwd=root, env=env, check=False)
    for name, text in before.items():
        if text is None:
            (root / name).unlink(missing_ok=True)
        else:
            atomic.write_text(root / name, text)


def _git(root: Path, args: list[str], env: Mapping[str, str]) -> str:
    return proc.run(["git", "--literal-pathspecs", *args], cwd=root, env=env).stdout
