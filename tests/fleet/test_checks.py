"""Posture checks: every bundled rule on a DuckDB file holding, for each rule, a case it finds and a case
it does not; findings' first and last seen across two builds; a user's own rule, a broken rule, and the
CLI's `--fail-on` gate in a fresh process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from fleetlake import pipelines
from fleetlake.errors import ConfigurationError
from fleetlake.fleet.rules import FINDINGS_EXIT, bundled_rules, load_rules, parse_rule
from tests.cli.test_end_to_end import fleetlake

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
A = "acme"

RAW = f"""
CREATE SCHEMA tidb_instance_data; CREATE SCHEMA skysql_data; CREATE SCHEMA secoda_data;
CREATE TABLE tidb_instance_data.projects (fleetlake_account VARCHAR, id VARCHAR, org_id VARCHAR, name VARCHAR);
INSERT INTO tidb_instance_data.projects VALUES ('{A}', 'p1', 'org-1', 'Prod');
CREATE TABLE tidb_instance_data.clusters (fleetlake_account VARCHAR, id VARCHAR, project_id VARCHAR, name VARCHAR,
    cluster_type VARCHAR, status__cluster_status VARCHAR);
INSERT INTO tidb_instance_data.clusters VALUES
    ('{A}', 'c1', 'p1', 'backed-up', 'DEDICATED', 'AVAILABLE'),
    ('{A}', 'c2', 'p1', 'stale-backup', 'DEDICATED', 'AVAILABLE'),
    ('{A}', 'c3', 'p1', 'paused', 'DEDICATED', 'PAUSED'),
    ('{A}', 's1', 'p1', 'open-starter', 'DEVELOPER', 'AVAILABLE'),
    ('{A}', 's2', 'p1', 'capped-starter', 'DEVELOPER', 'AVAILABLE'),
    ('{A}', 's3', 'p1', 'essential', 'DEVELOPER', 'AVAILABLE');
CREATE TABLE tidb_instance_data.serverless_clusters (fleetlake_account VARCHAR, cluster_id VARCHAR, display_name VARCHAR,
    state VARCHAR, service_plan VARCHAR, spending_limit__monthly BIGINT, endpoints__public__disabled BOOLEAN,
    endpoints__public__authorized_networks JSON);
INSERT INTO tidb_instance_data.serverless_clusters VALUES
    ('{A}', 's1', 'open-starter', 'ACTIVE', 'Starter', 0, false, '[{{"cidr_notation": "0.0.0.0/0"}}]'),
    ('{A}', 's2', 'capped-starter', 'ACTIVE', 'Starter', 1000, false, '[{{"cidr_notation": "10.0.0.0/8"}}]'),
    ('{A}', 's3', 'essential', 'ACTIVE', 'Essential', 0, true, '[{{"cidr_notation": "0.0.0.0/0"}}]');
CREATE TABLE tidb_instance_data.backups (fleetlake_account VARCHAR, cluster_id VARCHAR, status VARCHAR,
    create_timestamp TIMESTAMPTZ);
INSERT INTO tidb_instance_data.backups VALUES
    ('{A}', 'c1', 'SUCCESS', TIMESTAMPTZ '2026-11-15 10:00:00+00'),
    ('{A}', 'c2', 'SUCCESS', TIMESTAMPTZ '2026-11-12 10:00:00+00'),
    ('{A}', 'c2', 'FAILED', TIMESTAMPTZ '2026-11-15 10:00:00+00');
CREATE TABLE tidb_instance_data.bill_details (fleetlake_account VARCHAR, billed_date DATE, billed_month VARCHAR,
    project_name VARCHAR, cluster_name VARCHAR, service_path_name VARCHAR, total_cost DECIMAL(38, 9),
    running_total DECIMAL(38, 9), credits DECIMAL(38, 9), discounts DECIMAL(38, 9));
