"""Is a job image's tag in this project's container registry, and under which digest?

GitLab's container registry API (https://docs.gitlab.com/api/container_registry/):
``GET /projects/:id/registry/repositories`` lists the project's image repositories,
each with its ``location`` (``registry.example.com/group/project/alops-job``);
``GET /projects/:id/registry/repositories/:repository_id/tags/:tag_name`` gives one
tag's ``digest``. python-gitlab exposes them as ``project.repositories`` and
``repository.tags`` (ProjectRegistryRepository, ProjectRegistryTag). A job token
reads its own project's registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alops import env as variables
from alops.errors import ConfigError, ToolError
from alops.image.inputs import ImageTag

if TYPE_CHECKING:
    import gitlab

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class Resolved:
    """A job image tag and, when the registry has it, the digest it points at."""

    image: ImageTag
    digest: str | None

    @property
    def pinned(self) -> str | None:
        """``NAME@sha256:…``, or None when the tag must still be built."""
        return f"{self.image.name}@{self.digest}" if self.digest else None


def lookup(image: ImageTag, env: Mapping[str, str]) -> Resolved:
    """The digest of ``image`` in the registry of project ``$CI_PROJECT_ID``; None when it is not there."""
    import gitlab.exceptions

    from alops.gitlab import client_from_env, reaching

    project_id = env.get(variables.CI_PROJECT_ID, "")
    if not project_id:
        raise ConfigError(
            f"{variables.CI_PROJECT_ID} is not set: run alops image resolve in a CI job, or set it to the "
            "project whose container registry holds the job images"
        )
    client = client_from_env(env)
    what = f"read the container registry of project {project_id}"
    try:
        with reaching(client):
            project = client.projects.get(project_id, lazy=True)
            repository = next((r for r in project.repositories.list(iterator=True) if r.location == image.name), None)
    except gitlab.exceptions.GitlabError as exc:
        # Refused (401/403) or a missing project: the plan job cannot go on without the answer.
        raise _failed(exc, client, what) from None
    if repository is None:
        return Resolved(image, None)  # nothing pushed under this name yet
    try:
        with reaching(client):
            tag = repository.tags.get(image.tag)
    except gitlab.exceptions.GitlabError as exc:
        if getattr(exc, "response_code", None) == 404:
            return Resolved(image, None)  # the repository exists, this tag does not
        raise _failed(exc, client, what) from None
    digest = str(getattr(tag, "digest", "") or "")
    if not _DIGEST.match(digest):
        raise ToolError(f"GitLab gave {image.ref} the digest {digest!r}, not sha256:<64 hex>: retry the job")
    return Resolved(image, digest)


def _failed(exc: Exception, client: gitlab.Gitlab, what: str) -> ToolError:
    """api_error's message, as exit code 3 (the plan job cannot choose an image), with the registry's scopes."""
    from alops.gitlab import api_error

    message = str(api_error(exc, client, what))
    if getattr(exc, "response_code", None) in (401, 403):
        message += (
            f"; for the registry: {variables.CI_JOB_TOKEN} reads its own project's registry, "
            f"a token in {variables.GITLAB_TOKEN} needs the read_registry or api scope"
        )
    return ToolError(message)
