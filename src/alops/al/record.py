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

from alops import env as variables
from alops import proc
from alops.al.history import TRAINED, read
from alops.config import Config

# The push helpers of `alops devset refresh`: the token as an HTTP header, never in a command line.
from alops.devset.refresh.git import _extra_header, _identity, redact
from alops.errors import StepError, ToolError

DATASET = "full"
ROLE = "al"
_ATTEMPTS = 3


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
        ["git", "commit", "--quiet", "--no-verify", "-m", message, "--", *paths], cwd=root, env=_identity(root, env)
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
    from alops.al.ingest.publish import destination

    url, token = destination(env)
    run_env = {**_identity(root, env), "GIT_TERMINAL_PROMPT": "0", **(_extra_header(env, token) if token else {})}
    ref = f"refs/heads/{branch}"
    for attempt in range(1, _ATTEMPTS + 1):
        pushed = proc.run(
            ["git", "push", "--quiet", "-o", "ci.skip", "--", url, f"HEAD:{ref}"], cwd=root, env=run_env, check=False
        )
        if pushed.returncode != 0 and "push options" in pushed.stderr:
            # A remote that takes no push options is no GitLab: no pipeline to skip there.
            pushed = proc.run(["git", "push", "--quiet", "--", url, f"HEAD:{ref}"], cwd=root, env=run_env, check=False)
        if pushed.returncode == 0:
            return attempt, proc.run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()
        said = redact(pushed.stderr, token)
        if attempt == _ATTEMPTS or not any(s in said for s in ("rejected", "fetch first", "non-fast-forward")):
            hint = (
                f"\n{variables.GITLAB_TOKEN} needs the write_repository scope and role Developer or higher "
                "(CI_JOB_TOKEN cannot push)"
                if any(s in said for s in ("401", "403", "Authentication failed", "not allowed to push"))
                else ""
            )
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
