"""The connection's settings, and what a down, slow or failing server leads to: retries, then a clear error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from labelstudio_server import Misbehaving, closed_port

from alops.al.labelstudio import connection, export_batch, pull
from alops.al.labelstudio.connection import connect
from alops.al.query.batch import BatchRow, write_batch
from alops.errors import ConfigError, DataError, ToolError

TOKEN = "5f0e" + "a1" * 18  # 40 hex characters, like a legacy token


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait 10 ms, not seconds: what is tested is how many there are."""
    monkeypatch.setattr(connection, "BACKOFF", 0.01)


@pytest.fixture
def broken() -> Iterator[Misbehaving]:
    server = Misbehaving()
    yield server
    server.close()


def _env(url: str, **extra: str) -> dict[str, str]:
    return {"ALOPS_LABEL_STUDIO_URL": url, "ALOPS_LABEL_STUDIO_TOKEN": TOKEN, **extra}


def test_missing_url_and_token_are_named() -> None:
    with pytest.raises(ConfigError, match="set ALOPS_LABEL_STUDIO_URL and ALOPS_LABEL_STUDIO_TOKEN"):
        connect({})
    with pytest.raises(ConfigError, match="set ALOPS_LABEL_STUDIO_TOKEN \\("):
        connect({"ALOPS_LABEL_STUDIO_URL": "http://localhost:8080", "ALOPS_LABEL_STUDIO_TOKEN": "  "})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ALOPS_LABEL_STUDIO_URL": "localhost:8080"}, "must start with http:// or https://"),
        ({"ALOPS_LABEL_STUDIO_TIMEOUT": "soon"}, "ALOPS_LABEL_STUDIO_TIMEOUT must be a number, not 'soon'"),
        ({"ALOPS_LABEL_STUDIO_TIMEOUT": "0"}, "ALOPS_LABEL_STUDIO_TIMEOUT must be a number of seconds above 0"),
        ({"ALOPS_LABEL_STUDIO_RETRIES": "-1"}, "ALOPS_LABEL_STUDIO_RETRIES must be 0 or more"),
        ({"ALOPS_LABEL_STUDIO_RETRIES": "2.5"}, "ALOPS_LABEL_STUDIO_RETRIES must be a number"),
    ],
)
def test_bad_settings_are_config_errors(extra: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        connect(_env("http://localhost:8080", **extra))


def test_defaults_and_a_trailing_slash() -> None:
    conn = connect(_env("http://ls.example:8080/"))
    assert (conn.url, conn.timeout, conn.retries) == ("http://ls.example:8080", 30.0, 3)
    conn = connect(_env("http://ls.example:8080", ALOPS_LABEL_STUDIO_TIMEOUT="2.5", ALOPS_LABEL_STUDIO_RETRIES="0"))
    assert (conn.timeout, conn.retries) == (2.5, 0)


def _batch(folder: Path) -> Path:
    write_batch([BatchRow(0, "s0", 0.5, "margin", "cat", 0.6)], folder, model_version="m")
    return folder


def test_a_server_that_is_down(make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    al = make_config().al
    with pytest.raises(ToolError) as caught:
        export_batch(al.label_studio, al, _batch(tmp_path), env=_env(closed_port(), ALOPS_LABEL_STUDIO_RETRIES="2"))
    message = str(caught.value)
    assert "cannot be reached when asked to find the project" in message
    assert "after 3 tries" in message
    assert "check that the server is up and ALOPS_LABEL_STUDIO_URL points at it" in message
    assert TOKEN not in message


def test_a_server_that_answers_5xx_is_tried_again_then_given_up(
    broken: Misbehaving, make_config, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    al = make_config().al
    with pytest.raises(ToolError, match=r"answered 503 when asked to find the project .* after 4 tries \(broken 503\)"):
        export_batch(al.label_studio, al, _batch(tmp_path), env=_env(broken.url, ALOPS_LABEL_STUDIO_RETRIES="3"))
    assert len(broken.requests) == 4


def test_a_slow_server_times_out(broken: Misbehaving, make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken.delay = 1.0
    al = make_config().al
    env = _env(broken.url, ALOPS_LABEL_STUDIO_TIMEOUT="0.2", ALOPS_LABEL_STUDIO_RETRIES="1")
    out = tmp_path / "pulled" / "export.json"
    out.parent.mkdir()
    out.write_text("[]\n")
    with pytest.raises(ToolError, match="timed out when asked to find the project .* after 2 tries") as caught:
        pull(al.label_studio, al, out, env=env)
    assert "raise ALOPS_LABEL_STUDIO_TIMEOUT" in str(caught.value)
    assert len(broken.requests) == 2
    assert out.read_text() == "[]\n"  # the previous pull, untouched
    assert [p.name for p in out.parent.iterdir()] == ["export.json"]


def test_a_refused_token_says_what_to_do_and_never_shows_it(broken: Misbehaving, make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken.fail(401, detail=f"Invalid token {TOKEN}")
    al = make_config().al
    with pytest.raises(DataError) as caught:
        pull(al.label_studio, al, tmp_path / "out.json", env=_env(broken.url))
    message = str(caught.value)
    assert "refused the token in ALOPS_LABEL_STUDIO_TOKEN when asked to find the project" in message
    assert "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true" in message
    assert TOKEN not in message and "Invalid token ***" in message
    assert len(broken.requests) == 1  # a 401 is not tried again
    assert not (tmp_path / "out.json").exists()


def test_a_url_with_a_password_is_masked_in_messages(broken: Misbehaving, make_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    al = make_config().al
    url = broken.url.replace("http://", "http://user:hunter2hunter2@")
    with pytest.raises(ToolError) as caught:
        pull(al.label_studio, al, tmp_path / "out.json", env=_env(url, ALOPS_LABEL_STUDIO_RETRIES="0"))
    assert "hunter2" not in str(caught.value) and "http://***@127.0.0.1" in str(caught.value)
