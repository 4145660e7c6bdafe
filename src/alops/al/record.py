"""`alops al record`: after `alops run` on an al branch, commit what the model was trained on and how it scored.

One commit of ``dvc.lock`` and the metrics files (``pipeline.metrics`` with
``{dataset}`` = full) with the trailer ``ALOps-Trained-Round: N``, N the highest
round of the label log: the learning curve and "labels since the last trained
model" are read back from these commits (:mod:`alops.al.history`). The push
carries ``-o ci.skip``: recording a model must not start another pipeline.
When the branch moved meanwhile (an ingest landed), the commit is rebased onto
it and pushed again: it touches no file an ingest writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from alops import gitpush, proc
from alops.al.history import TRAINED, read
from alops.config import Config
from alops.errors import StepError, ToolError

DATASET = "full"
ROLE = "al"
_ATTEMPTS = 3
_IDENTITY = ("alops al record", "alops@noreply.invalid")


@dataclass(frozen=True)
class RecordResult:
    round: int
    paths: tuple[str, ...]
    commit: str | None  # None: nothing changed since the last record
    pushed_to: str | None = None  # the branch, when pushed
    attempts: int = 0


def trained_round(config: Config) -> int:
    """The highest round of the label log when it is in the workspace, else the highest in git's trailers."""
    from alops.al.ingest.labellog import next_round

    labels = config.al.labels if config.al else None
    if labels and (config.root / labels).is_dir():
        return next_round(config.root / labels) - 1
    return read(config.root).last_round


def tracked_paths(config: Config) -> tuple[str, ...]:
    """``dvc.lock`` and the metrics files that exist and git does not ignore."""
    root = config.root
    if not (root / "dvc.lock").is_file():
        raise StepError("there is no dvc.lock to record: run `alops run` first (the train job does)")
    names = [m.replace("{dataset}", DATASET).replace("{role}", ROLE) for m in config.pipeline.metrics]
    found = ["dvc.lock", *(n for n in names if (root / n).is_file())]
    ignored = set(proc.run(["git", "check-ignore", "--", *found], cwd=root, check=False).stdout.splitlines())
    return tuple(p for p in found if p not in ignored)


def record(config: Config, *, env: Mapping[str, str], push: bool, branch: str | None = None) -> RecordResult:
    """Commit the training's dvc.lock and metrics with ``ALOps-Trained-Round``; push when ``push``."""
    root = config.root
    number = trained_round(config)
    paths = tracked_paths(config)
    proc.run(["git", "add", "--", *paths], cwd=root)
    if proc.run(["git", "diff", "--cached", "--quiet", "--", *paths], cwd=root, check=False).returncode == 0:
        return RecordResult(number, paths, None)
    message = f"alops al record: model trained on rounds up to {number}\n\n{TRAINED}: {number}\n"
    proc.run(
        ["git", "commit", "--quiet", "--no-verify", "-m", message, "--", *paths],
        cwd=root,
        env=gitpush.committer(root, env, _IDENTITY),
    )
    sha = proc.run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()
    if not push:
        return RecordResult(number, paths, sha)
    from alops.al.retrain import current_ref

    target = branch or current_ref(root, env)
    attempts, sha = _push(root, target, env)
    return RecordResult(number, paths, sha, target, attempts)


def _push(root: Path, branch: str, env: Mapping[str, str]) -> tuple[int, str]:
    """Push HEAD to ``branch``; when it moved, rebase onto it and try again. The attempts and the pushed commit."""
    # Where ingest pushes too: ALOPS_GIT_PUSH_URL, the project's HTTPS URL with the token, else origin.
    url, token = gitpush.destination(env)
    run_env = gitpush.authenticated(gitpush.committer(root, env, _IDENTITY), token)
    ref = f"refs/heads/{branch}"
    for attempt in range(1, _ATTEMPTS + 1):
        pushed = gitpush.push_skipping_ci(root, url, f"HEAD:{ref}", run_env)
        if pushed.returncode == 0:
            return attempt, proc.run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()
        said = gitpush.redact(pushed.stderr, token)
        if attempt == _ATTEMPTS or not any(s in said for s in ("rejected", "fetch first", "non-fast-forward")):
            hint = gitpush.refused_hint(said)
            raise ToolError(f"git push of the training record to {branch} failed: {said.strip()}{hint}")
        # The branch moved (an ingest landed): put the record on top of it.
        proc.run(["git", "fetch", "--quiet", "--", url, ref], cwd=root, env=run_env)
        rebased = proc.run(["git", "rebase", "--quiet", "FETCH_HEAD"], cwd=root, env=run_env, check=False)
        if rebased.returncode != 0:
            proc.run(["git", "rebase", "--abort"], cwd=root, check=False)
            raise ToolError(
                f"{branch} moved and the training record does not apply on top of it ({rebased.stderr.strip()}): "
                "someone changed dvc.lock or the metrics there; run the train pipeline again"
            )
    raise AssertionError("unreachable")  # pragma: no cover
