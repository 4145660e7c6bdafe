"""``alops.schedules``: alops.yaml's schedules made GitLab's, against GitLab's API faked with ``responses``.

Every request a test expects is registered (with its JSON body matched) and
must be sent; any other request fails the test, so a run that registers only
GETs proves it wrote nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from responses import matchers

from alops import schedules
from alops.errors import ConfigError, DataError
from alops.sections import Schedule

API = "https://gitlab.example.com/api/v4/projects/42/pipeline_schedules"
TOKEN = "glpat-not-a-real-token-0123"
ENV = {"CI_SERVER_URL": "https://gitlab.example.com", "ALOPS_GITLAB_TOKEN": TOKEN, "CI_PROJECT_ID": "42"}
QUERY = Schedule("al-query", "0 3 * * *", "al/digits", "UTC", True, {"ALOPS_AL_STEP": "query"})
CHECK = Schedule("devset-check", "30 4 * * 1", "main", "Europe/Berlin", False, {})
#: A schedule someone made by hand: never touched.
MANUAL = {"id": 3, "description": "nightly build", "ref": "main", "cron": "0 0 * * *", "cron_timezone": "UTC"}


def on_server(schedule: Schedule, id: int, *, ref: str | None = None, **changes: Any) -> dict[str, Any]:
    """The schedule as GitLab answers GET /pipeline_schedules/:id (new schedules keep full refs)."""
    variables = [{"key": k, "value": v, "variable_type": "env_var"} for k, v in schedule.variables.items()]
    return {
        "id": id,
        "description": f"alops: {schedule.name}",
        "ref": ref or f"refs/heads/{schedule.ref}",
        "cron": schedule.cron,
        "cron_timezone": schedule.timezone,
        "active": schedule.active,
        "variables": variables,
        **changes,
    }


def listed(full: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in full.items() if k != "variables"}  # the list has no variables


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_creates_missing_schedules_with_their_variables(api: responses.RequestsMock) -> None:
    api.get(API, json=[MANUAL], match=[matchers.header_matcher({"PRIVATE-TOKEN": TOKEN})])
    body = {"description": "alops: al-query", "ref": "al/digits", "cron": "0 3 * * *"}
    api.post(
        API,
        status=201,
        json={"id": 7, **body},
        match=[matchers.json_params_matcher({**body, "cron_timezone": "UTC", "active": True})],
    )
    api.post(
        f"{API}/7/variables",
        status=201,
        json={"key": "ALOPS_AL_STEP", "value": "query"},
        match=[matchers.json_params_matcher({"key": "ALOPS_AL_STEP", "value": "query", "variable_type": "env_var"})],
    )
    result = schedules.sync([QUERY], env=ENV)
    assert [(c.name, c.action) for c in result.changes] == [("al-query", "create")]
    assert result.writes == 2
    assert schedules.render(result).splitlines() == [
        "create    alops: al-query: cron: '0 3 * * *'; ref: 'al/digits'; cron_timezone: 'UTC'; active: true; "
        "+ variable ALOPS_AL_STEP",
        "1 created, 0 updated, 0 deleted, 0 unchanged (2 API writes)",
    ]


def test_a_second_run_writes_nothing(api: responses.RequestsMock) -> None:
    # GitLab as the first run left it: only reads are registered, so any write would fail the test.
    query, check = on_server(QUERY, 7), on_server(CHECK, 8, ref="main")  # an old schedule: a short ref
    api.get(API, json=[MANUAL, listed(query), listed(check)])
    api.get(f"{API}/7", json=query)
    api.get(f"{API}/8", json=check)
    result = schedules.sync([QUERY, CHECK], env=ENV)
    assert [(c.name, c.action, c.details) for c in result.changes] == [
        ("al-query", "unchanged", ()),
        ("devset-check", "unchanged", ()),
    ]
    assert result.writes == 0
    assert schedules.render(result).endswith("0 created, 0 updated, 0 deleted, 2 unchanged (0 API writes)")


def test_edits_changed_fields_and_sets_variables_to_alops_yaml_s(api: responses.RequestsMock) -> None:
    want = Schedule("al-query", "0 4 * * *", "al/digits", "UTC", True, {"ALOPS_AL_STEP": "query", "NEW": "1"})
    server = on_server(QUERY, 7, active=False)
    server["variables"] = [
        {"key": "ALOPS_AL_STEP", "value": "ingest", "variable_type": "env_var"},
        {"key": "OLD", "value": "x", "variable_type": "env_var"},
    ]
    api.get(API, json=[listed(server)])
    api.get(f"{API}/7", json=server)
    # only the changed fields are sent
    api.put(
        f"{API}/7",
        json={**server, "cron": "0 4 * * *"},
        match=[matchers.json_params_matcher({"cron": "0 4 * * *", "active": True})],
    )
    api.put(
        f"{API}/7/variables/ALOPS_AL_STEP",
        json={"key": "ALOPS_AL_STEP", "value": "query"},
        match=[matchers.json_params_matcher({"value": "query"})],
    )
    api.post(
        f"{API}/7/variables",
        status=201,
        json={"key": "NEW", "value": "1"},
        match=[matchers.json_params_matcher({"key": "NEW", "value": "1", "variable_type": "env_var"})],
    )
    api.delete(f"{API}/7/variables/OLD", status=204)
    result = schedules.sync([want], env=ENV)
    (change,) = result.changes
    assert change.action == "update" and result.writes == 4
    assert change.details == (
        "cron: '0 3 * * *' -> '0 4 * * *'",
        "active: false -> true",
        "+ variable NEW",
        "~ variable ALOPS_AL_STEP",
        "- variable OLD",
    )


def test_deletes_alops_schedules_no_longer_in_alops_yaml_and_never_others(api: responses.RequestsMock) -> None:
    gone = on_server(CHECK, 8)
    other = {**MANUAL, "id": 4, "description": "alops-like but not alops's"}
    api.get(API, json=[MANUAL, other, listed(gone)])
    api.delete(f"{API}/8", status=204)
    result = schedules.sync([], env=ENV)
    assert [(c.name, c.action, c.schedule_id) for c in result.changes] == [("devset-check", "delete", 8)]
    assert result.writes == 1


def test_dry_run_reads_and_plans_only(api: responses.RequestsMock) -> None:
    server = on_server(QUERY, 7, cron="0 1 * * *")
    api.get(API, json=[listed(server), listed(on_server(CHECK, 9))])
    api.get(f"{API}/7", json=server)
    result = schedules.sync([QUERY, Schedule("new", "*/15 * * * *", "al/x", "UTC", True, {})], env=ENV, dry_run=True)
    assert [(c.name, c.action) for c in result.changes] == [
        ("al-query", "update"),
        ("new", "create"),
        ("devset-check", "delete"),
    ]
    text = schedules.render(result)
    assert text.splitlines()[0] == "update    alops: al-query (#7): cron: '0 1 * * *' -> '0 3 * * *'"
    assert text.splitlines()[-1] == "dry run, nothing changed: 1 to create, 1 to update, 1 to delete, 0 unchanged"
    assert result.writes == 0


def test_a_job_token_alone_is_refused_before_any_request() -> None:
    env = {"CI_SERVER_URL": "https://gitlab.example.com", "CI_JOB_TOKEN": "job-1", "CI_PROJECT_ID": "42"}
    with responses.RequestsMock(assert_all_requests_are_fired=True), pytest.raises(DataError) as err:
        schedules.sync([QUERY], env=env)
    assert str(err.value) == (
        "alops schedule sync needs ALOPS_GITLAB_TOKEN: a project access token with the api scope (role Maintainer, "
        "or Developer for schedules it owns) (CI_JOB_TOKEN is set, but a job token cannot read or change pipeline "
        "schedules)"
    )


def test_no_project_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="set CI_PROJECT_ID or CI_PROJECT_PATH"):
        schedules.sync([QUERY], env={k: v for k, v in ENV.items() if k != "CI_PROJECT_ID"})


@pytest.mark.parametrize(
    ("cron", "says"),
    [
        ("0 3 * *", "has 4 fields: GitLab takes five"),
        ("0 3 * * * *", "has 6 fields"),
        ("61 3 * * *", "the minute field '61' is not a cron field from 0 to 59"),
        ("0 24 * * *", "the hour field '24'"),
        ("0 3 0 * *", "the day of month field '0' is not a cron field from 1 to 31"),
        ("0 3 * 13 *", "the month field '13'"),
        ("0 3 * * 8", "the day of week field '8'"),
        ("0 3 * * $(id)", "the day of week field '$(id)'"),
        ("0 3 ** * *", "the day of month field '**'"),
    ],
)
def test_a_bad_cron_names_the_schedule_before_any_request(cron: str, says: str) -> None:
    bad = Schedule("al-query", cron, "al/x", "UTC", True, {})
    with responses.RequestsMock(assert_all_requests_are_fired=True), pytest.raises(ConfigError) as err:
        schedules.sync([bad], env=ENV)
    assert str(err.value).startswith(f"alops.yaml: schedules.al-query.cron: '{cron}'")
    assert says in str(err.value)


@pytest.mark.parametrize("cron", ["0 3 * * *", "*/15 0-6,22-23 1,15 JAN-MAR mon-fri", "0 0 ? * 7", "5 4 L * *"])
def test_good_crons_pass(cron: str) -> None:
    schedules.validate_cron(Schedule("x", cron, "main", "UTC", True, {}))


def test_gitlab_refusing_the_token_says_what_failed(api: responses.RequestsMock) -> None:
    api.get(API, status=403, json={"message": "403 Forbidden"})
    with pytest.raises(DataError) as err:
        schedules.sync([QUERY], env=ENV)
    assert "GitLab refused to read the pipeline schedules of project 42 (403: 403 Forbidden)" in str(err.value)
    assert TOKEN not in str(err.value)


def test_a_schedule_owned_by_someone_else_says_to_take_it_over(api: responses.RequestsMock) -> None:
    server = on_server(QUERY, 7, cron="0 1 * * *")
    api.get(API, json=[listed(server)])
    api.get(f"{API}/7", json=server)
    api.put(f"{API}/7", status=403, json={"message": "403 Forbidden"})
    with pytest.raises(DataError) as err:
        schedules.sync([QUERY], env=ENV)
    assert "GitLab refused to update the pipeline schedule 'alops: al-query' (403: 403 Forbidden)" in str(err.value)
    assert str(err.value).endswith(
        "a pipeline schedule can be changed only by its owner: take ownership of it as the token's user "
        "(the schedule's page, Take ownership) or delete it, and run sync again"
    )
