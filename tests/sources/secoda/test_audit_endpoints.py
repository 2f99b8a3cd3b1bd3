"""The audit log over real sockets: the documented `/activity_log/audit_logs/` by default, the older
`/notification/workspace/` where a workspace answers 404, one cursor across both, and the emulator's
new list itself (envelope, paging, filter, sort, auth) at demo and large scale."""

import json
import logging
from datetime import timedelta

import pytest
import requests

from fleetlake.emulators.faults import parse_fault
from fleetlake.sources.secoda.audit import NEWEST_FIRST, as_notification
from tests.conftest import query
from tests.sources.secoda.conftest import run_secoda, settings

NEW = "/api/v1/activity_log/audit_logs/"
OLD = "/api/v1/notification/workspace/"
MODEL_COLUMNS = "id, created_at, event, resource_id, resource_type, performer__id, performer__name"
WARNING = (
    "audit_log: activity_log/audit_logs/ answered 404 Not Found: this workspace does not offer the documented "
    "audit log endpoint (or not as asked), so the audit log is read from notification/workspace/ instead (the "
    "same entries, under the same cursor)."
)


def _without_new_endpoint():
    return [parse_fault(f"404@{NEW}")]


def _calls(emulator):
    return [(r.method, r.path, r.query, r.status) for r in emulator.requests.records()]


def _rows(report):
    return query(report, f"SELECT {MODEL_COLUMNS} FROM audit_log ORDER BY id")


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("fleetlake")]


def test_the_documented_endpoint_is_read_by_default_newest_first(secoda, tmp_path, caplog):
    emulator, server = secoda()
    expected = emulator.expected_counts()["audit_log"]
    assert expected == 300
    with caplog.at_level(logging.WARNING):
        report = run_secoda(tmp_path, settings(emulator, server), ["audit_log"])
    assert report.row_counts["audit_log"] == expected
    assert query(report, "SELECT count(DISTINCT id) FROM audit_log")[0][0] == expected
    # 300 entries, 50 a page: page 1 without `page`, then 2 to 6, every one asking newest first
    assert _calls(emulator) == [("GET", NEW, {"sort": [NEWEST_FIRST]}, 200)] + [
        ("GET", NEW, {"sort": [NEWEST_FIRST], "page": [str(n)]}, 200) for n in range(2, 7)
    ]
    assert json.loads(NEWEST_FIRST) == {"field": "created_at", "order": "desc"}
    assert not _warnings(caplog)
    columns = {
        row[0]
        for row in query(report, "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_log'")
    }
    # the columns the fleet model reads, under the older list's names
    assert set(MODEL_COLUMNS.split(", ")) <= columns
    assert not {"activity_type", "performer_id"} & columns
    assert not [c for c in columns if c.startswith("performer_metadata")]
    assert query(report, "SELECT count(*) FROM audit_log WHERE event IS NULL OR performer__name IS NULL")[0][0] == 0


def test_a_404_on_the_documented_endpoint_falls_back_to_the_older_one_with_one_warning(secoda, tmp_path, caplog):
    emulator, server = secoda(faults=_without_new_endpoint())
    with caplog.at_level(logging.WARNING):
        report = run_secoda(tmp_path / "old", settings(emulator, server), ["audit_log"])
    assert _warnings(caplog) == [WARNING]
    assert [o.status.value for o in report.outcomes if o.resource == "audit_log"] == ["loaded"]
    assert report.row_counts["audit_log"] == emulator.expected_counts()["audit_log"] == 300
    # the 404, then the older list: 100 a page, 90 days
    old = {"days": ["90"], "page_size": ["100"]}
    assert _calls(emulator) == [
        ("GET", NEW, {"sort": [NEWEST_FIRST]}, 404),
        ("GET", OLD, old, 200),
        ("GET", OLD, {**old, "page": ["2"]}, 200),
        ("GET", OLD, {**old, "page": ["3"]}, 200),
    ]
    # the same rows as the documented endpoint loads
    plain, plain_server = secoda()
    reference = run_secoda(tmp_path / "new", settings(plain, plain_server), ["audit_log"])
    rows = _rows(report)
    assert len(rows) == 300
    assert rows == _rows(reference)


