"""alops.dvc.session: the repository a DVC child works on, its remotes from DVC's merged config (in-process)."""

from __future__ import annotations

from contextlib import chdir
from pathlib import Path

import pytest

from alops.dvc.failure import Failure, Known
from alops.dvc.session import Session, remote, text


def test_config_values_read_as_dvc_s_files_write_them() -> None:
    assert [text(["reflink", "copy"]), text(True), text(False), text(3), text("group")] == [
        "reflink,copy",
        "true",
        "false",
        "3",
        "group",
    ]


def test_the_repository_opens_when_first_asked_and_again_after_a_close(tiny: Path) -> None:
    session = Session(tiny, quiet=True)
    assert session._repo is None  # nothing opened (nor DVC imported for it) until an operation asks
    first = session.repo
    assert first is session.repo and Path(first.root_dir) == tiny
    session.close()
    assert session._repo is None and session.repo is not first
    session.close()


def test_say_is_quiet_when_asked(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Session(tiny, quiet=True).say("A       data/raw.csv")
    Session(tiny, quiet=False).say("M       data/dir")
    assert capsys.readouterr().out == "M       data/dir\n"


def test_the_remote_is_the_default_or_the_named_one_and_is_kept_for_failures(tiny: Path) -> None:
    session = Session(tiny, quiet=True)
    with chdir(tiny):
        found = remote(session, None)
        assert (found.name, found.url) == ("storage", str(tiny.parent / "remote"))
        assert session.remote is found
        assert remote(session, "storage") == found
        with pytest.raises(Known) as caught:
            remote(session, "full")
        assert caught.value.failure == Failure("unknown_remote", name="full")
        assert session.remote == found  # the last one found: failures name it
    session.close()


def test_no_default_remote_is_known(tiny_copy: Path) -> None:
    (tiny_copy / ".dvc/config.local").unlink()
    session = Session(tiny_copy, quiet=True)
    with pytest.raises(Known) as caught:
        remote(session, None)
    assert caught.value.failure.kind == "no_remote"
    session.close()
