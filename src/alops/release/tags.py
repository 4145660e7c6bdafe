"""A model's GTO tags: versions (``digits@v1.2.0``) and stages (``digits#prod#3``), read and written as GTO does.

GTO (https://github.com/iterative/gto, 1.10) keeps a model registry in annotated
git tags; alops writes the same tags, so ``gto show`` and ``git tag`` tell what
was released and what runs where. What GTO does, and alops with it:

- only annotated tags count; lightweight ones are skipped (they still count
  for the counter, as GTO counts every tag name it can parse);
- a stage tag's counter ``#N`` is one more than the highest counter on any tag
  of that model (GTO's ``name_tag``);
- ``gto show`` orders assignments by the tag's time, in whole seconds, not by
  counter: alops orders them by counter, and never writes two tags of a model
  in the same second, so both orders agree (``gto show --sort semver`` shows
  the greatest version each stage ever had instead, a different question);
- a stage tag's version is the version registered on the same commit;
- ``gto deprecate digits v1.2.0 prod`` (``digits#prod!#4``) and ``gto deprecate digits v1.2.0``
  (``digits@v1.2.0!#5``) take a version out of a stage or out of the registry.

Tag names come from anyone who can push a tag: a name that does not parse is
ignored (``digits@v01.2``, ``Digits@v1.0.0``, ``digits-old@v1.0.0`` for model ``digits``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from alops import proc
from alops.errors import DataError, ToolError
from alops.release.version import Version
from alops.text import redact_output

if TYPE_CHECKING:
    import gitlab

#: Model names (``release.model`` in alops.yaml) and stage names (its environments).
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)
#: GTO's name pattern (gto/constants.py ``name``): stages in tags others wrote may hold these.
_GTO_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9/_-]*[a-zA-Z0-9])?"
#: GTO's semver (gto/constants.py ``semver``), pre-release and build included: GTO sees such tags, alops skips them.
_GTO_SEMVER = (
    r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
#: What follows the model's name in a tag GTO parses (gto/constants.py ``tag_re``).
_TAIL = re.compile(
    rf"(?:@v(?P<version>{_GTO_SEMVER})(?P<deregister>!?)|#(?P<stage>{_GTO_NAME})(?P<unassign>!?)"
    r"|@(?:deprecated|created))(?:#(?P<counter>[0-9]{1,18}))?",
    re.ASCII,
)
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}", re.ASCII)
#: Who tags when git knows nobody (a CI job's clone): GITLAB_USER_* first, see alops.gitpush.committer.
FALLBACK_TAGGER = ("alops", "alops@localhost")


def _check_name(kind: str, value: str) -> None:
    if not NAME.fullmatch(value):
        raise ValueError(f"{kind} {value!r} is not a name: lower-case letters, digits and dashes")


def registration_tag(model: str, version: Version) -> str:
    """GTO's tag that registers ``version``: ``digits@v1.2.0`` (``gto register`` writes no counter)."""
    _check_name("model", model)
    return f"{model}@v{version}"


def assignment_tag(model: str, stage: str, number: int) -> str:
    """GTO's tag that assigns a stage, ``number`` being :meth:`ModelTags.next_number`: ``digits#prod#3``."""
    _check_name("model", model)
    _check_name("stage", stage)
    if number < 1:
        raise ValueError(f"a stage tag's counter starts at 1, not {number}")
    return f"{model}#{stage}#{number}"


def registration_message(model: str, version: Version) -> str:
    """The message ``gto register`` writes, so ``gto history`` reads the same for both."""
    return f"Registering artifact {model} version v{version}"


def assignment_message(model: str, stage: str, version: Version) -> str:
    """The message ``gto assign`` writes."""
    return f"Assigning stage {stage} to artifact {model} version v{version}"


@dataclass(frozen=True)
class Registration:
    model: str
    version: Version
    tag: str
    commit: str


@dataclass(frozen=True)
class Assignment:
    model: str
    stage: str
    number: int
    tag: str
    commit: str
    version: Version | None  # the version registered on ``commit``; None when there is none (or several)