@pytest.mark.parametrize(("status", "falls_back"), [(400, True), (403, False)])
def test_a_refused_sort_falls_back_and_a_server_error_does_not(secoda, tmp_path, caplog, status, falls_back):
    emulator, server = secoda(faults=[parse_fault(f"{status}@{NEW}")])
    with caplog.at_level(logging.WARNING):
        report = run_secoda(tmp_path, settings(emulator, server), ["audit_log"])
    outcome = next(o for o in report.outcomes if o.resource == "audit_log")
    if falls_back:
        assert outcome.status.value == "loaded"
        assert report.row_counts["audit_log"] == 300
        phrase = "400 Bad Request"
        assert _warnings(caplog) == [WARNING.replace("404 Not Found", phrase)]
        assert emulator.requests.count(path=OLD, status=200) == 3
    else:
        assert outcome.status.value == "failed"
        assert emulator.requests.count(path=OLD) == 0


def test_a_rerun_with_nothing_new_loads_nothing_and_reads_one_page(secoda, tmp_path):
    emulator, server = secoda()
    kwargs = settings(emulator, server)
    run_secoda(tmp_path, kwargs, ["audit_log"])
    emulator.requests.clear()
    again = run_secoda(tmp_path, kwargs, ["audit_log"])
    assert again.loaded_rows.get("audit_log", 0) == 0
    assert again.row_counts["audit_log"] == 300
    # the newest page reaches back past the cursor: no second page
    assert _calls(emulator) == [("GET", NEW, {"sort": [NEWEST_FIRST]}, 200)]

    emulator.advance(timedelta(days=1))
    emulator.requests.clear()
    third = run_secoda(tmp_path, kwargs, ["audit_log"])
    assert third.loaded_rows["audit_log"] == 3
    assert third.row_counts["audit_log"] == 303
    assert _calls(emulator) == [("GET", NEW, {"sort": [NEWEST_FIRST]}, 200)]


def test_a_rerun_on_the_older_endpoint_asks_only_for_the_days_since(secoda, tmp_path):
    emulator, server = secoda(faults=_without_new_endpoint())
    kwargs = settings(emulator, server)
    run_secoda(tmp_path, kwargs, ["audit_log"])
    emulator.requests.clear()
    again = run_secoda(tmp_path, kwargs, ["audit_log"])
    assert again.loaded_rows.get("audit_log", 0) == 0
    # the newest entry is under a day old at the suite's time: 2 days asked
    assert _calls(emulator) == [
        ("GET", NEW, {"sort": [NEWEST_FIRST]}, 404),
        ("GET", OLD, {"days": ["2"], "page_size": ["100"]}, 200),
    ]


@pytest.mark.parametrize("first_offers_new", [False, True], ids=["old-then-new", "new-then-old"])
def test_a_workspace_moving_between_the_endpoints_keeps_its_rows_and_its_cursor(secoda, tmp_path, first_offers_new):
    first, first_server = secoda() if first_offers_new else secoda(faults=_without_new_endpoint())
    run_secoda(tmp_path, settings(first, first_server), ["audit_log"])
    # the same workspace a day later, now answering the other endpoint
    second, second_server = secoda(faults=_without_new_endpoint()) if first_offers_new else secoda()
    second.advance(timedelta(days=1))
    report = run_secoda(tmp_path, settings(second, second_server), ["audit_log"])
    assert report.loaded_rows["audit_log"] == 3
    assert report.row_counts["audit_log"] == 303
    assert query(report, "SELECT count(DISTINCT id) FROM audit_log")[0][0] == 303
    if first_offers_new:
        assert [(path, status) for _, path, _, status in _calls(second)] == [(NEW, 404), (OLD, 200)]
    else:
        assert _calls(second) == [("GET", NEW, {"sort": [NEWEST_FIRST]}, 200)]
    # every row as the documented endpoint gives it from scratch: the day before's, and the day's
    expected = {}
    for days in (0, 1):
        fresh, fresh_server = secoda()
        fresh.advance(timedelta(days=days))
        reference = run_secoda(tmp_path / f"fresh{days}", settings(fresh, fresh_server), ["audit_log"])
        expected.update({row[0]: row for row in _rows(reference)})
    assert _rows(report) == sorted(expected.values())


