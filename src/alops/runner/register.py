"""Create alops's runners in GitLab with the runner-creation API (``glrt-`` tokens), once each.

``POST /user/runners`` (https://docs.gitlab.com/api/users/#create-a-runner-linked-to-a-user)
takes every setting GitLab keeps for a runner: tags, "run untagged jobs", protected
(``access_level``), locked, maximum timeout. With a ``glrt-`` token,
``gitlab-runner register`` refuses those flags (``--locked``, ``--access-level``,
``--run-untagged``, ``--maximum-timeout``, ``--paused``, ``--tag-list``,
``--maintenance-note``: https://docs.gitlab.com/ci/runners/new_creation_workflow/), so
they are chosen here and :func:`host_command` never prints them.

The description names the runner: when the group or project already has a runner
with that description, nothing is created; its settings are read
(``GET /runners/:id``: the group/project lists carry no tags) and every difference
from the request is reported, never changed.
"""

from __future__ import annotations

import os
import secrets
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops import gitlab as api
from alops.atomic import writing_to
from alops.errors import AlopsError, ConfigError, DataError, ToolError
from alops.text import quote

if TYPE_CHECKING:
    from pathlib import Path

    import gitlab

#: The token's scopes: POST /user/runners takes create_runner; the lookups (GET /groups/:id/runners,
#: GET /runners/:id) take manage_runner (GitLab 17.1 and later; api before):
#: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/153285
SCOPES_NEEDED = "the create_runner and manage_runner scopes (api before GitLab 17.1)"
KINDS = ("gpu", "cpu")
SCOPES = ("group", "project")
EXECUTORS = ("docker", "kubernetes", "docker-autoscaler")
#: Seconds: a training job may take hours, a CPU job should not.
DEFAULT_TIMEOUT = {"gpu": 21600, "cpu": 3600}
#: The tags of runners.yaml when alops.yaml names none (CPU jobs untagged: the runner takes untagged jobs).
DEFAULT_TAGS = {"gpu": ("gpu",), "cpu": ("docker",)}
#: GitLab's lower bound for a runner's maximum timeout (https://docs.gitlab.com/ci/runners/configure_runners/).
MIN_TIMEOUT = 600
#: The shell variable the printed host command reads the token from: the value is never printed.
TOKEN_ENV = "RUNNER_TOKEN"
_MAX_TEXT = 255  # description and tag names: GitLab keeps at most 255 characters of each


@dataclass(frozen=True)
class RunnerRequest:
    """One runner as GitLab should keep it."""

    kind: str  # "gpu" or "cpu"
    scope: str  # "group" or "project"
    target: str  # the group's or project's id or full path
    description: str
    tags: tuple[str, ...]
    run_untagged: bool
    access_level: str  # "ref_protected" or "not_protected"
    maximum_timeout: int

    @property
    def locked(self) -> bool:
        """Project runners are locked to their project; GitLab ignores ``locked`` for group runners."""
        return self.scope == "project"


@dataclass(frozen=True)
class Registered:
    """What :func:`register` did: ``token`` is set only for a runner it created (GitLab shows it once)."""

    id: int
    token: str | None
    created: bool
    #: For an existing runner: each setting that differs (``tag_list: ['cpu'] -> ['gpu']``).
    differences: tuple[str, ...] = ()


def request_for(
    kind: str,
    scope: str,
    target: str,
    *,
    configured_tags: Sequence[str],
    description: str | None = None,
    tags: Sequence[str] = (),
    maximum_timeout: int | None = None,
    protected: bool = False,
) -> RunnerRequest:
    """The request for a ``kind`` runner, alops's defaults filled in and every value checked.

    ``configured_tags`` is alops.yaml's ``runners.<kind>`` (the tags the templates give
    those jobs). GPU runners never run untagged jobs and take only protected refs; a CPU
    runner runs untagged jobs exactly when the CPU jobs are untagged, and takes only
    protected refs with ``protected`` (a runner for full-data CPU jobs).
    """
    if kind not in KINDS or scope not in SCOPES:
        raise ConfigError(f"a runner is one of {KINDS} for one of {SCOPES}, not {kind!r} for {scope!r}")
    target = target.strip()
    if not target:
        raise ConfigError(f"the {scope} is empty: give its numeric id or full path (e.g. ml/vision)")
    chosen = tuple(tags) or tuple(configured_tags) or DEFAULT_TAGS[kind]
    name = description if description is not None else f"alops-{kind}-{target.replace('/', '-')}"
    timeout = DEFAULT_TIMEOUT[kind] if maximum_timeout is None else maximum_timeout
    _check_text("description", name)
    for tag in chosen:
        _check_text("tag", tag)
        if "," in tag:
            raise ConfigError(f"the tag {quote(tag)} holds a comma: GitLab splits tags on commas; give each with --tag")
    if timeout < MIN_TIMEOUT:
        raise ConfigError(f"--maximum-timeout {timeout} is below GitLab's minimum of {MIN_TIMEOUT} seconds")
    gpu = kind == "gpu"
    return RunnerRequest(
        kind=kind,
        scope=scope,
        target=target,
        description=name,
        tags=tuple(dict.fromkeys(chosen)),
        run_untagged=False if gpu else not configured_tags,
        access_level="ref_protected" if gpu or protected else "not_protected",
        maximum_timeout=timeout,
    )


