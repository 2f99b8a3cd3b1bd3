from datetime import UTC, datetime

import pytest

from fleetlake import pipelines
from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator
from fleetlake.sources import get_api

# the emulator's clock in these tests: counts of audit logs, backups and bills depend on it
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
TIDB = get_api("tidb")


@pytest.fixture
def tidb():
    """Start TiDB Cloud emulators on loopback ports: `emulator, server = tidb(**options)`."""
    servers = []

    def start(**options):
        options.setdefault("now", NOW)
        options.setdefault("rate_limit", None)
        emulator = TiDBCloudEmulator(**options)
        server = emulator.serve()
        servers.append(server)
        return emulator, server

    yield start
    for server in servers:
        server.stop()


def settings(emulator, server, **overrides):
    """Source arguments that point the TiDB source at an emulator."""
    return {
        "public_key": DEFAULT_PUBLIC_KEY,
        "private_key": DEFAULT_PRIVATE_KEY,
        **emulator.base_urls(server.url),
        "billing_end_month": "2026-11",
        **overrides,
    }


def run_tidb(tmp_path, source_kwargs, resources=None):
    """One pipeline run into tmp_path/tidb.duckdb with its own pipelines folder."""
    return pipelines.run(
        TIDB,
        source_kwargs=source_kwargs,
        resources=resources,
        pipelines_dir=tmp_path / "pipelines",
        duckdb_path=tmp_path / "tidb.duckdb",
    )


def query(report, sql, *args):
    """Rows of a SQL query against the run's dataset."""
    with report.pipeline.sql_client() as client:
        return client.execute_sql(sql, *args)
