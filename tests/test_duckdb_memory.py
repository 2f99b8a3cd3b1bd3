"""The built-in DuckDB copies files in little memory and merges in turn with more, on a real database file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import dlt
import pytest
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

from fleetlake import duckdb_destination, pipelines
from fleetlake.duckdb_destination import RoomySqlJob, _MergeRoom
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from tests.sources.tidb_cloud.conftest import NOW, run_tidb, settings

# DuckDB shows its limit in binary units: 48 MB, and 48 + 128 MB while a merge runs
COPIES = "45.7 MiB"
ONE_MERGE = "167.8 MiB"


def memory_limit(connection) -> str:
    return str(connection.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


@pytest.fixture
def client(tmp_path: Path):
    destination = pipelines.resolve_destination(None, tmp_path / "room.duckdb", "room_test")
    pipeline = dlt.pipeline("room_test", destination=destination, pipelines_dir=str(tmp_path / "p"))
    with pipeline.sql_client() as client:
        yield client


def turn(room: _MergeRoom, client) -> threading.Lock:
    return room._turns[os.path.realpath(client.credentials.database)]


def test_a_merge_raises_the_limit_for_the_whole_database_and_gives_it_back(client) -> None:
    room = _MergeRoom()
    other = client.native_connection.cursor()  # another connection to the same database, as a copy job has
    assert memory_limit(other) == COPIES
    with room.merging(client):
        assert memory_limit(other) == ONE_MERGE
    assert memory_limit(other) == COPIES


def test_merges_take_turns(client) -> None:
    room = _MergeRoom()
    with room.merging(client):
        # a second merge of the same database would wait here for its turn
        assert not turn(room, client).acquire(blocking=False)
    assert turn(room, client).acquire(blocking=False)


def test_a_failed_merge_gives_the_limit_and_its_turn_back(client) -> None:
    room = _MergeRoom()
    with pytest.raises(RuntimeError), room.merging(client):
        raise RuntimeError("the merge failed")
    assert memory_limit(client.native_connection) == COPIES
    assert not turn(room, client).locked()


def test_a_merge_that_cannot_raise_the_limit_keeps_no_turn(client, monkeypatch) -> None:
    room = _MergeRoom()
    execute_sql = client.execute_sql

    def refusing(sql, *args, **kwargs):
        raise RuntimeError("Out of Memory Error: could not set the memory limit")

    monkeypatch.setattr(client, "execute_sql", refusing)
    with pytest.raises(RuntimeError, match="Out of Memory"), room.merging(client):
        pass
    assert not turn(room, client).locked()
    monkeypatch.setattr(client, "execute_sql", execute_sql)
    with room.merging(client):  # the next merge raises it as the first would have
        assert memory_limit(client.native_connection) == ONE_MERGE


def test_a_load_copies_in_little_memory_and_merges_with_more(tmp_path, serve, monkeypatch) -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    server = serve(emulator)
    seen: list[tuple[str, str, str]] = []
    merge_run, copy_run = RoomySqlJob.run, DuckDbCopyJob.run

    def merge(job: RoomySqlJob) -> None:
        connection = job._job_client.sql_client.native_connection
        original = job._job_client.sql_client.execute_many

        def execute_many(statements, *args, **kwargs):
            seen.append(("merge", job.load_table_name, memory_limit(connection)))
            return original(statements, *args, **kwargs)

        monkeypatch.setattr(job._job_client.sql_client, "execute_many", execute_many)
        merge_run(job)
        # given back before the job's connection goes back to the pool
        seen.append(("after merge", job.load_table_name, memory_limit(connection)))

    def copy(job: DuckDbCopyJob) -> None:
        seen.append(("copy", job.load_table_name, memory_limit(job._job_client.sql_client.native_connection)))
        copy_run(job)

    monkeypatch.setattr(RoomySqlJob, "run", merge)
    monkeypatch.setattr(DuckDbCopyJob, "run", copy)
    # one merge (projects) and one append (audit logs): no other merge can overlap it
    report = run_tidb(tmp_path, settings(emulator, server), resources=["projects", "audit_logs"])
    assert report.row_counts["projects"] == 3
    assert report.row_counts["audit_logs"] == 400
    assert ("copy", "projects", COPIES) in seen  # into staging, before its merge
    assert [event for event in seen if event[0] != "copy"] == [
        ("merge", "projects", ONE_MERGE),
        ("after merge", "projects", COPIES),
    ]
    assert not any(lock.locked() for lock in duckdb_destination._ROOM._turns.values())
