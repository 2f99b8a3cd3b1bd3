"""The SkySQL source against its emulator over loopback: every table, both token modes, envelope paging,
seed-only endpoints, keys, 429 bursts and incremental re-runs."""

from datetime import timedelta

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from fleetlake.errors import AuthenticationError
from fleetlake.troubleshoot import causes
from tests.conftest import query
from tests.sources.skysql.conftest import run_skysql, settings

EXPECTED = {
    "services": 8,
    "service_types": 2,
    "topologies": 5,
    "providers": 3,
    "regions": 14,
    "sizes": 75,
    "versions": 7,
    "configs": 3,
    "service_allowlists": 7,
    "products": 4,
    "product_configs": 13,
    "tiers": 2,
    "volume_types": 4,
    "availability_zones": 42,
    "projects": 2,
    "organization_users": 6,
    "backups": 45,
    "restores": 3,
    "backup_schedules": 14,
    "billing_account": 1,
    "bills": 12,
    "postpaid_commit_ledger": 14,
    "prepaid_credit_ledger": 3,
}


def test_full_load_has_every_table_and_never_asks_for_credentials(skysql, tmp_path, caplog):
    emulator, server = skysql()
    with caplog.at_level("WARNING", logger="fleetlake"):
        report = run_skysql(tmp_path, settings(emulator, server))
    assert {table: report.row_counts.get(table) for table in EXPECTED} == EXPECTED
    model = emulator.expected_counts()
    assert {table: model[table] for table in EXPECTED} == EXPECTED
    service_ids = sorted(row[0] for row in query(report, "SELECT id FROM services"))
    assert service_ids == sorted(emulator.data.service(i).id for i in range(8))
    assert all(i.startswith(("dbtgf", "dbagf")) for i in service_ids)
    # the seed-only endpoints and the old pages' billing lists are not offered: one warning each, no table,
    # the run goes on
    for missing in ("databases", "users", "invoices", "service_usage"):
        assert missing not in report.row_counts
    # lists are fetched concurrently: the four warnings come in any order
    warnings = sorted(
        r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name.startswith("fleetlake")
    )
    assert len(warnings) == 4
    assert warnings[0].startswith("SkySQL databases (GET")
    assert "answered 404 (no such endpoint: /provisioning/v1/databases); skipped" in warnings[0]
    assert warnings[1].startswith("SkySQL invoices (GET")
    assert "answered 404 (no such endpoint: /billing/v1/invoices); skipped" in warnings[1]
    assert warnings[2].startswith("SkySQL service_usage (GET")
    assert warnings[3].startswith("SkySQL users (GET")
    assert not [r for r in emulator.requests.records() if "credentials" in r.path]
    # 9 provisioning lists, 2 topologies lists (one per service type), 2 organization, 2 skybackup, 8 schedules
    # and 8 allow-lists (one each per service), 4 product configs, 3 volume types (one per provider), 14 zones
    # (one per region), 1 account, 12 bills, 2 ledgers, and the four 404s
    assert emulator.requests.count(status=200) == 67
    assert emulator.requests.count(status=404) == 4
    assert emulator.requests.count() == 71
    # resources are extracted side by side, so the two topologies requests may come in either order
    assert sorted(r.query["service_type"][0] for r in emulator.requests.filter(path="/provisioning/v1/topologies")) == [
        "analytical",
        "transactional",
    ]
    # the seed-only and old billing lists are "not offered", the others loaded: a complete run
    statuses = {outcome.resource: outcome.status.value for outcome in report.outcomes}
    not_offered = {"databases", "users", "invoices", "service_usage"}
    assert {name for name, status in statuses.items() if status != "loaded"} == not_offered
    assert {statuses[name] for name in not_offered} == {"not offered"}
    assert report.exit_code == 0


def test_timestamps_are_typed_from_epochs_and_iso_strings(skysql, tmp_path):
    emulator, server = skysql()
    report = run_skysql(tmp_path, settings(emulator, server), ["services", "sizes", "backups"])
    types = dict(
        query(
            report,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'skysql_data'",
        )
    )
    assert types["services.created_on"] == "TIMESTAMP WITH TIME ZONE"  # integer epoch
    assert types["sizes.created_on"] == "TIMESTAMP WITH TIME ZONE"  # ISO string
    assert types["backups.start_time"] == "TIMESTAMP WITH TIME ZONE"


def test_services_page_by_the_next_token_header(skysql, tmp_path):
    emulator, server = skysql()
    report = run_skysql(tmp_path, settings(emulator, server, page_size=3), ["services"])
    assert report.row_counts["services"] == 8
    calls = emulator.requests.filter(path="/provisioning/v1/services")
    assert [c.query["page_size"] for c in calls] == [["3"], ["3"], ["3"]]
    assert "page_token" not in calls[0].query
    assert all(c.query.get("page_token") for c in calls[1:])


def test_without_a_token_a_short_page_ends_the_list(skysql, tmp_path, caplog):
    emulator, server = skysql(page_token_mode="none")
    with caplog.at_level("WARNING", logger="fleetlake"):
        report = run_skysql(tmp_path, settings(emulator, server), ["services"])
    assert report.row_counts["services"] == 8
    assert len(emulator.requests.filter(path="/provisioning/v1/services")) == 1
    assert not [r for r in caplog.records if "truncated" in r.getMessage()]


