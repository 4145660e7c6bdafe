"""A real Label Studio for these tests (tests/labelstudio_server.py), and alops projects that point at it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from labelstudio_server import label_studio  # noqa: F401 - the session fixture, registered for this folder

from alops.config import Config, load_config

MakeConfig = Callable[..., Config]


@pytest.fixture
def make_config(tmp_path: Path) -> MakeConfig:
    """``make_config(classes=..., title=..., instructions=...)``: an alops.yaml in a folder of its own, loaded.

    Each call gets a project title of its own by default, so tests on the one server never meet.
    """

    def make(
        classes: Sequence[str] = ("cat", "dog"),
        *,
        title: str | None = None,
        instructions: str = "",
        fields: dict[str, str] | None = None,
    ) -> Config:
        root = tmp_path / f"project-{secrets.token_hex(3)}"
        root.mkdir()
        studio = {"project": title or f"alops test {secrets.token_hex(4)}", "instructions": instructions}
        if fields:
            studio["fields"] = fields  # type: ignore[assignment]
        (root / "alops.yaml").write_text(
            "version: 1\n"
            "datasets:\n  full: {targets: [data/full.dvc]}\n  dev: {targets: [data/dev.dvc]}\n"
            "pipeline:\n  train: [train]\n"
            f"active_learning:\n  pool: data/pool.csv\n  classes: {json.dumps(list(classes))}\n"
            f"  label_studio: {json.dumps(studio)}\n",
            encoding="utf-8",
        )
        return load_config(root / "alops.yaml")

    return make
