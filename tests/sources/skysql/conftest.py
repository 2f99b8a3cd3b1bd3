from datetime import UTC, datetime

import pytest

from fleetlake.emulators.skysql import SkySQLEmulator
from tests.conftest import run_pipeline

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def skysql(serve):
    """Start SkySQL emulators: `emulator, server = skysql(**options)`."""

    def start(**options):
        options.setdefault("now", NOW)
        emulator = SkySQLEmulator(**options)
        return emulator, serve(emulator)

    return start


def settings(emulator, server, **overrides):
    """Source arguments pointing the SkySQL source at an emulator: bills for its twelve months."""
    return {**emulator.source_settings(server.url), "billing_end_month": "2026-11", "billing_months": 11, **overrides}


def run_skysql(tmp_path, source_kwargs, resources=None):
    return run_pipeline("skysql", tmp_path, source_kwargs, resources)
