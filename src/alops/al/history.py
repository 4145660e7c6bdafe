"""The loop's rounds and trained models, read from git history: the commits' trailers, no side database.

An ingest commits ``ALOps-Round: N``, ``ALOps-Labels: A`` and ``ALOps-Ingest: ID``;
``alops al record`` commits ``ALOps-Trained-Round: N`` (the highest round the model
saw); ``alops al sync`` commits ``ALOps-Synced-From: BRANCH@SHA`` and
``ALOps-Synced-Round: N`` (the highest round it brought). Git matches trailer keys
without regard to case, and so does this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alops import proc

if TYPE_CHECKING:
    from alops.config import Config

ROUND = "ALOps-Round"
LABELS = "ALOps-Labels"
INGEST = "ALOps-Ingest"
TRAINED = "ALOps-Trained-Round"
SYNCED_FROM = "ALOps-Synced-From"
SYNCED_ROUND = "ALOps-Synced-Round"
#: Only commits with one of these are read: git's own filter keeps a long history fast.
_GREP = r"^(ALOps-Round|ALOps-Trained-Round|ALOps-Synced-From):"


@dataclass(frozen=True)
class Ingest:
    """One ingest commit: its round and how many labels it accepted."""

    round: int
    labels: int
    ingest_id: str | None
    commit: str
    date: str  # the commit's date, ISO 8601


@dataclass(frozen=True)
class Training:
    """One ``alops al record`` commit: a model trained on the data of rounds up to ``round``."""

    round: int
    commit: str
    date: str


@dataclass(frozen=True)
class Synced:
    """One ``alops al sync`` commit: the data of ``branch`` at ``source`` (rounds up to ``round``)."""

    branch: str
    source: str
    round: int | None
    commit: str


@dataclass(frozen=True)
class History:
    """The trailers of a branch's history, oldest first; one ingest per round (the newest commit of it)."""

    ingests: tuple[Ingest, ...]
    trainings: tuple[Training, ...]
    syncs: tuple[Synced, ...]
    #: A shallow clone (CI's default depth) shows only its latest commits: older trailers are missing.
    shallow: bool = False

    @property
    def last_round(self) -> int:
        """The highest round whose data this branch holds: ingested here or brought by a sync (0: none)."""
        rounds = [i.round for i in self.ingests] + [s.round for s in self.syncs if s.round is not None]
        return max(rounds, default=0)

    @property
    def last_trained(self) -> int | None:
        """The highest round a recorded model was trained on; None when no model was recorded."""
        return max((t.round for t in self.trainings), default=None)

    def labels_since_training(self) -> int:
        """The accepted labels of the rounds after the last trained model's round (all of them without one)."""
        trained = self.last_trained or 0
        return sum(i.labels for i in self.ingests if i.round > trained)

    def training_of(self, round_: int) -> Training | None:
        """The newest model recorded for ``round_``."""
        found = [t for t in self.trainings if t.round == round_]
        return found[-1] if found else None


def read(root: Path, rev: str = "HEAD", *, env: Mapping[str, str] | None = None) -> History:
    """The trailers of ``rev``'s history (every ancestor, merges' too); empty when ``rev`` has no commit yet."""
    known = proc.run(["git", "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"], cwd=root, env=env, check=False)
    if known.returncode != 0:
        return History((), (), ())
    fmt = "%H%x1f%cI%x1f%(trailers:only,unfold)"
    args = ["git", "log", "-z", "-E", "-i", f"--grep={_GREP}", f"--format={fmt}", known.stdout.strip(), "--"]
    out = proc.run(args, cwd=root, env=env).stdout
    ingests: dict[int, Ingest] = {}
    trainings: list[Training] = []
    syncs: list[Synced] = []
    for record in reversed([r for r in out.split("\0") if r.strip()]):  # git log is newest first
        commit, date, text = (record.strip("\n").split("\x1f") + ["", ""])[:3]
        found = trailers(text)
        round_ = _int(found.get(ROUND.lower()))
        if round_ is not None:
            labels = _int(found.get(LABELS.lower())) or 0
            ingests[round_] = Ingest(round_, labels, found.get(INGEST.lower()), commit, date)
        trained = _int(found.get(TRAINED.lower()))
        if trained is not None:
            trainings.append(Training(trained, commit, date))
        source = found.get(SYNCED_FROM.lower())
        if source and "@" in source:
            branch, sha = source.rsplit("@", 1)
            syncs.append(Synced(branch, sha, _int(found.get(SYNCED_ROUND.lower())), commit))
    shallow = proc.run(["git", "rev-parse", "--is-shallow-repository"], cwd=root, env=env).stdout.strip() == "true"
    return History(tuple(sorted(ingests.values(), key=lambda i: i.round)), tuple(trainings), tuple(syncs), shallow)


def labels_since_training(root: Path, config: Config | None = None, *, rev: str = "HEAD") -> int:
    """The accepted labels of the rounds after the last ``ALOps-Trained-Round`` on ``rev`` (what retrain weighs).

    ``config`` is not read yet: the count comes from git alone, so a CI job needs no data to decide,
    but it needs the history: in a shallow clone (``History.shallow``) the last training may be out
    of sight and every visible round counted (CI: ``GIT_DEPTH: 0`` on the job).
    """
    return read(root, rev).labels_since_training()


def trailers(text: str) -> dict[str, str]:
    """``Key: value`` lines as git prints them (``%(trailers:only,unfold)``), keys lower-cased; the last one wins."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            found[key.strip().lower()] = value.strip()
    return found


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:  # a hand-written trailer that is no number: not a round
        return None
