"""alops's GitLab API layer: a thin, typed wrapper over python-gitlab.

Every call to GitLab's HTTP API goes through here, so the token is read in one
place and never shows in a message: errors say which variable to set and what
GitLab answered, with the token cut out. python-gitlab is imported inside the
functions; ``alops flow`` never pays for it.

Settings, first found wins: ``ALOPS_GITLAB_URL``, ``CI_SERVER_URL``,
``CI_API_V4_URL`` (without ``/api/v4``) for the server; ``ALOPS_GITLAB_TOKEN``
(a project access token) or else ``CI_JOB_TOKEN`` for authentication.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from alops import __version__
from alops import env as variables
from alops.errors import AlopsError, ConfigError, DataError, ToolError

if TYPE_CHECKING:
    import gitlab

TOKEN_VARIABLE = variables.GITLAB_TOKEN
#: GitLab refuses descriptions longer than this (1 MiB of characters).
MAX_DESCRIPTION = 1_000_000
_TIMEOUT_S = 30


def server_url(env: Mapping[str, str]) -> str:
    """The GitLab server's base URL (``https://gitlab.example.com``)."""
    url = env.get(variables.GITLAB_URL) or env.get(variables.CI_SERVER_URL)
    if not url and env.get(variables.CI_API_V4_URL):
        url = env[variables.CI_API_V4_URL].removesuffix("/").removesuffix("/api/v4")
    if not url:
        raise ConfigError(
            "the GitLab server is unknown: set ALOPS_GITLAB_URL (e.g. https://gitlab.example.com); "
            "in a CI job GitLab sets CI_SERVER_URL"
        )
    return url.rstrip("/")


def write_token(env: Mapping[str, str]) -> str:
    """The project access token that may push branches and open merge requests."""
    token = env.get(TOKEN_VARIABLE, "")
    if not token.strip():
        raise DataError(
            f"{TOKEN_VARIABLE} is not set: create a project access token with the write_repository and api "
            f"scopes (role Developer or higher) and add it as the CI/CD variable {TOKEN_VARIABLE}, masked and "
            "protected, so only pipelines of protected branches can read it (CI_JOB_TOKEN cannot push or open "
            "merge requests)"
        )
    return token.strip()


def token_client(env: Mapping[str, str], *, command: str, token: str, job_token_cannot: str) -> gitlab.Gitlab:
    """A client with ``ALOPS_GITLAB_TOKEN`` for what a job token cannot do; without it, the DataError naming it.

    ``command`` needs ``token`` (which kind, its scopes and role); ``job_token_cannot`` ends
    the note added when only ``CI_JOB_TOKEN`` is set.
    """
    if not env.get(TOKEN_VARIABLE, "").strip():
        also = (
            f" (CI_JOB_TOKEN is set, but a job token cannot {job_token_cannot})"
            if env.get(variables.CI_JOB_TOKEN)
            else ""
        )
        raise DataError(f"{command} needs {TOKEN_VARIABLE}: {token}{also}")
    return client_from_env(env, require_write=True)


def client_from_env(env: Mapping[str, str], *, require_write: bool = False, anonymous: bool = False) -> gitlab.Gitlab:
    """A python-gitlab client for this server and token; nothing is sent until it is used.

    With ``require_write`` only ``ALOPS_GITLAB_TOKEN`` will do (a job token
    cannot open merge requests); otherwise ``CI_JOB_TOKEN`` is the fallback.
    ``anonymous``: no token at all (the trigger API takes its token in the body).
    """
    import gitlab

    url = server_url(env)
    options = {"timeout": _TIMEOUT_S, "retry_transient_errors": True, "user_agent": f"alops/{__version__}"}
    if anonymous:
        return gitlab.Gitlab(url, **options)  # type: ignore[arg-type]
    if require_write or env.get(TOKEN_VARIABLE, "").strip():
        return gitlab.Gitlab(url, private_token=write_token(env), **options)  # type: ignore[arg-type]
    if env.get(variables.CI_JOB_TOKEN):
        return gitlab.Gitlab(url, job_token=env[variables.CI_JOB_TOKEN], **options)  # type: ignore[arg-type]
    write_token(env)  # raises the message that says what to set
    raise AssertionError("unreachable")  # pragma: no cover


