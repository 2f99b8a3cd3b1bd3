"""A full load of the emulated organization: every table, exact counts and ids, typed columns."""

from datetime import UTC, datetime

import duckdb
import pytest

from fleetlake.sources.tidb_cloud.settings import OFF_BY_DEFAULT
from tests.conftest import query
from tests.sources.tidb_cloud.conftest import run_tidb, settings

EXPECTED = {
    "projects": 3,
    "clusters": 11,
    "backups": 76,
    "restores": 6,
    "imports": 13,
    "provider_regions": 11,
    "dedicated_clusters": 7,
    "dedicated_regions": 6,
    "dedicated_node_specs": 96,
    "dedicated_imports": 10,
    "dedicated_integrations": 8,
    "dedicated_changefeeds": 7,
    "dedicated_changefeed_rcus": 6,
    "dedicated_private_endpoint_connections": 8,
    "dedicated_node_quotas": 5,
    "serverless_clusters": 4,
    "serverless_regions": 5,
    "serverless_branches": 6,
    "serverless_exports": 9,
    "serverless_imports": 3,
    "api_keys": 3,
    "audit_logs": 400,
    "members": 8,
    "dedicated_cloud_providers": 2,
    "aws_cmek_keys": 1,
    "bills": 7,
    "bill_details": 9158,
    "cost_explorer": 1791,
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One full load shared by the assertions of this module (it is the expensive part)."""
    from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
    from tests.sources.tidb_cloud.conftest import NOW

    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    with emulator.serve() as server:
        report = run_tidb(tmp_path_factory.mktemp("full"), settings(emulator, server))
    return emulator, report


def test_every_table_has_the_emulated_row_count(loaded):
    emulator, report = loaded
    counts = {table: report.row_counts[table] for table in EXPECTED}
    assert counts == EXPECTED
    # the emulator's own model agrees, the cost explorer's rows per day and service included; the tables
    # off by default are not loaded
    expected = emulator.expected_counts()
    assert {table: count for table, count in expected.items() if table not in OFF_BY_DEFAULT} == EXPECTED
    assert not OFF_BY_DEFAULT & set(report.row_counts)
    assert query(report, "SELECT count(DISTINCT billed_date) FROM cost_explorer")[0][0] == 199


def test_ids_and_parent_keys_are_the_emulated_ones(loaded):
    emulator, report = loaded
    data = emulator.data
    project_ids = sorted(data.project(i).id for i in range(3))
    assert [row[0] for row in query(report, "SELECT id FROM projects ORDER BY id")] == project_ids
    cluster_ids = sorted(data.cluster(g).id for g in range(data.cluster_count))
    assert [row[0] for row in query(report, "SELECT id FROM clusters ORDER BY id")] == cluster_ids
    # backups only for Dedicated clusters, each carrying its cluster and project
    dedicated = {data.cluster(g).id for g in data.dedicated_clusters}
    backup_clusters = {row[0] for row in query(report, "SELECT DISTINCT cluster_id FROM backups")}
    assert backup_clusters == dedicated
    orphans = query(
        report,
        "SELECT count(*) FROM backups b LEFT JOIN clusters c ON b.cluster_id = c.id AND b.project_id = c.project_id"
        " WHERE c.id IS NULL",
    )
    assert orphans[0][0] == 0
    assert {row[0] for row in query(report, "SELECT cluster_id FROM dedicated_clusters")} == dedicated


def test_merge_keys_are_unique(loaded):
    _, report = loaded
    for table, key in [
        ("projects", "id"),
        ("backups", "id"),
        ("audit_logs", "id"),
        ("api_keys", "access_key"),
        ("dedicated_node_specs", "region_id, component_type, node_spec_key"),
        ("bill_details", "billed_date, project_name, cluster_name, service_path_name"),
    ]:
        duplicates = query(report, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
        assert duplicates[0][0] == 0, table


def test_timestamps_and_amounts_are_typed(loaded):
    _, report = loaded
    types = dict(
        query(
            report,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'tidb_instance_data'",
        )
    )
    assert types["projects.create_timestamp"] == "TIMESTAMP WITH TIME ZONE"  # unix seconds as a string
    assert types["backups.create_timestamp"] == "TIMESTAMP WITH TIME ZONE"  # ISO
    assert types["audit_logs.end_time"] == "TIMESTAMP WITH TIME ZONE"
    assert types["dedicated_clusters.create_time"] == "TIMESTAMP WITH TIME ZONE"
    assert types["bill_details.billed_date"] == "DATE"
    assert types["bill_details.total_cost"].startswith("DECIMAL")
    oldest = query(report, "SELECT min(create_timestamp) FROM projects")[0][0]
    assert oldest < datetime(2026, 11, 15, tzinfo=UTC)


def test_credentials_in_answers_are_never_loaded(loaded):
    _, report = loaded
    columns = {
        row[0]
        for row in query(
            report,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'tidb_instance_data'",
        )
    }
    credentials = {
        "secret_key",
        "root_password",
        "secret",
        "secret_access_key",
        "sas_token",
        "service_account_key",
    }
    assert {c.rsplit("__", 1)[-1] for c in columns} & credentials == set()
    assert "access_key" in columns  # the API key's public identifier stays


def test_the_seed_pages_queries_work(loaded):
    """dlt 1.31 with sqlglot 30 breaks `dataset()` queries: this fails if the pin drifts."""
    _, report = loaded
    frame = report.pipeline.dataset().projects.df()
    assert sorted(frame["id"]) == sorted(row[0] for row in query(report, "SELECT id FROM projects"))
    database = report.location
    with duckdb.connect(database, read_only=True) as connection:
        rows = connection.sql("SELECT * FROM tidb_instance_data.projects LIMIT 10").fetchall()
    assert len(rows) == 3
