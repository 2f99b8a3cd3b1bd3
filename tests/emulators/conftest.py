"""Fixtures for the emulator tests: a fixed data time, a fake monotonic clock, digest sessions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from requests.auth import HTTPDigestAuth
from requests.utils import parse_dict_header

from fleetlake.emulators import EmulatorServer
from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator

NOW = datetime(2025, 6, 15, 12, tzinfo=UTC)


class FakeTime:
    """A monotonic clock the test moves by hand (quota windows, nonce ages)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def digest_session(public: str = DEFAULT_PUBLIC_KEY, private: str = DEFAULT_PRIVATE_KEY) -> requests.Session:
    """A requests session that logs in with HTTP Digest, as the client does."""
    session = requests.Session()
    session.auth = HTTPDigestAuth(public, private)
    return session


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_header(
    challenge: str,
    *,
    method: str,
    uri: str,
    user: str = DEFAULT_PUBLIC_KEY,
    password: str = DEFAULT_PRIVATE_KEY,
    omit: tuple[str, ...] = (),
) -> str:
    """An Authorization header answering `challenge`, built by hand so tests can break it on purpose."""
    fields = parse_dict_header(challenge.removeprefix("Digest "))
    nc, cnonce = "00000001", "0a4f113b"
    ha1 = md5(f"{user}:{fields['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    parts = {
        "username": f'"{user}"',
        "realm": f'"{fields["realm"]}"',
        "nonce": f'"{fields["nonce"]}"',
        "uri": f'"{uri}"',
        "algorithm": "MD5",
        "response": f'"{response}"',
        "opaque": f'"{fields["opaque"]}"',
        "qop": "auth",
        "nc": nc,
        "cnonce": f'"{cnonce}"',
    }
    return "Digest " + ", ".join(f"{k}={v}" for k, v in parts.items() if k not in omit)


@dataclass
class Running:
    """An emulator with its server and base URLs."""

    emulator: TiDBCloudEmulator
    server: EmulatorServer
    urls: dict[str, str]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(scope="module")
def demo() -> Iterator[Running]:
    """The demo organization at NOW, without rate limiting, shared by a test module."""
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    with emulator.serve() as server:
        yield Running(emulator, server, emulator.base_urls(server.url))


@pytest.fixture
def api(demo: Running) -> Iterator[requests.Session]:
    """A digest session against the shared demo emulator, with its request log cleared."""
    demo.emulator.requests.clear()
    with digest_session() as session:
        yield session
