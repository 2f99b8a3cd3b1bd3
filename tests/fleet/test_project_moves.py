"""A TiDB X instance moved to another project (the vendor's project types of 2026-04-14: instances of a
`tidbx_virtual` project can be moved into a `tidbx` one, and their `project_id` changes): the fleet model
keeps one deployment, under its new project, and its history records no change of the tracked fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from fleetlake import pipelines

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)

RAW = """
CREATE SCHEMA tidb_instance_data;
CREATE TABLE tidb_instance_data.projects (fleetlake_account VARCHAR, id VARCHAR, org_id VARCHAR, name VARCHAR,
    type VARCHAR);
INSERT INTO tidb_instance_data.projects VALUES
    ('acme', 'virtual-1', 'org-1', 'Organization', 'tidbx_virtual'), ('acme', 'x-7', 'org-1', 'Apps', 'tidbx');
CREATE TABLE tidb_instance_data.clusters (fleetlake_account VARCHAR, id VARCHAR, project_id VARCHAR, name VARCHAR,
    cluster_type VARCHAR, status__cluster_status VARCHAR);
INSERT INTO tidb_instance_data.clusters VALUES ('acme', 's1', 'virtual-1', 'app-db', 'DEVELOPER', 'AVAILABLE');
"""


def _build(database, folder, now):
    return pipelines.build_model(None, duckdb_path=database, pipelines_dir=folder / "pipelines", now=now)


def _rows(database, sql):
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_an_instance_moved_to_another_project_stays_one_deployment_with_no_history_change(tmp_path):
    database = tmp_path / "inventory.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(RAW)
    first = _build(database, tmp_path, NOW)
    assert first.row_counts["clusters"] == 1
    clusters = "SELECT cluster_id, project_id, project_name, state FROM fleet.clusters"
    assert _rows(database, clusters) == [("s1", "virtual-1", "Organization", "running")]
    # the owner moves the instance into the TiDB X project: the next load lists it under its new project id
    with duckdb.connect(str(database)) as connection:
        connection.execute("UPDATE tidb_instance_data.clusters SET project_id = 'x-7' WHERE id = 's1'")
    second = _build(database, tmp_path, NOW + timedelta(hours=1))
    assert second.row_counts["clusters"] == 1
    assert _rows(database, clusters) == [("s1", "x-7", "Apps", "running")]
    # one version in the history, no change row: the project is where a deployment is listed, not what it is
    assert _rows(database, "SELECT count(*) FROM fleet.cluster_history") == [(1,)]
    assert _rows(database, "SELECT count(*) FROM fleet.cluster_changes") == [(0,)]
    assert second.row_counts["cluster_changes"] == 0
