"""A DVC remote as DVC's merged configuration defines it (read by the child, from ``Repo.config``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alops.text import redact_output


@dataclass(frozen=True)
class Remote:
    """A DVC remote: its name, URL and options (which may hold secrets: never shown)."""

    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower() if "://" in self.url else "local"

    @property
    def shown(self) -> str:
        """The URL with any credentials taken out, for messages."""
        return redact_output(self.url)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "options": self.options}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Remote:
        return cls(str(data["name"]), str(data["url"]), {str(k): str(v) for k, v in data["options"].items()})
