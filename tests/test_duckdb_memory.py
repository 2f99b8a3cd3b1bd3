"""The built-in DuckDB copies files in little memory and gives each merge its own share, on a real file."""

from __future__ import annotations

from pathlib import Path

import dlt
import pytest
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

from fleetlake import duckdb_destination, pipelines
from fleetlake.duckdb_destination import RoomySqlJob, _MergeRoom
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from tests.sources.tidb_cloud.conftest import NOW, run_tidb, settings

# DuckDB shows its limit in binary units: 48 MB, 48 + 128 MB, 48 + 2 x 128 MB
COPIES = "45.7 MiB"
ONE_MERGE = "167.8 MiB"
TWO_MERGES = "289.9 MiB"


def memory_limit(connection) -> str:
    return str(connection.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


@pytest.fixture
def client(tmp_path: Path):
    destination = pipelines.resolve_destination(None, tmp_path / "room.duckdb", "room_test")
    pipeline = dlt.pipeline("room_test", destination=destination, pipelines_dir=str(tmp_path / "p"))
    with pipeline.sql_client() as client:
        yield client


def test_each_merge_adds_its_share_for_the_whole_database(client) -> None:
    room = _MergeRoom()
    other = client.native_connection.cursor()  # another connection to the same database, as a copy job has
    assert memory_limit(other) == COPIES
    with room.merging(client):
        assert memory_limit(other) == ONE_MERGE
        with room.merging(client):  # a second table's merge, side by side
            assert memory_limit(other) == TWO_MERGES
        assert memory_limit(other) == ONE_MERGE  # the first still runs
    assert memory_limit(other) == COPIES
    assert room._running == {}


def test_a_failed_merge_gives_its_share_back(client) -> None:
    room = _MergeRoom()
    with pytest.raises(RuntimeError), room.merging(client):
        raise RuntimeError("the merge failed")
    assert memory_limit(client.native_connection) == COPIES
    assert room._running == {}


def test_a_merge_that_cannot_raise_the_limit_counts_nothing(client, monkeypatch) -> None:
    room = _MergeRoom()
    execute_sql = client.execute_sql

    def refusing(sql, *args, **kwargs):
        raise RuntimeError("Out of Memory Error: could not set the memory limit")

    monkeypatch.setattr(client, "execute_sql", refusing)
    with pytest.raises(RuntimeError, match="Out of Memory"), room.merging(client):
        pass
    assert room._running == {}
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
    assert duckdb_destination._ROOM._running == {}