@dataclass(frozen=True)
class ModelTags:
    """What a model's tags say: its versions and the history of its stages."""

    model: str
    registrations: tuple[Registration, ...]  # by version, then counter
    assignments: tuple[Assignment, ...]  # by number
    unassignments: tuple[Assignment, ...] = ()  # ``gto unassign``: ``digits#prod!#4``, by number
    deregistered: frozenset[Version] = frozenset()  # ``gto deregister``, not registered again since
    counter: int = 0  # the highest counter on any tag of the model, the ones alops skips included

    def released(self) -> list[Version]:
        """Every version a registration tag was ever written for, deregistered ones too: not to be released again."""
        return sorted({r.version for r in self.registrations} | self.deregistered)

    def versions(self) -> list[Version]:
        """The registered versions, oldest first (deregistered ones left out)."""
        return sorted({r.version for r in self.registrations} - self.deregistered)

    def commit_of(self, version: Version) -> str | None:
        """The commit ``version`` was registered on; None when it is not registered (or deregistered)."""
        if version in self.deregistered:
            return None
        return next((r.commit for r in self.registrations if r.version == version), None)

    def current(self, stage: str) -> Assignment | None:
        """The stage's latest assignment of a version that is still in it (what ``gto show`` shows for it)."""
        return next((a for a in reversed(self.assignments) if a.stage == stage and self._in_stage(a)), None)

    def previous(self, stage: str) -> Version | None:
        """The version the stage had before its current one: a rollback's target; None when it had no other.

        Walks back from the current assignment to the first of another version that is still registered and
        was not unassigned from the stage: prod 0.1.0 → 0.2.0 → 0.1.0 (a rollback) gives 0.2.0.
        """
        now = self.current(stage)
        if now is None:
            return None
        for a in reversed(self.assignments):
            if a.number < now.number and a.stage == stage and a.version not in (None, now.version):
                if self._in_stage(a):
                    return a.version
        return None

    def next_number(self) -> int:
        """The counter of the model's next stage tag (GTO's rule: the highest on any of its tags, plus one)."""
        return self.counter + 1

    def _in_stage(self, a: Assignment) -> bool:
        if a.version is not None and a.version in self.deregistered:
            return False
        # GTO's VStage.is_active: the version is in the stage when its latest event there is an assignment
        taken = [u.number for u in self.unassignments if u.stage == a.stage and u.commit == a.commit]
        given = max(b.number for b in self.assignments if b.stage == a.stage and b.commit == a.commit)
        return not taken or max(taken) < given


def parse(model: str, refs: Iterable[tuple[str, str]], *, lightweight: Collection[str] = ()) -> ModelTags:
    """A model's tags from ``(tag name, commit)`` pairs of annotated tags; ``lightweight``: other tag names.

    Tags of other models and names GTO would not parse are ignored; lightweight tags count only for the counter.
    """
    _check_name("model", model)
    counter = 0
    registered: list[tuple[Version, int, str, str]] = []
    dropped: dict[Version, int] = {}
    stages: list[tuple[bool, str, int, str, str]] = []
    for name, commit in refs:
        match = _match(model, name)
        if match is None:
            continue
        number = int(match["counter"]) if match["counter"] else 0
        counter = max(counter, number)
        if not _COMMIT.fullmatch(commit):
            continue
        if match["version"] is not None:
            try:
                version = Version.parse(match["version"])
            except ValueError:  # a pre-release or build (GTO's semver): not an alops version
                continue
            if match["deregister"]:
                dropped[version] = max(dropped.get(version, -1), number)
            else:
                registered.append((version, number, name, commit))
        elif match["stage"] is not None and number and NAME.fullmatch(match["stage"]):
            stages.append((bool(match["unassign"]), match["stage"], number, name, commit))
    for name in lightweight:
        match = _match(model, name)
        if match is not None and match["counter"]:
            counter = max(counter, int(match["counter"]))
    registered.sort()
    latest = {v: n for v, n, _, _ in registered}
    deregistered = frozenset(v for v, n in dropped.items() if n >= latest.get(v, -1))
    on_commit: dict[str, set[Version]] = {}
    for version, _, _, commit in registered:
        on_commit.setdefault(commit, set()).add(version)

    def version_at(commit: str) -> Version | None:
        found = on_commit.get(commit, set())
        return next(iter(found)) if len(found) == 1 else None  # GTO refuses two versions on one commit too

    made = sorted(
        (
            (number, unassign, Assignment(model, stage, number, name, commit, version_at(commit)))
            for unassign, stage, number, name, commit in stages
        ),
        key=lambda m: (m[0], m[1], m[2].tag),  # two tags with one counter (hand-made): still one order
    )
    return ModelTags(
        model,
        tuple(Registration(model, v, name, commit) for v, _, name, commit in registered),
        tuple(a for _, unassign, a in made if not unassign),
        tuple(a for _, unassign, a in made if unassign),
        deregistered,
        counter,
    )


