from datetime import UTC, datetime

import pytest

from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator
from tests.conftest import run_pipeline

# the emulator's clock in these tests: counts of audit logs, backups and bills depend on it
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


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
    return run_pipeline("tidb", tmp_path, source_kwargs, resources)