INSERT INTO tidb_instance_data.bill_details VALUES
    ('{A}', DATE '2026-11-14', '2026-11', 'Prod', 'paused', 'TiDB Dedicated - Node Storage - TiKV', 5, 5, 0, 0),
    ('{A}', DATE '2026-11-14', '2026-11', 'Prod', 'backed-up', 'TiDB Dedicated - Node Compute - TiDB', 7, 7, 0, 0),
    ('{A}', DATE '2026-11-10', '2026-11', 'Prod', 'paused', 'TiDB Dedicated - Node Storage - TiKV', 5, 5, 0, 0);
CREATE TABLE tidb_instance_data.api_keys (fleetlake_account VARCHAR, name VARCHAR, display_name VARCHAR, role VARCHAR);
INSERT INTO tidb_instance_data.api_keys VALUES
    ('{A}', 'orgs/1/apiKeys/1', 'terraform', 'org:owner'), ('{A}', 'orgs/1/apiKeys/2', 'billing', 'org:billing_viewer');
CREATE TABLE tidb_instance_data.members (fleetlake_account VARCHAR, user_id VARCHAR, email VARCHAR, status VARCHAR,
    org_role__rbac_role VARCHAR);
INSERT INTO tidb_instance_data.members VALUES
    ('{A}', 'm1', 'owner@example.com', 'Active', 'org:owner'), ('{A}', 'm2', 'dev@example.com', 'Active', 'org:member');
CREATE TABLE tidb_instance_data.dedicated_changefeeds (fleetlake_account VARCHAR, id VARCHAR, cluster_id VARCHAR,
    name VARCHAR, state VARCHAR, error VARCHAR);
INSERT INTO tidb_instance_data.dedicated_changefeeds VALUES
    ('{A}', 'f1', 'c1', 'to-kafka', 'RUNNING', ''), ('{A}', 'f2', 'c1', 'to-s3', 'FAILED', 'access denied'),
    ('{A}', 'f3', 'c1', 'retrying', 'WARNING', 'broker slow');
CREATE TABLE tidb_instance_data.dedicated_private_endpoint_connections (fleetlake_account VARCHAR,
    private_endpoint_connection_id VARCHAR, cluster_id VARCHAR, cluster_display_name VARCHAR, endpoint_id VARCHAR,
    endpoint_state VARCHAR, message VARCHAR);
INSERT INTO tidb_instance_data.dedicated_private_endpoint_connections VALUES
    ('{A}', 'pe1', 'c1', 'backed-up', 'vpce-1', 'ACTIVE', ''), ('{A}', 'pe2', 'c1', 'backed-up', 'vpce-2', 'PENDING', '');
CREATE TABLE skysql_data.services (fleetlake_account VARCHAR, id VARCHAR, name VARCHAR, status VARCHAR, topology VARCHAR);
INSERT INTO skysql_data.services VALUES ('{A}', 'v1', 'guarded', 'ready', 'es-single'), ('{A}', 'v2', 'exposed', 'ready', 'es-single');
CREATE TABLE skysql_data.service_allowlists (fleetlake_account VARCHAR, service_id VARCHAR, ip VARCHAR, comment VARCHAR);
INSERT INTO skysql_data.service_allowlists VALUES
    ('{A}', 'v1', '10.0.0.0/8', 'office'), ('{A}', 'v2', '0.0.0.0/0', 'temporary'), ('{A}', 'v2', '::/0', ''),
    ('{A}', 'v2', '192.0.2.7/32', '');
CREATE TABLE skysql_data.backups (fleetlake_account VARCHAR, service_id VARCHAR, status VARCHAR, end_time TIMESTAMPTZ);
INSERT INTO skysql_data.backups VALUES
    ('{A}', 'v1', 'Succeeded', TIMESTAMPTZ '2026-11-15 11:00:00+00'),
    ('{A}', 'v2', 'Succeeded', TIMESTAMPTZ '2026-11-13 11:00:00+00');