def _match(model: str, name: str) -> re.Match[str] | None:
    if not name.startswith(model) or len(name) > 1000:
        return None
    return _TAIL.fullmatch(name, len(model))


def model_of(name: str) -> str | None:
    """The model a tag alops writes belongs to (``digits#prod#3`` → ``digits``); None for other names."""
    head = re.match(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?=[@#])", name, re.ASCII)
    if head is None or _match(head.group(), name) is None:
        return None
    return head.group()


class TagStore(Protocol):
    """Where a project's tags live: the local clone (:class:`LocalTags`) or GitLab (:class:`GitLabTags`)."""

    def read(self, model: str) -> ModelTags: ...

    def create(self, name: str, commit: str, message: str) -> None: ...


def _check_new(name: str, commit: str) -> None:
    if model_of(name) is None:
        raise ValueError(f"{name!r} is not a GTO tag of a model")
    if not _COMMIT.fullmatch(commit):
        raise ValueError(f"{commit!r} is not a full commit id")


class LocalTags:
    """The tags of a local git repository (``git for-each-ref``, ``git tag -a``)."""

    def __init__(self, repo: Path, env: Mapping[str, str]) -> None:
        self.repo = repo
        self.env = dict(env)
        self.where = f"the git repository at {repo}"

    def read(self, model: str) -> ModelTags:
        _check_name("model", model)
        # %(*...) is the object an annotated tag points at; empty for a lightweight tag
        fields = "%(refname:strip=2)%00%(objecttype)%00%(*objecttype)%00%(*objectname)"
        try:
            out = proc.run(
                ["git", "for-each-ref", f"--format={fields}", *_patterns(model)], cwd=self.repo, env=self.env
            )
        except UnicodeError:
            raise DataError(
                f"a tag of {model} in {self.repo} has a name that is not UTF-8 text: list them with "
                f"`git for-each-ref 'refs/tags/{model}*'` and delete that one"
            ) from None
        annotated: list[tuple[str, str]] = []
        lightweight: list[str] = []
        for line in out.stdout.split("\n"):  # not splitlines(): a name may hold U+2028 and other "line ends"
            parts = line.split("\0")
            if len(parts) != 4:
                continue
            name, kind, target, commit = parts
            if kind == "tag" and target == "commit":
                annotated.append((name, commit))
            else:  # lightweight, or a tag of a tag or a tree: GTO still counts its counter
                lightweight.append(name)
        return parse(model, annotated, lightweight=lightweight)

    def create(self, name: str, commit: str, message: str) -> None:
        """An annotated tag ``name`` on ``commit``; DataError when a tag of that name exists."""
        from alops.gitpush import committer

        _check_new(name, commit)
        if self._exists(name):
            raise DataError(f"tag {name} exists already in {self.repo}: alops never moves a tag")
        env = committer(self.repo, self.env, FALLBACK_TAGGER)
        env.pop("GIT_COMMITTER_DATE", None)  # GTO orders by the tag's time: it must be the real one
        self._after_newest(str(model_of(name)), env)
        done = proc.run(["git", "tag", "-a", "-m", message, name, commit], cwd=self.repo, env=env, check=False)
        if done.returncode != 0:
            if self._exists(name):
                raise DataError(f"tag {name} exists already in {self.repo} (created meanwhile): run again")
            said = redact_output(done.stderr or done.stdout, env).strip()
            raise ToolError(f"`git tag -a {name}` failed with exit code {done.returncode}: {said}")

    def _exists(self, name: str) -> bool:
        done = proc.run(
            ["git", "rev-parse", "-q", "--verify", f"refs/tags/{name}"], cwd=self.repo, env=self.env, check=False
        )
        return done.returncode == 0

    def _after_newest(self, model: str, env: Mapping[str, str]) -> None:
        """Wait, if need be, until the clock is past the newest tag of ``model``: no two in the same second."""
        args = ["git", "for-each-ref", "--format=%(taggerdate:unix)", *_patterns(model)]  # empty for lightweight
        dates = proc.run(args, cwd=self.repo, env=env, check=False).stdout.split()
        newest = max((int(d) for d in dates if d.isascii() and d.isdigit() and len(d) < 19), default=None)
        if newest is not None:
            _wait_past(newest)


def _patterns(model: str) -> list[str]:
    """``for-each-ref`` patterns of a model's tags; ``*`` stops at a ``/``, which GTO's stage names may hold."""
    return [f"refs/tags/{model}{sep}*{deep}" for sep in "@#" for deep in ("", "/**")]


def _wait_past(second: int) -> None:
    """Sleep until the clock reads a later second than ``second`` (at most 2 s: a clock further behind is another's)."""
    deadline = second + 1
    if deadline - time.time() > 2:
        return
    while (left := deadline - time.time()) > 0:
        time.sleep(left + 0.005)  # sleep counts on the monotonic clock: look at the wall clock again after it


class GitLabTags:
    """The tags of a GitLab project, through python-gitlab (needs a token with the api scope)."""

    def __init__(self, client: gitlab.Gitlab, project_id: int | str) -> None:
        self.client = client
        self.project_id = project_id
        self.where = f"GitLab project {project_id}"
        self._last = 0

    def read(self, model: str) -> ModelTags:
        import gitlab.exceptions

        from alops.gitlab import api_error, reaching

        _check_name("model", model)
        annotated: list[tuple[str, str]] = []
        lightweight: list[str] = []
        try:
            with reaching(self.client):
                project = self.client.projects.get(self.project_id, lazy=True)
                for tag in project.tags.list(search=f"^{model}", iterator=True, per_page=100):
                    name, commit = str(tag.name), _commit_id(tag.commit)
                    # a lightweight tag has no message (null) and its target is the commit; an annotated
                    # one's target is the tag object
                    if getattr(tag, "message", None) is not None or getattr(tag, "target", commit) != commit:
                        annotated.append((name, commit))
                    else:
                        lightweight.append(name)
        except gitlab.exceptions.GitlabError as exc:
            raise api_error(exc, self.client, f"list the tags of {model} in project {self.project_id}") from None
        return parse(model, annotated, lightweight=lightweight)

    def create(self, name: str, commit: str, message: str) -> None:
        """An annotated tag ``name`` on ``commit`` (``POST /projects/:id/repository/tags``)."""
        import gitlab.exceptions

        from alops import env as variables
        from alops.gitlab import api_error, reaching

        _check_new(name, commit)
        _wait_past(self._last)  # GitLab dates the tag: in one process at least, never two in one second
        try:
            with reaching(self.client):
                project = self.client.projects.get(self.project_id, lazy=True)
                project.tags.create({"tag_name": name, "ref": commit, "message": message})
        except gitlab.exceptions.GitlabError as exc:
            code = getattr(exc, "response_code", None)
            said = str(getattr(exc, "error_message", "") or exc)
            if code == 400 and "already exists" in said:
                raise DataError(
                    f"tag {name} exists already in project {self.project_id}: alops never moves a tag"
                ) from None
            error = api_error(exc, self.client, f"create tag {name} in project {self.project_id}")
            if code in (401, 403):
                raise DataError(
                    f"{error.message}. Creating a tag needs {variables.GITLAB_TOKEN} (CI_JOB_TOKEN cannot); "
                    "when a protected tag rule matches the name (Settings > Repository > Protected tags, such "
                    "as `*@v*` or `*#*`), the token's role must be allowed to create it there"
                ) from None
            raise error from None
        finally:
            self._last = int(time.time())


def _commit_id(commit: Any) -> str:
    return str(commit.get("id", "")) if isinstance(commit, dict) else ""
