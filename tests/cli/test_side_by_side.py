"""Accounts load side by side: one account waiting on its API does not hold up another's load into the
same DuckDB file. In-process runs against a real emulator server on loopback."""

from __future__ import annotations

import asyncio
import threading

import duckdb
import pytest

from fleetlake.accounts import Account
from fleetlake.emulators.base import EmulatorSetup, Organizations
from fleetlake.emulators.server import EmulatorServer
from fleetlake.errors import ConfigurationError
from fleetlake.pipelines import RunReport, run, run_side_by_side, side_by_side_setting
from fleetlake.sources import get_api
from tests.sources.tidb_cloud.conftest import NOW

GATE_SECONDS = 120.0
"""How long a held request waits for the test to let it go: a bound, not a pace (a failure, not a hang)."""


class Gate:
    """Holds every request of one key until `release`; says when the first one arrived."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.timed_out = False

    def wrap(self, app, presented_key):
        async def gated(scope, receive, send):
            if scope["type"] == "http" and presented_key(scope) == self.key:
                self.arrived.set()
                loop = asyncio.get_running_loop()
                if not await loop.run_in_executor(None, self.released.wait, GATE_SECONDS):
                    self.timed_out = True
            await app(scope, receive, send)

        return gated


def _services(database, account: str) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM skysql_data.services WHERE fleetlake_account = ?", [account]
            ).fetchone()[0]
        )


def test_an_account_held_by_its_api_does_not_hold_up_another_accounts_load(tmp_path):
    api = get_api("skysql")
    emulator = api.emulator()
    served = Organizations(emulator, EmulatorSetup(now=NOW), 2)
    held_key = served.emulators[0].source_settings("http://x")["api_key"]
    gate = Gate(held_key)
    database = tmp_path / "fleet.duckdb"
    seen_while_held: dict[str, object] = {}
    with EmulatorServer(gate.wrap(served.app, emulator.presented_key)) as server:
        held, free = served.source_settings(server.url)

        def load(name: str, settings: dict) -> RunReport:
            return run(
                api,
                source_kwargs=settings,
                pipelines_dir=tmp_path / "pipelines",
                duckdb_path=database,
                resources=["services"],
                account=Account(name),
            )

        def free_then_release() -> RunReport:
            try:
                report = load("free", free)
                # the held account is still inside its first request, and the free one's load is in the file
                seen_while_held["held waiting"] = gate.arrived.is_set() and not gate.released.is_set()
                seen_while_held["free rows"] = _services(database, "free")
                return report
            finally:
                gate.released.set()

        results = run_side_by_side([lambda: load("held", held), free_then_release], workers=2)
    assert not gate.timed_out
    assert [type(result).__name__ for result in results] == ["RunReport", "RunReport"], results
    assert seen_while_held == {"held waiting": True, "free rows": 8}
    assert _services(database, "held") == 8
    assert _services(database, "free") == 8
    assert [result.pipeline.pipeline_name for result in results] == ["skysql_pipeline_held", "skysql_pipeline_free"]


def test_one_after_another_gives_each_error_in_its_place():
    calls: list[str] = []

    def ok() -> str:
        calls.append("ok")
        return "report"

    def fails() -> str:
        calls.append("fails")
        raise ConfigurationError("no key")

    results = run_side_by_side([fails, ok], workers=1)
    assert calls == ["fails", "ok"]
    assert isinstance(results[0], ConfigurationError)
    assert str(results[0]) == "no key"
    assert results[1] == "report"


@pytest.mark.parametrize(("value", "expected"), [(None, 8), ("3", 3), ("1", 1)])
def test_side_by_side_comes_from_dlts_configuration(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("FLEETLAKE__SIDE_BY_SIDE", value)
    assert side_by_side_setting() == expected


def test_a_side_by_side_of_zero_says_what_it_takes(monkeypatch):
    monkeypatch.setenv("FLEETLAKE__SIDE_BY_SIDE", "0")
    with pytest.raises(ConfigurationError) as raised:
        side_by_side_setting()
    assert str(raised.value) == (
        "`side_by_side` in [fleetlake] (or FLEETLAKE__SIDE_BY_SIDE) is '0'; set it to a whole number of at least 1: "
        "how many accounts load at once (default 8; 1 loads them one after another)."
    )
