"""The last step of a release: the GTO registration tag, and on GitLab a Release on it.

On GitLab one call of the Releases API creates both: the annotated tag
(``tag_message``) on the run's commit (``ref``) and the Release with its notes
and asset links. The job token may call it
(https://docs.gitlab.com/api/releases/: JOB-TOKEN accepted since GitLab 14.5),
while the Tags API takes no job token (gitlab-org/gitlab#433303), so a release
needs no other token. Without GitLab the tag is made in the local repository
and the notes stay a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import gitlab

    from alops.release.notes import Link


@dataclass(frozen=True)
class Published:
    tag: str
    url: str | None  # the GitLab Release's page; None for a local release


class Publisher(Protocol):
    where: str

    def publish(
        self, *, tag: str, commit: str, message: str, title: str, notes: str, links: Sequence[Link]
    ) -> Published: ...


class LocalPublisher:
    """An annotated tag in the local repository (``git tag -a``); the notes are the release folder's file."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root, self.env = root, env
        self.where = f"the git repository {root.resolve()}"

    def publish(
        self, *, tag: str, commit: str, message: str, title: str, notes: str, links: Sequence[Link]
    ) -> Published:
        from alops.release.tags import LocalTags

        LocalTags(self.root, self.env).create(tag, commit, message)
        return Published(tag, None)


class GitLabReleases:
    """A GitLab Release and its annotated tag, through python-gitlab."""

    def __init__(self, client: gitlab.Gitlab, project_id: str) -> None:
        self.client, self.project_id = client, project_id
        self.where = f"GitLab project {project_id}"

    def publish(
        self, *, tag: str, commit: str, message: str, title: str, notes: str, links: Sequence[Link]
    ) -> Published:
        import gitlab

        from alops.gitlab import MAX_DESCRIPTION, api_error, reaching

        body: dict[str, Any] = {
            "name": title,
            "tag_name": tag,
            "ref": commit,
            "tag_message": message,
            "description": notes[:MAX_DESCRIPTION],
            "assets": {"links": [{"name": lk.name, "url": lk.url, "link_type": lk.kind} for lk in links]},
        }
        project = self.client.projects.get(self.project_id, lazy=True)
        try:
            with reaching(self.client):
                made = project.releases.create(body)
        except gitlab.exceptions.GitlabError as exc:
            raise api_error(exc, self.client, f"creating the release {tag}") from exc
        web = (getattr(made, "_links", None) or {}).get("self")
        return Published(tag, web if isinstance(web, str) else None)