def describe(request: RunnerRequest) -> str:
    """The settings of ``request`` in one line, tags quoted."""
    protected = "protected refs only" if request.access_level == "ref_protected" else "any ref"
    return (
        f"tags [{', '.join(quote(t) for t in request.tags)}], untagged jobs {'yes' if request.run_untagged else 'no'}, "
        f"{protected}, maximum timeout {request.maximum_timeout} s"
        + (", locked to the project" if request.locked else "")
    )


def _check_text(what: str, text: str) -> None:
    if not text.strip() or text != text.strip() or not text.isprintable() or len(text) > _MAX_TEXT:
        raise ConfigError(
            f"the runner {what} {quote(text[:80])} is not usable: give 1 to {_MAX_TEXT} printable characters "
            "without leading or trailing spaces (no newlines or control characters)"
        )


def client(env: Mapping[str, str]) -> gitlab.Gitlab:
    """A client with ``ALOPS_GITLAB_TOKEN``: a job token cannot create runners."""
    return api.token_client(
        env,
        command="alops runner register",
        token=f"a personal, group or project access token with {SCOPES_NEEDED}, of a user with the Owner role of "
        "the group (Maintainer of the project for a project runner)",
        job_token_cannot="create runners",
    )


def check_token_file(path: Path) -> None:
    """Refuse, before anything is created, a token file that may hold another runner's token or cannot be written."""
    if path.exists() and (not path.is_file() or path.stat().st_size > 0):
        raise ConfigError(
            f"{quote(str(path))} already exists: it may hold another runner's token; delete it or give another "
            "--token-file (nothing was created)"
        )
    folder = path.absolute().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ToolError(f"cannot write the token into {quote(str(folder))}: make it writable (nothing was created)")


def write_token_file(path: Path, token: str) -> None:
    """Write ``token`` to ``path``, mode 0600 from its first byte, through a temporary file renamed over it."""
    tmp = path.with_name(f".{path.name}.alops-tmp-{secrets.token_hex(4)}")
    with writing_to(path, shown=str(path)):
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(token + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)  # whatever the umask
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def register(
    gl: gitlab.Gitlab, request: RunnerRequest, *, before_create: Callable[[], None] | None = None
) -> Registered:
    """Create the runner unless the group/project has one with its description; see the module's docstring.

    ``before_create`` runs after the read-only lookups and before the POST (the CLI
    checks there that it can keep the token): when it raises, nothing was created.
    """
    import gitlab.exceptions
    from gitlab.v4.objects import CurrentUserRunnerManager

    what = f"read the runners of {request.scope} {quote(request.target)}"
    try:
        with api.reaching(gl):
            owner_id, runners = _owner(gl, request)
            same = sorted(int(r.id) for r in runners if str(getattr(r, "description", "")) == request.description)
            if same:
                what = f"read runner #{same[0]}"
                details = gl.runners.get(same[0])
                differences = _differences(details.attributes, request, owner_id)
                if len(same) > 1:
                    differences += (f"{len(same)} runners have this description: {', '.join(f'#{i}' for i in same)}",)
                return Registered(same[0], None, False, differences)
            if before_create is not None:
                before_create()
            what = f"create the runner {quote(request.description)} in {request.scope} {quote(request.target)}"
            # `gl.user.runners` exists only after `gl.auth()` (one more request, GET /user): the manager
            # is used directly, the same POST /user/runners.
            made = CurrentUserRunnerManager(gl).create(_body(request, owner_id))
    except gitlab.exceptions.GitlabError as exc:
        raise _error(exc, gl, what, request) from None
    token = str(made.attributes.get("token") or "")
    return Registered(int(made.id), token or None, True)


def _owner(gl: gitlab.Gitlab, request: RunnerRequest) -> tuple[int, list[Any]]:
    """The group's or project's numeric id (POST /user/runners takes no path) and its runners of that type."""
    manager = gl.groups if request.scope == "group" else gl.projects
    numeric = request.target.isascii() and request.target.isdigit()
    owner = manager.get(request.target, lazy=numeric)
    # The lists have filters for type, status, paused and tags, none for the description:
    # https://docs.gitlab.com/api/runners/#list-groups-runners
    found = owner.runners.list(type=f"{request.scope}_type", get_all=True)
    return int(owner.id if not numeric else request.target), list(found)