CREATE TABLE skysql_data.backup_schedules (fleetlake_account VARCHAR, id VARCHAR, service_id VARCHAR, suspended BOOLEAN);
INSERT INTO skysql_data.backup_schedules VALUES ('{A}', 'b1', 'v1', false), ('{A}', 'b2', 'v2', true);
CREATE TABLE skysql_data.organization_users (fleetlake_account VARCHAR, id VARCHAR, email VARCHAR, org_id VARCHAR,
    org__name VARCHAR, org__current_owner VARCHAR, is_deleted BOOLEAN);
INSERT INTO skysql_data.organization_users VALUES
    ('{A}', 'u1', 'founder@example.com', 'org-9', 'Acme', 'u1', false),
    ('{A}', 'u2', 'analyst@example.com', 'org-9', 'Acme', 'u1', false);
CREATE TABLE secoda_data.resource_catalog (fleetlake_account VARCHAR, id VARCHAR, title VARCHAR, title_full VARCHAR,
    native_type VARCHAR, archived BOOLEAN, description VARCHAR, _dlt_id VARCHAR);
INSERT INTO secoda_data.resource_catalog VALUES
    ('{A}', 'r1', 'orders', 'shop.orders', 'table', false, 'One row per order', 'd1'),
    ('{A}', 'r2', 'scratch', 'shop.scratch', 'table', false, '', 'd2'),
    ('{A}', 'r3', 'id', 'shop.scratch.id', 'column', false, '', 'd3');
