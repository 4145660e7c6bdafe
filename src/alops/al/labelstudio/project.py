"""Find the loop's Label Studio project by its title, create it, or bring its interface up to date with alops.yaml."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alops.al.labelstudio import interface
from alops.al.labelstudio.connection import Connection
from alops.errors import ConfigError
from alops.text import quote

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


@dataclass(frozen=True)
class Project:
    """The project alops works with: its server id, and what was done to it."""

    id: int
    title: str
    action: str  # "created", "updated" (interface or instructions changed) or "unchanged"


def find(conn: Connection, client: LabelStudio, title: str) -> int | None:
    """The id of the one project titled ``title`` (exactly), None when there is none."""

    def lookup(_: int) -> list[int]:
        # The server's title filter matches parts of titles: keep the exact ones.
        pages: Iterable[Any] = client.projects.list(title=title, page_size=100)
        return [int(found.id) for found in pages if found.title == title]

    ids = conn.call(f"find the project {quote(title)}", lookup)
    if len(ids) > 1:
        raise ConfigError(
            f"Label Studio has {len(ids)} projects titled {quote(title)} (ids {', '.join(map(str, sorted(ids)))}): "
            "rename or delete all but one, or set active_learning.label_studio.project to another title"
        )
    return ids[0] if ids else None


def ensure(
    conn: Connection,
    client: LabelStudio,
    title: str,
    classes: Sequence[str],
    instructions: str,
    fields: Mapping[str, str] | None = None,
) -> Project:
    """The project titled ``title``, created when missing, its interface and instructions those of alops.yaml."""
    config = interface.label_config(classes, fields)
    wanted: dict[str, Any] = {
        "label_config": config,
        "expert_instruction": interface.instructions(instructions),
        "show_instruction": bool(instructions.strip()),
    }
    found = find(conn, client, title)
    if found is None:
        # A create that reached the server but whose answer was lost would leave a second
        # project on retry: look again before each retry.
        def create(attempt: int) -> int:
            again = find(conn, client, title) if attempt else None
            return again if again is not None else int(client.projects.create(title=title, **wanted).id or 0)

        return Project(conn.call(f"create the project {quote(title)}", create), title, "created")
    current = conn.call(f"read the project {quote(title)}", lambda _: client.projects.get(found))
    if all(getattr(current, key, None) == value for key, value in wanted.items()):
        return Project(found, title, "unchanged")
    conn.call(f"update the interface of the project {quote(title)}", lambda _: client.projects.update(found, **wanted))
    return Project(found, title, "updated")
