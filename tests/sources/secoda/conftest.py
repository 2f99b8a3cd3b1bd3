from datetime import UTC, datetime

import pytest

from fleetlake.emulators.secoda import SecodaEmulator
from tests.conftest import run_pipeline

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def secoda(serve):
    """Start Secoda emulators: `emulator, server = secoda(**options)`."""

    def start(**options):
        options.setdefault("now", NOW)
        emulator = SecodaEmulator(**options)
        return emulator, serve(emulator)

    return start


def settings(emulator, server, **overrides):
    return {**emulator.source_settings(server.url), **overrides}


def run_secoda(tmp_path, source_kwargs, resources=None):
    return run_pipeline("secoda", tmp_path, source_kwargs, resources)


def catalog_calls(emulator):
    return emulator.requests.filter(path="/api/v1/resource/catalog")
