"""alops.dvc.remote: a DVC remote as both sides of the child process hold it, its secrets never shown."""

from __future__ import annotations

import pytest

from alops.dvc.remote import Remote


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("s3://bucket/path", "s3"),
        ("S3://Bucket", "s3"),
        ("https://h/x", "https"),
        ("/srv/remote", "local"),
        ("../r", "local"),
    ],
)
def test_the_scheme_of_the_url(url: str, scheme: str) -> None:
    assert Remote("r", url).scheme == scheme


def test_shown_and_repr_hold_no_secret() -> None:
    found = Remote(
        "storage", "https://alice:s3cret-pass@h/x", {"secret_access_key": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"}
    )
    assert found.shown == "https://***@h/x"
    assert "wJalr" not in repr(found)


def test_it_travels_as_json() -> None:
    found = Remote("storage", "s3://b/p", {"region": "eu-west-1", "endpointurl": "http://h:9"})
    assert Remote.from_json(found.to_json()) == found
    assert found.to_json() == {
        "name": "storage",
        "url": "s3://b/p",
        "options": {"region": "eu-west-1", "endpointurl": "http://h:9"},
    }
