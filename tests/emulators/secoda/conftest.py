"""Fixtures for the Secoda emulator tests: the demo workspace on a real socket, bearer sessions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from fleetlake.emulators import EmulatorServer
from fleetlake.emulators.secoda import DEFAULT_API_KEY, SecodaEmulator

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
DEMO_COUNTS = {
    "resource_catalog": 600,
    "resource_detail": 600,
    "document": 36,
    "collection": 8,
    "integration": 3,
    "users": 12,
    "teams": 5,
    "tags": 15,
    "lineage": 40,
    "tables": 52,
    "columns": 394,
    "terms": 24,
    "questions": 20,
    "audit_log": 300,
}
"""`expected_counts()` of the demo workspace at seed 0 and NOW."""
SNOWFLAKE_ID = "025dccce-bf58-4caf-a95e-7745434e0e9b"
POSTGRES_ID = "8d03d3d0-9b2d-4b0f-8d25-db0046d75a28"
TABLEAU_ID = "5754031b-09b3-4ef5-ae77-6f4b468ce81e"


@dataclass
class Running:
    """An emulator with its server and base URL (`.../api/v1`)."""

    emulator: SecodaEmulator
    server: EmulatorServer
    base: str


def bearer_session(token: str = DEFAULT_API_KEY) -> requests.Session:
    """A requests session that sends `Authorization: Bearer <token>`, as the client does."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def as_json(tree: Any) -> str:
    """A filter or sort as the query parameter carries it (requests URL-encodes it)."""
    return json.dumps(tree, separators=(",", ":"))


@pytest.fixture(scope="module")
def demo() -> Iterator[Running]:
    """The demo workspace at NOW, shared by a test module."""
    emulator = SecodaEmulator(now=NOW)
    with emulator.serve() as server:
        yield Running(emulator, server, emulator.base_url(server.url))


@pytest.fixture
def api(demo: Running) -> Iterator[requests.Session]:
    """A bearer session against the shared demo emulator, with its request log cleared."""
    demo.emulator.requests.clear()
    with bearer_session() as session:
        yield session
