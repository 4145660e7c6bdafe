"""``alops.release.tags``: GTO's tags, parsed from hostile names, written to real git and read back by real ``gto``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from alops import gitlab
from alops.errors import ConfigError, DataError
from alops.release.tags import (
    GitLabTags,
    LocalTags,
    TagStore,
    assignment_message,
    assignment_tag,
    model_of,
    parse,
    registration_message,
    registration_tag,
)
from alops.release.version import Version

V = Version.parse
C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40
GTO = str(Path(sys.executable).with_name("gto"))


# --- names and messages ------------------------------------------------------------------------


def test_tag_names_and_messages_are_gtos() -> None:
    assert registration_tag("digits", V("1.2.0")) == "digits@v1.2.0"
    assert assignment_tag("digits", "prod", 3) == "digits#prod#3"
    assert registration_message("digits", V("1.2.0")) == "Registering artifact digits version v1.2.0"
    assert assignment_message("digits", "prod", V("1.2.0")) == (
        "Assigning stage prod to artifact digits version v1.2.0"
    )
    assert [model_of(n) for n in ("digits#prod#3", "digits-old@v1.0.0", "digits@v1.2", "-x@v1.0.0", "x")] == [
        "digits",
        "digits-old",
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("model", "stage", "number"),
    [("Digits", "prod", 1), ("digits", "prod#2", 1), ("digits", "-prod", 1), ("digits", "prod", 0), ("a b", "p", 1)],
)
def test_bad_names_make_no_tag(model: str, stage: str, number: int) -> None:
    with pytest.raises(ValueError):
        assignment_tag(model, stage, number)


# --- parsing -----------------------------------------------------------------------------------

HOSTILE = [
    ("digits@v1.2", C1),
    ("digits@v01.2.3", C1),
    ("digits@v1.2.3-rc.1#40", C1),  # GTO's semver allows a pre-release: its counter counts, the version does not
    ("digits#prod#x", C1),
    ("digits#prod", C1),  # `gto assign --simple`: no counter, no order: skipped
    ("digits#Prod#41", C1),  # not an environment name alops has: counts, is no stage of alops
    ("Digits@v1.0.0", C1),
    ("digits-old@v1.0.0", C1),
    ("digits-old#prod#99", C1),
    ("digitsx@v1.0.0", C1),
    ("digits@v1.0.0", "not-a-commit"),
    ("digits#prod#" + "9" * 5000, C1),  # int() of 5000 digits raises ValueError in Python 3.11
    ("digits@v9.9.9\n", C1),
    ("", C1),
    ("digits", C1),
]


def test_foreign_and_malformed_tags_are_ignored() -> None:
    tags = parse("digits", [*HOSTILE, ("digits@v0.1.0", C1), ("digits#prod#3", C1)])
    assert tags.versions() == [V("0.1.0")]
    assert [a.tag for a in tags.assignments] == ["digits#prod#3"]
    assert tags.next_number() == 42
    assert tags.current("Prod") is None and tags.current("staging") is None
    assert parse("digits", HOSTILE).versions() == [] and parse("digits", []).next_number() == 1


VALID = ["digits@v0.1.0", "digits@v0.2.0", "digits#prod#1", "digits#prod#2", "digits#prod!#3", "digits@v0.2.0!#4"]
NEAR = st.from_regex(r"\A(digits|Digits|digits-old)([@#][v0-9a-zA-Z.!#/_+-]{0,16}){1,3}\Z", fullmatch=True)


@given(
    st.lists(
        st.tuples(st.one_of(NEAR, st.text(max_size=20), st.sampled_from(VALID)), st.sampled_from([C1, C2, "x"])),
        max_size=12,
    )
)
def test_any_tag_names_parse_without_a_crash(refs: list[tuple[str, str]]) -> None:
    tags = parse("digits", refs, lightweight=[name for name, _ in refs])
    assert tags.next_number() >= 1 + max((a.number for a in tags.assignments), default=0)
    for stage in {a.stage for a in tags.assignments}:
        now, back = tags.current(stage), tags.previous(stage)
        assert back is None or (now is not None and back != now.version and back in tags.versions())
    assert all(registration_tag("digits", v) in {n.split("#")[0] for n, _ in refs} for v in tags.versions())


def test_rollback_previous_is_the_version_before_the_current_one() -> None:
    refs = [("digits@v0.1.0", C1), ("digits@v0.2.0", C2)]
    history = [("digits#prod#1", C1), ("digits#staging#2", C2), ("digits#prod#3", C2)]
    tags = parse("digits", [*refs, *history])
    assert (tags.current("prod") or pytest.fail()).version == V("0.2.0")
    assert tags.previous("prod") == V("0.1.0") and tags.previous("staging") is None
    rolled = parse("digits", [*refs, *history, ("digits#prod#4", C1)])  # the rollback
    assert (rolled.current("prod") or pytest.fail()).tag == "digits#prod#4"
    assert rolled.previous("prod") == V("0.2.0")  # not 0.1.0 again: assignments of the same version are skipped
    assert rolled.next_number() == 5
    again = parse("digits", [*refs, *history, ("digits#prod#4", C1), ("digits#prod#5", C1)])
    assert again.previous("prod") == V("0.2.0")
    assert parse("digits", [*refs, ("digits#prod#1", C1)]).previous("prod") is None


def test_the_order_is_the_counter_not_the_order_tags_are_listed() -> None:
    refs = [("digits#prod#10", C1), ("digits#prod#9", C2), ("digits@v0.2.0", C2), ("digits@v0.1.0", C1)]
    tags = parse("digits", refs)
    assert [a.number for a in tags.assignments] == [9, 10]
    assert (tags.current("prod") or pytest.fail()).version == V("0.1.0")
    assert tags.previous("prod") == V("0.2.0")
    assert [r.tag for r in tags.registrations] == ["digits@v0.1.0", "digits@v0.2.0"]
    assert tags.commit_of(V("0.2.0")) == C2 and tags.commit_of(V("0.3.0")) is None


def test_lightweight_tags_count_only_for_the_counter() -> None:
    tags = parse("digits", [("digits@v0.1.0", C1)], lightweight=["digits#prod#7", "digits@v0.9.0", "other#prod#99"])
    assert tags.versions() == [V("0.1.0")] and tags.assignments == () and tags.next_number() == 8


def test_gto_unassign_and_deregister_are_respected() -> None:
    refs = [("digits@v0.1.0", C1), ("digits@v0.2.0", C2), ("digits@v0.3.0", C3)]
    stages = [("digits#prod#1", C1), ("digits#prod#2", C2), ("digits#prod#3", C3)]
    tags = parse("digits", [*refs, *stages, ("digits#prod!#4", C3)])  # `gto unassign digits prod --version v0.3.0`
    assert (tags.current("prod") or pytest.fail()).version == V("0.2.0")
    assert tags.previous("prod") == V("0.1.0") and tags.next_number() == 5
    back = parse("digits", [*refs, *stages, ("digits#prod!#4", C3), ("digits#prod#5", C3)])
    assert (back.current("prod") or pytest.fail()).number == 5
    gone = parse("digits", [*refs, *stages, ("digits@v0.2.0!#4", C2)])  # `gto deregister digits v0.2.0`
    assert gone.versions() == [V("0.1.0"), V("0.3.0")] and gone.commit_of(V("0.2.0")) is None
    assert gone.released() == [V("0.1.0"), V("0.2.0"), V("0.3.0")]  # its tag name is taken all the same
    assert gone.previous("prod") == V("0.1.0")  # a deregistered version is no rollback target
    again = parse("digits", [*refs, *stages, ("digits@v0.2.0!#4", C2), ("digits@v0.2.0#5", C2)])
    assert again.versions() == [V("0.1.0"), V("0.2.0"), V("0.3.0")]


def test_a_stage_tag_on_an_unregistered_or_doubly_registered_commit_has_no_version() -> None:
    tags = parse("digits", [("digits@v0.1.0", C1), ("digits@v0.1.1", C1), ("digits#prod#1", C1), ("digits#dev#2", C3)])
    assert [a.version for a in tags.assignments] == [None, None]
    assert tags.previous("prod") is None


# --- a real git repository, read back by real gto ---------------------------------------------


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    for message in ("first", "second"):
        git(tmp_path, "commit", "-q", "--allow-empty", "-m", message)
    return tmp_path


def commits(repo: Path) -> tuple[str, str]:
    first, second = git(repo, "rev-list", "--reverse", "HEAD").split()
    return first, second


def gto(repo: Path, *args: str) -> Any:
    return json.loads(subprocess.run([GTO, *args], cwd=repo, check=True, capture_output=True, text=True).stdout)


def deploy(store: TagStore, stage: str, version: Version) -> None:
    """What alops deploy does once the service answers."""
    tags = store.read("digits")
    commit = tags.commit_of(version) or pytest.fail(f"{version} is not registered")
    store.create(
        assignment_tag("digits", stage, tags.next_number()), commit, assignment_message("digits", stage, version)
    )


@pytest.mark.slow
def test_gto_shows_what_local_tags_wrote_a_deploy_and_a_rollback(repo: Path) -> None:
    first, second = commits(repo)
    store = LocalTags(repo, os.environ)
    for version, commit in ((V("0.1.0"), first), (V("0.2.0"), second)):
        store.create(registration_tag("digits", version), commit, registration_message("digits", version))
    assert gto(repo, "show", "--json") == {
        "digits": {"version": "v0.2.0", "stage": {}, "registered": True, "active": True}
    }
    for version in (V("0.1.0"), V("0.2.0")):
        deploy(store, "prod", version)
        assert gto(repo, "show", "--json")["digits"]["stage"] == {"prod": f"v{version}"}
    tags = store.read("digits")
    assert (tags.previous("prod"), tags.next_number()) == (V("0.1.0"), 3)
    deploy(store, "prod", tags.previous("prod") or pytest.fail())  # the rollback: digits#prod#3 on 0.1.0's commit

    tags = store.read("digits")
    assert gto(repo, "show", "--json")["digits"]["stage"] == {"prod": "v0.1.0"}
    assert (tags.current("prod") or pytest.fail()).version == V("0.1.0")
    assert tags.previous("prod") == V("0.2.0")
    history = gto(repo, "history", "digits", "--json")
    assert [(e["event"], e["ref"], e["version"], e["commit"], e["message"]) for e in reversed(history)] == [
        ("registration", "digits@v0.1.0", "v0.1.0", first, "Registering artifact digits version v0.1.0"),
        ("registration", "digits@v0.2.0", "v0.2.0", second, "Registering artifact digits version v0.2.0"),
        ("assignment", "digits#prod#1", "v0.1.0", first, "Assigning stage prod to artifact digits version v0.1.0"),
        ("assignment", "digits#prod#2", "v0.2.0", second, "Assigning stage prod to artifact digits version v0.2.0"),
        ("assignment", "digits#prod#3", "v0.1.0", first, "Assigning stage prod to artifact digits version v0.1.0"),
    ]
    # gto orders by tag time (whole seconds): alops never wrote two of them in the same second
    times = git(repo, "for-each-ref", "--sort=taggerdate", "--format=%(taggerdate:unix)", "refs/tags").split()
    assert len(set(times)) == len(times) == 5
    assert [e["author"] for e in history] == ["alops tests"] * 5

    # gto's own counter agrees with next_number, and alops reads what gto wrote
    tags = store.read("digits")
    subprocess.run(
        [GTO, "assign", "digits", "digits@v0.2.0", "--stage", "staging"], cwd=repo, check=True, capture_output=True
    )
    assert (
        git(repo, "tag", "--list", "digits#staging#*") == f"digits#staging#{tags.next_number()}" == "digits#staging#4"
    )
    assert (store.read("digits").current("staging") or pytest.fail()).version == V("0.2.0")


@pytest.mark.slow
def test_hostile_tags_in_a_real_repo_are_skipped_and_counted_as_gto_counts(repo: Path) -> None:
    first, second = commits(repo)
    store = LocalTags(repo, os.environ)
    store.create("digits@v0.1.0", first, registration_message("digits", V("0.1.0")))
    for name in ("digits@v1.2", "digits@v01.2.3", "digits#prod#x", "Digits@v1.0.0", "digits-old@v1.0.0", "digits#prod"):
        git(repo, "tag", "-a", "-m", "by hand", name, second)
    git(repo, "tag", "digits#team/prod#6", second)  # lightweight, with a slash: gto counts it
    tags = store.read("digits")
    assert tags.versions() == [V("0.1.0")] and tags.assignments == () and tags.next_number() == 7
    subprocess.run(
        [GTO, "assign", "digits", "digits@v0.1.0", "--stage", "prod"], cwd=repo, check=True, capture_output=True
    )
    assert "digits#prod#7" in git(repo, "tag", "--list").splitlines()
    assert (store.read("digits").current("prod") or pytest.fail()).tag == "digits#prod#7"


def test_a_tag_of_a_tag_is_no_stage_but_its_counter_counts(repo: Path) -> None:
    first, _ = commits(repo)
    store = LocalTags(repo, os.environ)
    store.create("digits@v0.1.0", first, "m")
    git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "-m", "a tag of a tag", "digits#prod#2", "digits@v0.1.0")
    tags = store.read("digits")
    assert tags.versions() == [V("0.1.0")] and tags.assignments == () and tags.next_number() == 3


def test_a_tag_name_with_a_unicode_line_separator_cannot_pose_as_another_tag(repo: Path) -> None:
    first, _ = commits(repo)
    git(repo, "tag", "-a", "-m", "spoof", "digits@x\u2028digits#prod#99", first)
    tags = LocalTags(repo, os.environ).read("digits")
    assert tags.assignments == () and tags.next_number() == 1


def test_an_existing_tag_is_never_moved(repo: Path) -> None:
    first, second = commits(repo)
    store = LocalTags(repo, os.environ)
    store.create("digits@v0.1.0", first, "one")
    with pytest.raises(DataError) as err:
        store.create("digits@v0.1.0", second, "two")
    assert str(err.value) == f"tag digits@v0.1.0 exists already in {repo}: alops never moves a tag"
    assert git(repo, "rev-parse", "digits@v0.1.0^{commit}") == first
    with pytest.raises(ValueError, match="is not a GTO tag"):
        store.create("--force", first, "x")
    with pytest.raises(ValueError, match="is not a full commit id"):
        store.create("digits@v0.2.0", "HEAD", "x")


def test_the_tagger_when_git_knows_nobody(repo: Path) -> None:
    first, second = commits(repo)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
    env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.useConfigOnly", "GIT_CONFIG_VALUE_0": "true"})
    LocalTags(repo, env).create("digits@v0.1.0", first, "m")
    LocalTags(repo, {**env, "GITLAB_USER_NAME": "Ada", "GITLAB_USER_EMAIL": "ada@example.com"}).create(
        "digits@v0.2.0", second, "m"
    )
    who = git(repo, "for-each-ref", "--format=%(taggername) %(taggeremail)", "refs/tags")
    assert who.splitlines() == ["alops <alops@localhost>", "Ada <ada@example.com>"]


def test_the_tag_time_is_the_real_time(repo: Path) -> None:
    first, _ = commits(repo)
    LocalTags(repo, {**os.environ, "GIT_COMMITTER_DATE": "2001-01-01T00:00:00Z"}).create("digits@v0.1.0", first, "m")
    assert abs(int(git(repo, "for-each-ref", "--format=%(taggerdate:unix)", "refs/tags")) - time.time()) < 60


def test_a_tag_name_that_is_not_utf8_says_which_to_delete(repo: Path) -> None:
    first, _ = commits(repo)
    subprocess.run([b"git", b"tag", b"digits@v\xff", first.encode()], cwd=repo, check=True)
    with pytest.raises(DataError, match="has a name that is not UTF-8 text"):
        LocalTags(repo, os.environ).read("digits")
    assert LocalTags(repo, os.environ).read("other").versions() == []


# --- GitLab's tags API, faked with responses ----------------------------------------------------

API = "https://gitlab.example.com/api/v4"
TAGS = f"{API}/projects/42/repository/tags"
TOKEN = "glpat-not-a-real-token-0123"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": TOKEN}


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def tag(name: str, commit: str, *, annotated: bool = True) -> dict[str, Any]:
    target = ("f" * 39 + commit[0]) if annotated else commit
    return {"name": name, "target": target, "message": "m" if annotated else None, "commit": {"id": commit}}


def test_gitlab_tags_are_read_page_by_page(api: responses.RequestsMock) -> None:
    page2 = f"{TAGS}?page=2&per_page=100&search=%5Edigits"
    api.get(
        TAGS,
        json=[tag("digits@v0.1.0", C1), tag("digits#prod#7", C1, annotated=False), tag("digits-old@v1.0.0", C2)],
        headers={"Link": f'<{page2}>; rel="next"'},
        match=[matchers.query_param_matcher({"search": "^digits", "per_page": "100"})],
    )
    api.get(
        TAGS,
        json=[tag("digits#prod#1", C1), {**tag("digits@v0.2.0", C2), "target": C2}],  # a message: annotated
        match=[matchers.query_param_matcher({"search": "^digits", "per_page": "100", "page": "2"})],
    )
    tags = GitLabTags(gitlab.client_from_env(ENV), 42).read("digits")
    assert tags.versions() == [V("0.1.0"), V("0.2.0")] and tags.next_number() == 8
    assert (tags.current("prod") or pytest.fail()).version == V("0.1.0")


def test_gitlab_tags_are_created_annotated_never_two_in_one_second(api: responses.RequestsMock) -> None:
    seen: list[float] = []

    def created(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append(time.time())
        assert isinstance(request.body, (str, bytes))
        return 201, {}, json.dumps(tag(json.loads(request.body)["tag_name"], C1))

    for name in ("digits@v0.1.0", "digits#prod#1"):
        body = {"tag_name": name, "ref": C1, "message": f"about {name}"}
        api.add_callback(
            "POST", TAGS, callback=created, content_type="application/json", match=[matchers.json_params_matcher(body)]
        )
    store = GitLabTags(gitlab.client_from_env(ENV), 42)
    store.create("digits@v0.1.0", C1, "about digits@v0.1.0")
    store.create("digits#prod#1", C1, "about digits#prod#1")
    assert int(seen[1]) > int(seen[0])


def test_gitlab_says_the_tag_exists(api: responses.RequestsMock) -> None:
    api.post(TAGS, status=400, json={"message": "Tag digits@v0.1.0 already exists"})
    with pytest.raises(DataError) as err:
        GitLabTags(gitlab.client_from_env(ENV), 42).create("digits@v0.1.0", C1, "m")
    assert str(err.value) == "tag digits@v0.1.0 exists already in project 42: alops never moves a tag"


def test_gitlab_refusing_a_tag_says_which_token_and_rule(api: responses.RequestsMock) -> None:
    api.post(TAGS, status=403, json={"message": f"403 Forbidden {TOKEN}"})
    with pytest.raises(DataError) as err:
        GitLabTags(gitlab.client_from_env(ENV), 42).create("digits#prod#3", C1, "m")
    text = str(err.value)
    assert text.startswith("GitLab refused to create tag digits#prod#3 in project 42 (403: 403 Forbidden ***)")
    assert "Creating a tag needs ALOPS_GITLAB_TOKEN (CI_JOB_TOKEN cannot)" in text and "Protected tags" in text
    assert TOKEN not in text


@pytest.mark.parametrize(("status", "error"), [(401, DataError), (404, ConfigError)])
def test_gitlab_errors_reading_tags(api: responses.RequestsMock, status: int, error: type[Exception]) -> None:
    api.get(TAGS, status=status, json={"message": "no"})
    with pytest.raises(error, match="list the tags of digits in project 42"):
        GitLabTags(gitlab.client_from_env(ENV), 42).read("digits")


@pytest.mark.slow
def test_gto_unassigning_and_deregistering_reads_the_same_in_alops(repo: Path) -> None:
    first, second = commits(repo)
    store = LocalTags(repo, os.environ)
    for version, commit in ((V("0.1.0"), first), (V("0.2.0"), second)):
        store.create(registration_tag("digits", version), commit, registration_message("digits", version))
    for version in (V("0.1.0"), V("0.2.0")):
        deploy(store, "prod", version)
    time.sleep(1)  # gto itself may tag in the same second as the tag before: alops waits, gto does not
    subprocess.run([GTO, "deprecate", "digits", "v0.2.0", "prod"], cwd=repo, check=True, capture_output=True)
    tags = store.read("digits")
    assert [u.tag for u in tags.unassignments] == ["digits#prod!#3"]
    assert gto(repo, "show", "--json")["digits"]["stage"] == {"prod": "v0.1.0"}
    assert (tags.current("prod") or pytest.fail()).version == V("0.1.0") and tags.previous("prod") is None
    time.sleep(1)
    subprocess.run([GTO, "deprecate", "digits", "v0.1.0"], cwd=repo, check=True, capture_output=True)
    tags = store.read("digits")
    assert gto(repo, "show", "--json")["digits"] == {
        "version": "v0.2.0",
        "stage": {},
        "registered": True,
        "active": True,
    }
    assert (
        tags.versions() == [V("0.2.0")] and tags.current("prod") is None and tags.released() == [V("0.1.0"), V("0.2.0")]
    )
