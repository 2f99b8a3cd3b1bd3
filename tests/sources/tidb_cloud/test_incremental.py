"""Audit logs are incremental: a re-run asks for the new window only; after the clock moves, exactly
the new events load. Bills: past months once, the current month on every run."""

from datetime import timedelta

from tests.conftest import query
from tests.sources.tidb_cloud.conftest import run_tidb, settings

AUDIT = "/iam/v1beta1/auditLogs"


def test_audit_logs_rerun_loads_nothing_then_exactly_the_new_events(tidb, tmp_path):
    emulator, server = tidb()
    kwargs = settings(emulator, server)
    first = run_tidb(tmp_path, kwargs, ["audit_logs"])
    assert first.row_counts["audit_logs"] == 400
    last_event = query(first, "SELECT max(end_time) FROM audit_logs")[0][0]
    assert [r.query.get("startTime") for r in emulator.requests.filter(path=AUDIT, status=200)] == [None] * 4

    emulator.requests.clear()
    second = run_tidb(tmp_path, kwargs, ["audit_logs"])
    calls = emulator.requests.filter(path=AUDIT, status=200)
    assert len(calls) == 1
    assert calls[0].query["startTime"] == [last_event.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert second.loaded_rows.get("audit_logs", 0) == 0
    assert second.row_counts["audit_logs"] == 400

    before = emulator.expected_counts()["audit_logs"]
    emulator.advance(timedelta(days=1))
    new_events = emulator.expected_counts()["audit_logs"] - before
    assert new_events == 13
    third = run_tidb(tmp_path, kwargs, ["audit_logs"])
    assert third.loaded_rows["audit_logs"] == new_events
    assert third.row_counts["audit_logs"] == 400 + new_events
    assert query(third, "SELECT count(*) FROM audit_logs WHERE end_time > ?", last_event)[0][0] == new_events


def test_new_backups_and_cluster_states_appear_after_the_clock_moves(tidb, tmp_path):
    emulator, server = tidb()
    kwargs = settings(emulator, server)
    first = run_tidb(tmp_path, kwargs, ["clusters", "backups"])
    assert first.row_counts["backups"] == 76
    emulator.advance(timedelta(days=2))
    expected = emulator.expected_counts()["backups"]
    assert expected == 90
    second = run_tidb(tmp_path, kwargs, ["clusters", "backups"])
    assert second.row_counts["backups"] == expected
    assert second.row_counts["clusters"] == 11


def test_past_bill_months_load_once_and_the_last_two_every_run(tidb, tmp_path):
    emulator, server = tidb()
    kwargs = settings(emulator, server)
    run_tidb(tmp_path, kwargs, ["bills"])
    months = sorted(r.path.rsplit("/", 1)[1] for r in emulator.requests.filter(server="billing", status=200))
    assert months == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    emulator.requests.clear()
    report = run_tidb(tmp_path, kwargs, ["bills"])
    # 2026-11 is the current month and 2026-10 may still be adjusted: both reload; the five before are final
    reloaded = sorted(r.path for r in emulator.requests.filter(server="billing", status=200))
    assert reloaded == ["/billing/v1beta1/bills/2026-10", "/billing/v1beta1/bills/2026-11"]
    assert report.row_counts["bills"] == 7
