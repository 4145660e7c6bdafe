"""The push: the token travels as a header (never in a message), a refusal says what the token needs."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from al.ingest import repo

from alops.al.ingest import ingest
from alops.config import load_config
from alops.errors import ToolError

from devset_data import refusing_server

pytestmark = pytest.mark.slow
TOKEN = "glpat-ingest-secret-0123456789"


def test_a_refused_push_names_the_token_it_needs_and_never_shows_it(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])
    with refusing_server() as server:
        env = {**os.environ, "ALOPS_GIT_PUSH_URL": server.url, "ALOPS_GITLAB_TOKEN": TOKEN}
        with pytest.raises(ToolError) as caught:
            ingest(load_config(project / "alops.yaml"), source, env=env, push=True, strict=False)
    message = str(caught.value)
    assert message.startswith(f"`git push` to {server.url} failed:")
    assert message.endswith("which finds its labels in and pushes that commit")
    assert "ALOPS_GITLAB_TOKEN needs the write_repository scope" in message
    assert TOKEN not in message
    basic = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert any(h.get("Authorization") == f"Basic {basic}" for h in server.headers)
    # The data version is committed locally and its data pushed: a later push needs only git.
    assert repo.git(project, "log", "-1", "--format=%s").startswith("alops al ingest: round 1")


def test_the_same_ingest_again_pushes_the_commit_a_failed_push_left(project: Path, tmp_path: Path) -> None:
    source = repo.label_file(tmp_path / "l.csv", [("p001", "a", "x")])
    config = load_config(project / "alops.yaml")
    ingest(config, source, env=dict(os.environ), push=False, strict=False)
    again = ingest(config, source, env=dict(os.environ), push=True, strict=False)
    assert (again.commit, again.unchanged, again.pushes) == (None, 1, 1)
    assert repo.git(project.parent / "origin.git", "rev-parse", repo.BRANCH) == repo.git(project, "rev-parse", "HEAD")