def open_merge_request(
    client: gitlab.Gitlab,
    project_id: int | str,
    *,
    source: str,
    target: str,
    title: str,
    description: str,
) -> str:
    """Open a merge request from ``source`` into ``target``; return its web URL.

    An open merge request of the same source branch is reused (its title and
    description updated), so a rerun job does not open a second one.
    """
    import gitlab.exceptions

    description = _clip(description)
    try:
        project = client.projects.get(project_id, lazy=True)
        found = project.mergerequests.list(source_branch=source, state="opened", get_all=False)
        if found:
            mr = found[0]
            mr.title, mr.description = title, description
            mr.save()
        else:
            data = {
                "source_branch": source,
                "target_branch": target,
                "title": title,
                "description": description,
                "remove_source_branch": True,
            }
            mr = project.mergerequests.create(data)
    except gitlab.exceptions.GitlabError as exc:
        raise api_error(exc, client, f"open a merge request in project {project_id}") from None
    return str(mr.web_url)


@contextmanager
def reaching(client: gitlab.Gitlab) -> Iterator[None]:
    """A server that cannot be reached (DNS, refused, timed out after python-gitlab's retries) as a ToolError."""
    import requests

    try:
        yield
    except requests.exceptions.RequestException as exc:
        raise ToolError(
            f"GitLab at {client.url} cannot be reached ({redact(str(exc), client)}): check "
            f"{variables.GITLAB_URL} / {variables.CI_SERVER_URL} and the network"
        ) from None


def quote_ref(ref: str) -> str:
    """``ref`` as one path segment of an API URL (``experiment/lr`` → ``experiment%2Flr``).

    python-gitlab puts a ref name into the path as given; GitLab would read the
    slash of ``experiment/lr`` as a path separator.
    """
    from urllib.parse import quote

    return quote(ref, safe="")


def artifact_file(client: gitlab.Gitlab, project_id: int | str, *, ref: str, job: str, path: str) -> bytes | None:
    """One file of the artifacts of job ``job`` in ``ref``'s latest successful pipeline; None when there is none.

    GitLab's ``GET /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path?job=NAME``
    (https://docs.gitlab.com/api/job_artifacts/), with the ref URL-encoded.
    """
    import gitlab.exceptions

    try:
        with reaching(client):
            project = client.projects.get(project_id, lazy=True)
            data = project.artifacts.raw(quote_ref(ref), path, job)
    except gitlab.exceptions.GitlabError as exc:
        if getattr(exc, "response_code", None) == 404:
            return None
        raise api_error(exc, client, f"read {path} from the artifacts of job {job} on {ref}") from None
    return bytes(data) if isinstance(data, (bytes, bytearray)) else None


def job_artifact_file(client: gitlab.Gitlab, project_id: int | str, job_id: int, path: str) -> bytes | None:
    """One file of one job's artifacts (``GET /projects/:id/jobs/:job_id/artifacts/*path``); None when absent."""
    import gitlab.exceptions

    try:
        with reaching(client):
            job = client.projects.get(project_id, lazy=True).jobs.get(job_id, lazy=True)
            data = job.artifact(path)
    except gitlab.exceptions.GitlabError as exc:
        if getattr(exc, "response_code", None) == 404:
            return None
        raise api_error(exc, client, f"read {path} from the artifacts of job {job_id}") from None
    return bytes(data) if isinstance(data, (bytes, bytearray)) else None


def api_error(exc: Exception, client: gitlab.Gitlab, what: str) -> AlopsError:
    """The AlopsError for a failed API call: what failed, what GitLab said, what to do; no token."""
    import gitlab.exceptions

    code = getattr(exc, "response_code", None)
    said = redact(str(getattr(exc, "error_message", "") or exc), client)
    if isinstance(exc, gitlab.exceptions.GitlabAuthenticationError) or code in (401, 403):
        return DataError(
            f"GitLab refused to {what} ({code}: {said}): check that {TOKEN_VARIABLE} is a project access token "
            "that has not expired, with the api and write_repository scopes and role Developer or higher"
        )
    if code == 404:
        return ConfigError(f"GitLab cannot {what}: not found ({said}); check CI_PROJECT_ID / CI_PROJECT_PATH")
    return ToolError(f"GitLab failed to {what}" + (f" ({code}: {said})" if code else f": {said}"))


def redact(text: str, client: gitlab.Gitlab) -> str:
    """``text`` with the client's token replaced by ``***``, and URL credentials and AWS key ids masked."""
    from alops.text import redact_output

    tokens = {"PRIVATE_TOKEN": client.private_token, "JOB_TOKEN": client.job_token, "OAUTH_TOKEN": client.oauth_token}
    return redact_output(text, {name: token for name, token in tokens.items() if token})


def _clip(text: str) -> str:
    if len(text) <= MAX_DESCRIPTION:
        return text
    return text[: MAX_DESCRIPTION - 80] + "\n\n… (cut: GitLab keeps at most 1,000,000 characters)\n"