def test_without_a_token_a_full_page_is_reported_possibly_incomplete(skysql, tmp_path, caplog):
    emulator, server = skysql(page_token_mode="none")
    with caplog.at_level("WARNING", logger="fleetlake"):
        report = run_skysql(tmp_path, settings(emulator, server, page_size=5), ["services", "sizes"])
    assert report.row_counts["services"] == 5
    [warning] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SkySQL services: a full")]
    assert warning.startswith("SkySQL services: a full page of 5 came back without a next-page token")
    assert "set page_token_header in [sources.skysql_source]" in warning
    # not only a log line: the outcome table and the exit code say it
    [services, sizes] = report.outcomes
    assert (services.resource, services.status.value, services.rows) == ("services", "possibly incomplete", 5)
    assert services.reason.startswith("a full page of 5 came back without a next-page token (looked for the headers")
    assert (sizes.resource, sizes.status.value) == ("sizes", "possibly incomplete")
    assert report.exit_code == 8


def test_a_link_header_or_a_token_in_an_object_body_pages_too(skysql, tmp_path):
    emulator, server = skysql(page_token_mode="link")
    report = run_skysql(tmp_path, settings(emulator, server, page_size=3), ["services"])
    assert report.row_counts["services"] == 8
    assert report.exit_code == 0
    emulator, server = skysql(page_token_mode="body")
    report = run_skysql(tmp_path / "body", settings(emulator, server, page_size=3), ["services"])
    assert report.row_counts["services"] == 8
    calls = emulator.requests.filter(path="/provisioning/v1/services")
    assert [c.query.get("page_token") is not None for c in calls] == [False, True, True]
    assert report.exit_code == 0


def test_backups_page_through_the_envelope(skysql, tmp_path):
    emulator, server = skysql()
    report = run_skysql(tmp_path, settings(emulator, server, page_size=10), ["backups"])
    assert report.row_counts["backups"] == 45
    calls = emulator.requests.filter(path="/skybackup/v1/backups")
    assert [c.query["page"] for c in calls] == [["1"], ["2"], ["3"], ["4"], ["5"]]
    assert {c.query["order"][0] for c in calls} == {"desc"}
    assert query(report, "SELECT count(DISTINCT id) FROM backups")[0][0] == 45


def test_seed_only_endpoints_load_when_offered_without_passwords(skysql, tmp_path):
    emulator, server = skysql(seed_only_endpoints="serve")
    report = run_skysql(tmp_path, settings(emulator, server), ["databases", "users"])
    assert report.row_counts["databases"] == 15
    assert report.row_counts["users"] == 12
    columns = {
        row[0] for row in query(report, "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")
    }
    assert "password" not in columns
    assert "username" in columns


def test_a_wrong_key_fails_with_the_vendors_message_and_the_fix(skysql, tmp_path):
    emulator, server = skysql()
    with pytest.raises(PipelineStepFailed) as error:
        run_skysql(tmp_path, settings(emulator, server, api_key="not-a-key"), ["services"])
    [cause] = [c for c in causes(error.value) if isinstance(c, AuthenticationError)]
    message = str(cause)
    assert message.startswith(f"SkySQL services (GET {server.url}/provisioning/v1/services) answered 401 Unauthorized")
    assert "[sources.skysql_source]" in message
    assert "not-a-key" not in message


def test_a_429_burst_is_waited_out_with_nothing_lost_or_duplicated(skysql, tmp_path):
    # SkySQL sends no quota headers, only Retry-After on the 429: the burst must be met and survived
    emulator, server = skysql(rate_limit=8, rate_window_seconds=0.25)
    report = run_skysql(tmp_path, settings(emulator, server))
    assert {table: report.row_counts.get(table) for table in EXPECTED} == EXPECTED
    assert emulator.requests.count(status=429) >= 1
    assert query(report, "SELECT count(*) - count(DISTINCT id) FROM backup_schedules")[0][0] == 0


def test_a_rerun_after_a_day_picks_up_exactly_the_changes(skysql, tmp_path):
    emulator, server = skysql()
    kwargs = settings(emulator, server)
    first = run_skysql(tmp_path, kwargs, ["services", "backups"])
    before = {row[0]: row[1] for row in query(first, "SELECT id, updated_on FROM services")}
    emulator.advance(timedelta(days=1))
    emulator.requests.clear()
    second = run_skysql(tmp_path, kwargs, ["services", "backups"])
    after = {row[0]: row[1] for row in query(second, "SELECT id, updated_on FROM services")}
    changed = sum(1 for i in after if after[i] != before[i])
    assert changed == 3  # merged on id: the three services whose status moved, updated in place
    assert second.row_counts["services"] == 8
    new_backups = emulator.expected_counts()["backups"] - 45
    assert new_backups == 7
    assert second.loaded_rows["backups"] == new_backups
    assert second.row_counts["backups"] == 45 + new_backups
    # newest first: the backups list stops on its first page, at the first backup already loaded
    assert len(emulator.requests.filter(path="/skybackup/v1/backups")) == 1