def _body(request: RunnerRequest, owner_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "runner_type": f"{request.scope}_type",
        f"{request.scope}_id": owner_id,
        "description": request.description,
        "paused": False,
        "run_untagged": request.run_untagged,
        "tag_list": list(request.tags),
        "access_level": request.access_level,
        "maximum_timeout": request.maximum_timeout,
    }
    if request.scope == "project":
        body["locked"] = True
    return body


def _differences(have: dict[str, Any], request: RunnerRequest, owner_id: int) -> tuple[str, ...]:
    """What GET /runners/:id says that the request does not (its fields: https://docs.gitlab.com/api/runners/)."""
    want: dict[str, Any] = {
        "paused": False,
        "tag_list": sorted(request.tags),
        "run_untagged": request.run_untagged,
        "access_level": request.access_level,
        "maximum_timeout": request.maximum_timeout,
    }
    if request.scope == "project":
        want["locked"] = True
    out = []
    for key, value in want.items():
        current = have.get(key)
        if key == "tag_list" and isinstance(current, list):
            current = sorted(str(t) for t in current)
        if current != value:
            out.append(f"{key}: {_show(current)} -> {_show(value)}")
    # The group list holds the runners of the ancestor groups too, the project list those
    # enabled from other projects: such a runner serves this one, but is not its own.
    owners = have.get(f"{request.scope}s")
    if isinstance(owners, list) and owners and owner_id not in {o.get("id") for o in owners if isinstance(o, dict)}:
        ids = ", ".join(f"#{o.get('id')}" for o in owners if isinstance(o, dict))
        out.append(f"it belongs to {request.scope} {ids}, not to {request.scope} #{owner_id}")
    return tuple(out)


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "unset"
    if isinstance(value, list):
        return "[" + ", ".join(quote(str(v)) for v in value) + "]"
    return quote(value) if isinstance(value, str) else str(value)


def _error(exc: Exception, gl: gitlab.Gitlab, what: str, request: RunnerRequest) -> AlopsError:
    code = getattr(exc, "response_code", None)
    if code == 404 and what.startswith("read the runners"):
        return ConfigError(
            f"GitLab cannot {what}: {request.scope} {quote(request.target)} was not found: give --{request.scope} "
            "its numeric id or full path (e.g. ml/vision), one the token's user can see"
        )
    if code not in (401, 403):
        return api.api_error(exc, gl, what)
    said = api.redact(str(getattr(exc, "error_message", "") or exc), gl)
    role = "the Owner role of the group" if request.scope == "group" else "the Maintainer or Owner role of the project"
    return DataError(
        f"GitLab refused to {what} ({code}: {said}): {api.TOKEN_VARIABLE} must be a personal, group or project "
        f"access token that has not expired, with {SCOPES_NEEDED}, of a user with {role}"
    )


def host_command(url: str, executor: str, image: str, description: str, *, gpu: bool) -> list[str]:
    """The command that finishes the set-up on the runner's host; the token is the argument ``$RUNNER_TOKEN``.

    Only settings the host keeps (URL, token, executor, image, GPUs, name): the ones
    GitLab keeps were given at creation. For ``kubernetes`` the Helm chart registers
    itself from a secret, so the command is that secret's ``kubectl create``
    (runners/README.md, section Kubernetes).
    """
    token = "$" + TOKEN_ENV
    if executor == "kubernetes":
        return [
            "kubectl", "-n", "gitlab-runner", "create", "secret", "generic", description,
            "--from-literal=runner-registration-token=", f"--from-literal=runner-token={token}",
        ]  # fmt: skip
    argv = ["gitlab-runner", "register", "--non-interactive", "--url", url, "--token", token]
    argv += ["--executor", executor, "--docker-image", image, "--description", description]
    if gpu:
        # config.toml's [runners.docker] gpus, as `docker run --gpus` (https://docs.gitlab.com/runner/configuration/gpus/).
        argv += ["--docker-gpus", "all"]
    return argv


def shell_line(argv: Sequence[str]) -> str:
    """``argv`` of :func:`host_command` as one shell line: every word quoted but the token, ``"$RUNNER_TOKEN"``.

    Only the token's own places are left to the shell (the word after ``--token``, the
    kubectl secret's last word), so a description that reads ``$RUNNER_TOKEN`` stays literal.
    """
    token = "$" + TOKEN_ENV
    literal = "--from-literal=runner-token="
    words = []
    for i, arg in enumerate(argv):
        if arg == token and i > 0 and argv[i - 1] == "--token":
            words.append(f'"{token}"')
        elif arg == literal + token and i == len(argv) - 1 and argv[0] == "kubectl":
            words.append(f'{literal}"{token}"')
        else:
            words.append(shlex.quote(arg))
    return " ".join(words)