def test_a_record_of_the_documented_endpoint_reads_as_the_older_ones():
    entry = {
        "id": "a1",
        "activity_type": "resource.updated",
        "performer_id": "u1",
        "performer_type": "USER",
        "performer_metadata": {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com"},
        "created_at": "2026-11-15T10:00:00Z",
    }
    assert as_notification(entry) == {
        "id": "a1",
        "event": "resource.updated",
        "performer_type": "USER",
        "performer": {"id": "u1", "name": "Ada Lovelace", "email": "ada@example.com"},
        "created_at": "2026-11-15T10:00:00Z",
    }
    # an API key acting: no metadata, the id alone
    assert as_notification({"id": "a2", "performer_id": "k1", "performer_metadata": None})["performer"] == {"id": "k1"}
    # an older record passes unchanged
    older = {"id": "a3", "event": "x", "performer": {"id": "u2", "name": "B"}}
    assert as_notification(older) == older


@pytest.mark.parametrize("scale", ["demo", "large"])
def test_the_emulator_serves_the_same_entries_on_both_paths(secoda, scale):
    emulator, server = secoda(scale=scale)
    expected = emulator.expected_counts()["audit_log"]
    token = next(iter(emulator.keys))
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        first = session.get(server.url + NEW).json()
        pages = first["total_pages"]
        last = session.get(server.url + NEW, params={"page": pages}).json()
        beyond = session.get(server.url + NEW, params={"page": pages + 1})
        old = session.get(server.url + OLD, params={"page_size": 100}).json()
    assert first["count"] == old["count"] == expected
    assert pages == -(-expected // 50)
    assert set(first) == {"results", "count", "total_pages", "meta", "links"}
    assert first["links"]["previous"] is None
    assert first["links"]["next"].endswith(f"{NEW}?page=2")
    assert last["links"]["next"] is None
    assert len(first["results"]) == 50
    assert len(last["results"]) == expected - 50 * (pages - 1)
    assert beyond.status_code == 404
    # newest first by default, the same entries as the older list
    assert [e["id"] for e in first["results"]] == [e["id"] for e in old["results"][:50]]
    # and each entry the same: renamed, the older record plus the user's email and names
    renamed, older = as_notification(first["results"][0]), old["results"][0]
    assert {key: renamed[key] for key in older if key != "performer"} == {
        k: v for k, v in older.items() if k != "performer"
    }
    assert {key: renamed["performer"][key] for key in ("id", "name")} == older["performer"]


def test_the_emulator_filters_sorts_and_checks_the_token(secoda):
    emulator, server = secoda()
    url = server.url + NEW
    token = next(iter(emulator.keys))
    headers = {"Authorization": f"Bearer {token}"}
    oldest = {"sort": json.dumps({"field": "created_at", "order": "asc"})}
    by_type = {"filter": json.dumps({"operator": "in", "field": "resource_type", "value": ["table", "view"]})}
    ascending = requests.get(url, params=oldest, headers=headers).json()
    everything = requests.get(url, headers=headers).json()
    filtered = requests.get(url, params={**by_type, **oldest}, headers=headers).json()
    bad_field = requests.get(
        url, params={"filter": json.dumps({"operator": "gt", "field": "created_at"})}, headers=headers
    )
    missing = requests.get(url)
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"})
    times = [e["created_at"] for e in ascending["results"]]
    assert times == sorted(times)
    assert ascending["results"][0]["created_at"] < everything["results"][-1]["created_at"]
    assert 0 < filtered["count"] < 300
    assert {e["resource_type"] for e in filtered["results"]} <= {"table", "view"}
    assert filtered["links"]["next"] is None or "filter=" in filtered["links"]["next"]
    assert bad_field.status_code == 400
    assert bad_field.json() == {
        "detail": "unsupported filter operator 'gt': use and, or, not, exact, contains, in, is_set"
    }
    assert (missing.status_code, missing.json()) == (401, {"detail": "Authentication credentials were not provided."})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid token."})
