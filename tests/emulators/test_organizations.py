"""Several organizations of one API on one emulator server, over real sockets: each key reaches its own
organization's data under its own quota, the data clock is shared, and a wrong key is refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import duckdb
import pytest
import requests

from fleetlake.emulators.base import EmulatorSetup, Organizations
from fleetlake.emulators.skysql import SkySQLEmulator
from fleetlake.sources import REGISTRY, get_api
from tests.conftest import run_pipeline
from tests.sources.tidb_cloud.conftest import NOW

# the first list of each API, whose ids the organizations' different data tell apart
FIRST = {"tidb": "projects", "skysql": "services", "secoda": "document", "widgets": "widgets"}


def _ids(database, dataset: str, table: str) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {row[0] for row in connection.execute(f"SELECT id FROM {dataset}.{table}").fetchall()}


@pytest.mark.parametrize("api", list(REGISTRY))
def test_each_key_loads_its_own_organization(api, tmp_path):
    contract = get_api(api)
    table = FIRST[api]
    served = Organizations(contract.emulator(), EmulatorSetup(now=NOW), 2)
    first, second = served.emulators
    with served.serve() as server:
        settings = served.source_settings(server.url)
        assert len({str(sorted(s.items())) for s in settings}) == 2  # each has its own keys
        reports = [run_pipeline(api, tmp_path / f"org{n}", settings[n], resources=[table]) for n in range(2)]
    dataset = contract.dataset_name
    ids = [_ids(tmp_path / f"org{n}" / f"{api}.duckdb", dataset, table) for n in range(2)]
    assert [report.row_counts[table] for report in reports] == [
        first.expected_counts()[table],
        second.expected_counts()[table],
    ]
    assert len(ids[0]) == len(ids[1]) == reports[0].row_counts[table]
    assert ids[0].isdisjoint(ids[1])  # another organization's data, none of the first's
    # each organization's log holds its own key's requests only: none went to the other
    keys = [{record.key_id for record in org.requests if record.key_id} for org in (first, second)]
    assert [len(found) for found in keys] == [1, 1]
    assert keys[0].isdisjoint(keys[1])


def test_each_organization_has_its_own_quota_and_they_share_the_clock():
    served = Organizations(SkySQLEmulator, EmulatorSetup(now=NOW, rate_limit=3), 2)
    keys = [settings["api_key"] for settings in served.source_settings("")]
    with served.serve() as server:
        url = server.url + "/provisioning/v1/services"

        def ask(key: str) -> int:
            return requests.get(url, headers={"X-API-Key": key}, timeout=10).status_code

        assert [ask(keys[0]) for _ in range(4)] == [200, 200, 200, 429]
        assert [ask(keys[1]) for _ in range(3)] == [200, 200, 200]  # the first's spent quota is not its own
        assert ask("not-a-key") == 401
        moved = requests.post(server.url + "/_emulator/advance", params={"seconds": 86_400}, timeout=10)
        assert moved.status_code == 200
    assert [org.clock.now() for org in served.emulators] == [NOW + timedelta(days=1)] * 2


def test_emulate_prints_the_settings_of_each_organization(tmp_path):
    command = [sys.executable, "-m", "fleetlake", "emulate", "skysql", "--port", "0", "--organizations", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("advance its clock"):
            lines.append(process.stdout.readline().strip())
        url = lines[0].split(" on ")[1].split()[0]
        assert [line for line in lines if line.startswith("organization ")] == [
            "organization 1 of 2:",
            "organization 2 of 2:",
        ]
        keys = [line.split("=", 1)[1] for line in lines if line.startswith("export SOURCES__SKYSQL_SOURCE__API_KEY=")]
        assert keys == ["fleetlake-demo-skysql-key", "fleetlake-demo-skysql-key-1"]
        answers = [
            requests.get(url + "/organization/v1/projects", headers={"X-API-Key": key}, timeout=10) for key in keys
        ]
        assert [answer.status_code for answer in answers] == [200, 200]
        assert answers[0].json() != answers[1].json()
    finally:
        process.terminate()
        process.wait(timeout=30)