CREATE TABLE secoda_data.resource_catalog__owners (value VARCHAR, _dlt_parent_id VARCHAR);
INSERT INTO secoda_data.resource_catalog__owners VALUES ('u-1', 'd1');
"""

EXPECTED = {
    ("FL001", "c2"),
    ("FL002", "v2"),
    ("FL003", "v2"),
    ("FL004", "s1"),
    ("FL005", "c3"),
    ("FL006", "orgs/1/apiKeys/1"),
    ("FL007", "m1"),
    ("FL007", "u1"),
    ("FL008", "s1"),
    ("FL009", "r2"),
    ("FL010", "r2"),
    ("FL011", "v2"),
    ("FL012", "f2"),
    ("FL013", "pe2"),
}
"""For each rule, what it finds here; every other case of its (a backed-up cluster, a capped Starter, ...)
it must not."""


@pytest.fixture
def raw(tmp_path):
    database = tmp_path / "inventory.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(RAW)
    return database


def _build(raw, tmp_path, now=NOW, rules=None):
    return pipelines.build_model(None, duckdb_path=raw, pipelines_dir=tmp_path / "pipelines", now=now, rules=rules)


def _found(raw) -> set[tuple[str, str]]:
    with duckdb.connect(str(raw), read_only=True) as connection:
        return {tuple(row) for row in connection.execute("SELECT rule_id, resource_id FROM fleet.findings").fetchall()}


def test_every_rule_finds_its_case_and_only_it(raw, tmp_path):
    report = _build(raw, tmp_path)
    assert report.rule_errors == {}
    assert _found(raw) == EXPECTED
    assert report.row_counts["findings"] == len(EXPECTED)  # one row per rule and resource (FL011: two open entries)
    assert {rule.id for rule in bundled_rules()} == {rule for rule, _ in EXPECTED}
    with duckdb.connect(str(raw), read_only=True) as connection:
        row = connection.execute(
            "SELECT severity, title, account, resource_name, detail, first_seen, last_seen FROM fleet.findings "
            "WHERE rule_id = 'FL005'"
        ).fetchone()
    assert row == (
        "medium",
        "Paused cluster still billed",
        A,
        "paused",
        "billed 5.00 USD on 2026-11-14 while paused",
        NOW,
        NOW,
    )


def test_a_finding_keeps_when_it_was_first_seen_and_leaves_when_fixed(raw, tmp_path):
    _build(raw, tmp_path)
    with duckdb.connect(str(raw)) as connection:  # the owner caps the open Starter cluster
        connection.execute(
            "UPDATE tidb_instance_data.serverless_clusters SET spending_limit__monthly = 500 WHERE cluster_id = 's1'"
        )
    later = NOW + timedelta(hours=6)
    rebuilt = _build(raw, tmp_path, now=later)
    assert _found(raw) == EXPECTED - {("FL004", "s1")}
    assert rebuilt.row_counts["findings"] == len(EXPECTED) - 1  # a second build doubles nothing
    with duckdb.connect(str(raw), read_only=True) as connection:
        seen = connection.execute("SELECT first_seen, last_seen FROM fleet.findings WHERE rule_id = 'FL008'").fetchall()
    assert seen == [(NOW, later)]


def test_a_users_own_rule_runs_beside_the_bundled_and_a_broken_one_costs_nothing(raw, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "ACME1.sql").write_text(
        "-- id: ACME1\n-- severity: critical\n-- title: Cluster named like scratch\n-- fix: Rename it.\n"
        "SELECT vendor, account, 'cluster' AS resource_type, cluster_id AS resource_id, cluster_name AS resource_name,"
        " 'named ' || cluster_name AS detail FROM fleet.clusters WHERE cluster_name LIKE '%starter%'\n"
    )
    (folder / "ACME2.sql").write_text(
        "-- id: ACME2\n-- severity: low\n-- title: Broken\n-- fix: None.\nSELECT * FROM no_such_table\n"
    )
    report = _build(raw, tmp_path, rules=load_rules(folder))
    assert _found(raw) == EXPECTED | {("ACME1", "s1"), ("ACME1", "s2")}
    assert list(report.rule_errors) == ["ACME2"]
    assert "no_such_table" in report.rule_errors["ACME2"]


def test_a_rule_without_its_header_says_what_it_lacks():
    with pytest.raises(ConfigurationError) as raised:
        parse_rule("-- id: X1\n-- title: T\nSELECT 1", "rules/x1.sql")
    assert str(raised.value).startswith("The check rule rules/x1.sql lacks `-- severity: ...`, `-- fix: ...`.")
    with pytest.raises(ConfigurationError) as raised:
        parse_rule("-- id: X1\n-- severity: dire\n-- title: T\n-- fix: F\nSELECT 1", "x1.sql")
    assert str(raised.value) == "The check rule x1.sql has severity 'dire'; use one of low, medium, high, critical."


def test_checks_print_the_findings_and_fail_on_gates_the_exit_code(raw, tmp_path, clean_env):
    args = ("checks", "--file", str(raw), "--pipelines-dir", str(tmp_path / "pipelines"))
    env = {**clean_env, "FLEETLAKE_NOW": NOW.isoformat()}
    listed = fleetlake(*args, env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "14 findings: 5 high, 4 medium, 5 low" in listed.stdout
    # the type column is as wide as its longest value (private_endpoint)
    assert "FL006  high      tidb    acme     api_key           terraform            role: org:owner" in listed.stdout
    gated = fleetlake(*args, "--fail-on", "high", env=env, cwd=tmp_path)
    assert gated.returncode == FINDINGS_EXIT, gated.stderr[-3000:]
    assert "5 findings of severity high or worse (exit 12)." in gated.stderr
    assert fleetlake(*args, "--fail-on", "critical", env=env, cwd=tmp_path).returncode == 0


def test_a_duckdb_file_named_like_the_model_dataset_is_refused_before_any_work(tmp_path):
    with pytest.raises(ConfigurationError) as raised:
        pipelines.build_model(None, duckdb_path=tmp_path / "fleet.duckdb", pipelines_dir=tmp_path)
    assert str(raised.value).startswith(
        f"The DuckDB file {tmp_path / 'fleet.duckdb'} has the name of the model's dataset (fleet)"
    )
    assert not (tmp_path / "fleet.duckdb").exists()
