"""The built-in DuckDB loads copy jobs in little memory and gives merges more, on a real database file."""

from __future__ import annotations

from pathlib import Path

import dlt
import pytest

from fleetlake import duckdb_destination, pipelines
from fleetlake.duckdb_destination import RoomySqlJob, _MergeRoom
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from tests.sources.tidb_cloud.conftest import NOW, run_tidb, settings

# DuckDB shows its limit in binary units: 48 MB and 128 MB
COPY_LIMIT = "45.7 MiB"
MERGE_LIMIT = "122.0 MiB"


def memory_limit(client) -> str:
    return str(client.execute_sql("SELECT current_setting('memory_limit')")[0][0])


def test_a_merge_raises_the_limit_and_the_last_one_to_end_lowers_it(tmp_path: Path) -> None:
    destination = pipelines.resolve_destination(None, tmp_path / "room.duckdb", "room_test")
    pipeline = dlt.pipeline("room_test", destination=destination, pipelines_dir=str(tmp_path / "p"))
    room = _MergeRoom()
    with pipeline.sql_client() as client:
        assert memory_limit(client) == COPY_LIMIT
        with room.merging(client):
            assert memory_limit(client) == MERGE_LIMIT
            with room.merging(client):  # a second table's merge, side by side
                assert memory_limit(client) == MERGE_LIMIT
            assert memory_limit(client) == MERGE_LIMIT  # the first still runs
        assert memory_limit(client) == COPY_LIMIT


def test_a_failed_merge_gives_the_room_back(tmp_path: Path) -> None:
    destination = pipelines.resolve_destination(None, tmp_path / "room.duckdb", "room_test")
    pipeline = dlt.pipeline("room_test", destination=destination, pipelines_dir=str(tmp_path / "p"))
    room = _MergeRoom()
    with pipeline.sql_client() as client:
        with pytest.raises(RuntimeError), room.merging(client):
            raise RuntimeError("the merge failed")
        assert memory_limit(client) == COPY_LIMIT


def test_a_load_runs_every_merge_with_room_and_copies_without(tmp_path, serve, monkeypatch) -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    server = serve(emulator)
    seen: list[tuple[str, str]] = []
    run = RoomySqlJob.run

    def recording(job: RoomySqlJob) -> None:
        # the limit as the merge's own statements see it
        original = job._job_client.sql_client.execute_many

        def execute_many(statements, *args, **kwargs):
            seen.append((job.load_table_name, memory_limit(job._job_client.sql_client)))
            return original(statements, *args, **kwargs)

        monkeypatch.setattr(job._job_client.sql_client, "execute_many", execute_many)
        run(job)

    monkeypatch.setattr(RoomySqlJob, "run", recording)
    report = run_tidb(tmp_path, settings(emulator, server), resources=["projects", "clusters", "audit_logs"])
    assert report.row_counts["projects"] == 3
    assert report.row_counts["clusters"] == 11
    assert report.row_counts["audit_logs"] == 400
    # projects and clusters merge (audit logs append): each merge ran at the merge limit
    assert sorted(seen) == [("clusters", MERGE_LIMIT), ("projects", MERGE_LIMIT)]
    with report.pipeline.sql_client() as client:
        assert memory_limit(client) == COPY_LIMIT
    assert duckdb_destination._ROOM._running == {}
