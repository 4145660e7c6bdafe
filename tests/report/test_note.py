"""The note on the merge request: found by its marker, edited in place (GitLab faked with ``responses``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses import matchers

from alops import gitlab
from alops.report import note

API = "https://gitlab.example.com/api/v4"
NOTES = f"{API}/projects/42/merge_requests/7/notes"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": "t0ken", "CI_MERGE_REQUEST_IID": "7"}
MARKER = "<!-- alops-report flow=experiment -->"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_the_note_with_the_marker_is_edited_even_among_others(api: responses.RequestsMock) -> None:
    client = gitlab.client_from_env(ENV)
    mr = note.merge_request(client, 42, "experiment/lr", ENV)
    notes = [
        {"id": 1, "body": "a comment quoting " + MARKER},
        {"id": 2, "body": MARKER + "\nold report"},
        {"id": 3, "body": MARKER + "\na copy someone pasted: the first one is ours"},
    ]
    api.get(NOTES, json=notes)
    put = api.put(f"{NOTES}/2", json={"id": 2}, match=[matchers.json_params_matcher({"body": MARKER + "\nnew"})])

    posted = note.post(mr, MARKER + "\nnew", MARKER)

    assert posted == note.Posted("updated", 7, 2, None)
    assert len(put.calls) == 1


def test_uploads_give_the_markdown_gitlab_returns(api: responses.RequestsMock) -> None:
    from alops.report.content import Plot

    client = gitlab.client_from_env(ENV)
    api.post(f"{API}/projects/42/uploads", json={"url": "/uploads/x/c.png", "markdown": "![c.png](/uploads/x/c.png)"})
    api.post(f"{API}/projects/42/uploads", json={"url": "/uploads/y/p.png"})

    shown = note.upload(client, 42, [Plot("c.png", "C", b"\x89PNG"), Plot("p.png", "Per class", b"\x89PNG")])

    assert shown == {"c.png": "![c.png](/uploads/x/c.png)", "p.png": "![Per class](/uploads/y/p.png)"}
    assert b'filename="c.png"' in api.calls[0].request.body
