"""Fixtures for the SkySQL emulator tests: the demo organization on a real socket, API-key sessions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests

from fleetlake.emulators import EmulatorServer
from fleetlake.emulators.skysql import DEFAULT_API_KEY, SkySQLEmulator

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
SERVICE_IDS = [
    "dbtgf33601273",
    "dbtgf94446740",
    "dbtgf55292207",
    "dbagf16137674",
    "dbagf76983141",
    "dbtgf37828608",
    "dbtgf98674075",
    "dbtgf59519542",
]
"""The demo services at seed 0, oldest first."""
ORG_ID = "org-6a6d5aa70fcf"
KEY_ID = "key-aa17a8b4dc8c"


@dataclass
class Sky:
    """An emulator with its running server."""

    emulator: SkySQLEmulator
    server: EmulatorServer

    @property
    def url(self) -> str:
        return self.emulator.base_url(self.server.url)


def key_session(key: str | None = DEFAULT_API_KEY, **headers: str) -> requests.Session:
    """A requests session sending `X-API-Key` (and any other headers), as the client does."""
    session = requests.Session()
    if key is not None:
        session.headers["X-API-Key"] = key
    session.headers.update(headers)
    return session


@pytest.fixture
def sky_factory() -> Iterator[object]:
    """Start SkySQL emulators at NOW on loopback ports: `sky = sky_factory(**options)`."""
    servers: list[EmulatorServer] = []

    def start(**options: object) -> Sky:
        options.setdefault("now", NOW)
        emulator = SkySQLEmulator(**options)
        server = emulator.serve()
        servers.append(server)
        return Sky(emulator, server)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def sky() -> Iterator[Sky]:
    """The demo organization at NOW, without rate limiting, shared by a test module."""
    emulator = SkySQLEmulator(now=NOW)
    with emulator.serve() as server:
        yield Sky(emulator, server)


@pytest.fixture
def sky_api(sky: Sky) -> Iterator[requests.Session]:
    """A session with the demo key against the shared emulator, its request log cleared."""
    sky.emulator.requests.clear()
    with key_session() as session:
        yield session
