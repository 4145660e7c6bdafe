"""The git and DVC side of an ingest: ``dvc add`` and the commit (idempotent), ``dvc push`` and ``git push``.

The push goes to ``ALOPS_GIT_PUSH_URL`` when set; else, when ``ALOPS_GITLAB_TOKEN``
is set in a CI job, to the project's HTTPS URL with the token as a header
(:mod:`alops.gitpush`: never on a command line); else to ``origin``
with git's own credentials (in a CI job, ``CI_JOB_TOKEN``, which can push only
where the project allows it). It carries ``-o ci.skip``: the data commit
starts no pipeline, ``alops al retrain`` decides when to train (a remote that
takes no push options gets the push without it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from alops import atomic, dvc, gitpush, proc
from alops import env as variables
from alops.al.ingest import journal
from alops.errors import ConfigError, ToolError

_IDENTITY = ("alops al ingest", "alops@noreply.invalid")
#: What git says when the branch moved under a push (another ingest pushed first).
_MOVED = ("[rejected]", "non-fast-forward", "fetch first", "cannot lock ref", "failed to update ref")


def git(root: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
    return proc.run(["git", *args], cwd=root, env=env, check=check).stdout


def trailer(ingest_id: str) -> str:
    return f"ALOps-Ingest: {ingest_id}"


def committed(root: Path, ingest_id: str) -> bool:
    """Whether HEAD is the commit of ingest ``ingest_id``."""
    message = git(root, "log", "-1", "--format=%B", check=False)
    return trailer(ingest_id) in message.splitlines()


def is_ingest(root: Path) -> bool:
    """Whether HEAD is a commit of ``alops al ingest`` (one a failed push may have left unpushed)."""
    message = git(root, "log", "-1", "--format=%B", check=False)
    return any(line.startswith("ALOps-Ingest: ") for line in message.splitlines())


def git_dir(root: Path) -> Path:
    return (root / git(root, "rev-parse", "--git-dir").strip()).resolve()


def dirty(root: Path, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` with changes git has not committed (or untracked): an ingest would commit them."""
    out = git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return [line[3:] for line in out.splitlines() if line.strip()]


def record(root: Path, plan: journal.Plan, env: Mapping[str, str]) -> None:
    """``dvc add`` the outputs and commit their ``.dvc`` and ``.gitignore`` files, unless HEAD is that commit."""
    if committed(root, plan.ingest_id):
        # A kill after git moved the branch and before it wrote the index: make the index say what HEAD says.
        git(root, "reset", "--quiet", "HEAD", "--", *_known(root, plan.commit))
        return
    _restore(root, plan.commit)
    journal.checkpoint("dvc add")
    dvc.add(list(plan.outputs), cwd=root, env=env)
    journal.checkpoint("git add")
    journal.mark_git(root)
    paths = _known(root, plan.commit)
    git(root, "add", "--", *(p for p in paths if (root / p).exists()))
    journal.checkpoint("git commit")
    git(
        root,
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        plan.message,
        "--",
        *paths,
        env=gitpush.committer(root, env, _IDENTITY),
    )
    journal.checkpoint("committed to git")


def _known(root: Path, paths: Sequence[str]) -> list[str]:
    """The paths that exist or that HEAD has (git refuses a pathspec that matches neither)."""
    return [p for p in paths if (root / p).exists() or _at_head(root, p) is not None]


def _at_head(root: Path, path: str) -> bytes | None:
    done = proc.run(["git", "cat-file", "-e", f"HEAD:{path}"], cwd=root, check=False)
    if done.returncode != 0:
        return None
    return git(root, "show", f"HEAD:{path}").encode("utf-8")


def _restore(root: Path, paths: Sequence[str]) -> None:
    """Put ``paths`` back as HEAD has them (a killed ``dvc add`` may have truncated a ``.dvc`` file)."""
    for path in paths:
        content = _at_head(root, path)
        if content is None:
            atomic.remove(root / path)
        elif not (root / path).is_file() or (root / path).read_bytes() != content:
            atomic.write_text(root / path, content.decode("utf-8"))


def branch(root: Path, env: Mapping[str, str]) -> str:
    """The branch the ingest pushes to: the checked-out one, else CI_COMMIT_BRANCH (a CI job's detached HEAD)."""
    from alops.git import current_branch

    name = current_branch(root) or env.get(variables.CI_COMMIT_BRANCH)
    if not name:
        raise ConfigError(
            f"HEAD is detached and {variables.CI_COMMIT_BRANCH} is not set: check out the active-learning branch "
            "(git switch al/...) before `alops al ingest --push`"
        )
    return name


def push(root: Path, dvc_files: Sequence[str], name: str, env: Mapping[str, str]) -> bool:
    """``dvc push`` the data, then ``git push`` HEAD to ``name``; False when the branch moved (nothing pushed)."""
    dvc.push(targets=list(dvc_files), run_cache=False, cwd=root, env=env)
    url, token = gitpush.destination(env)
    done = gitpush.push_skipping_ci(root, url, f"HEAD:refs/heads/{name}", gitpush.authenticated(env, token))
    if done.returncode == 0:
        return True
    said = gitpush.redact(done.stderr.strip(), token)
    if any(s in said for s in _MOVED):
        return False
    raise ToolError(
        f"`git push` to {gitpush.redact(url, token)} failed:\n{said}"
        + gitpush.refused_hint(said, ", and may push to this branch")
    )


def move_onto_remote(root: Path, name: str, dvc_files: Sequence[str], env: Mapping[str, str]) -> None:
    """Drop the local ingest commit, take the remote branch's head and its data version (``dvc pull``)."""
    url, token = gitpush.destination(env)
    try:
        fetch = ["git", "fetch", "--quiet", "--", url, f"refs/heads/{name}"]
        proc.run(fetch, cwd=root, env=gitpush.authenticated(env, token))
    except ToolError as exc:
        raise ToolError(gitpush.redact(str(exc), token)) from None
    journal.checkpoint("move onto the remote")
    journal.checkout_pending(root, dvc_files)
    # --keep: the working tree's other changes stay (and git refuses if one is in a file that changes).
    git(root, "reset", "--quiet", "--keep", "FETCH_HEAD")
    journal.checkpoint("reset onto the remote")
    checkout(root, dvc_files, env)


def checkout(root: Path, dvc_files: Sequence[str], env: Mapping[str, str]) -> None:
    """Bring the data of ``dvc_files`` (those HEAD has) into the working tree, then clear the pending mark."""
    dvc.pull([f for f in dvc_files if os.path.exists(root / f)], cwd=root, env=env)
    journal.checkout_pending(root, None)
