"""DuckDB as fleetlake loads it: dlt's destination, with load jobs that can safely run twice, one job per
table at a time, in little memory except for merges."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dlt.common.destination.client import LoadJob
from dlt.common.destination.typing import PreparedTableSchema
from dlt.destinations import duckdb
from dlt.destinations.impl.duckdb.duck import DuckDbClient, DuckDbCopyJob
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
from dlt.destinations.job_client_impl import ModelLoadJob, SqlLoadJob

logger = logging.getLogger("fleetlake")

# DuckDB's memory limit while it copies files into tables, the database's setting when it opens. A
# million audit log rows: peak RSS 308 MB at 128 MB, 283 MB at 48 MB, 267 MB at 32 MB; their load took
# 4.9 s, 5.8 s and 7.5 s
COPY_MEMORY_LIMIT = "48MB"
# ... and while a merge runs: the copies' 48 MB plus 128 MB for the merge (64 MB ran out of memory
# merging Secoda's large catalog)
MERGE_MEMORY_LIMIT = "176MB"


class ResumedCopyJob(DuckDbCopyJob):
    """A parquet copy job that dlt runs again because the process died while it ran.

    dlt records a job as done only after its INSERT has committed; a process killed in between copies the
    file a second time on the next run. Append tables, and the root table of a merge with nested tables,
    keep both copies (dlt takes duplicates out of staging by primary key only for merges without nested
    tables). So the rows of this file that an earlier attempt committed go first, in the copy's transaction.
    """

    def run(self) -> None:
        client = self._job_client.sql_client
        columns = self._load_table["columns"]
        # `_dlt_id` is unique to a row of this file; tables loaded from Arrow may have none: the key then
        keys = ["_dlt_id"] if "_dlt_id" in columns else [n for n, c in columns.items() if c.get("primary_key")]
        if not keys or not self._file_path.endswith(".parquet"):
            super().run()
            return
        match = " AND ".join(f"d.{c} = f.{c}" for c in map(client.escape_column_name, keys))
        path = self._file_path.replace("'", "''")
        with client.begin_transaction():
            # the table and the file are dlt's own names, as in the copy itself
            client.execute_sql(
                f"DELETE FROM {client.make_qualified_table_name(self.load_table_name)} AS d WHERE EXISTS"  # noqa: S608
                f" (SELECT 1 FROM read_parquet('{path}', union_by_name=true) AS f WHERE {match})"
            )
            super().run()


class _MergeRoom:
    """One merge (an SQL job) at a time per database, with DuckDB's memory limit raised while it runs.

    Copies of different tables load side by side within `COPY_MEMORY_LIMIT`; merges take turns within
    `MERGE_MEMORY_LIMIT`. The limit is one setting of the whole database, so merges side by side would
    share it: a large Secoda catalog's load peaked at 634 MB that way, at 520 MB with merges taking
    turns. Lowering fails when DuckDB cannot free enough at that moment; the limit then stays higher
    until the next merge ends. Assumes one loading pipeline per database file in a process (dlt sets the
    opening limit again when a second one opens the file).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: dict[str, threading.Lock] = {}

    @contextmanager
    def merging(self, client: DuckDbSqlClient) -> Iterator[None]:
        settings = client.credentials.global_config or {}
        if settings.get("memory_limit", COPY_MEMORY_LIMIT) != COPY_MEMORY_LIMIT:
            # the user chose DuckDB's memory limit: it stays as set, merges included
            yield
            return
        database = os.path.realpath(str(client.credentials.database))
        with self._lock:
            turn = self._turns.setdefault(database, threading.Lock())
        with turn:
            client.execute_sql(f"SET memory_limit = '{MERGE_MEMORY_LIMIT}'")
            try:
                yield
            finally:
                try:
                    client.execute_sql(f"SET memory_limit = '{COPY_MEMORY_LIMIT}'")
                except Exception as error:  # DuckDB's OutOfMemory, wrapped by dlt
                    logger.info("DuckDB keeps a merge's memory limit for now: %s", error)


_ROOM = _MergeRoom()


class RoomySqlJob(SqlLoadJob):
    """dlt's SQL job (merges, SCD2, replace through staging), taking its turn with more of DuckDB's memory."""

    def run(self) -> None:
        with _ROOM.merging(self._job_client.sql_client):  # type: ignore[arg-type]
            super().run()


class RoomyModelJob(ModelLoadJob):
    """dlt's model job (an INSERT ... SELECT of a transformation), taking its turn like a merge."""

    def run(self) -> None:
        with _ROOM.merging(self._job_client.sql_client):  # type: ignore[arg-type]
            super().run()


class ResumableDuckDbClient(DuckDbClient):
    """dlt's DuckDB client: interrupted copy jobs resume with `ResumedCopyJob`, merges get more memory."""

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        job = super().create_load_job(table, file_path, load_id, restore)
        if type(job) is SqlLoadJob:
            return RoomySqlJob(file_path)
        if type(job) is ModelLoadJob:
            return RoomyModelJob(file_path)
        # `restore` marks the jobs a dead process had started
        if restore and type(job) is DuckDbCopyJob:
            return ResumedCopyJob(file_path)
        return job


class resumable_duckdb(duckdb):  # noqa: N801 (dlt's destination factories are lowercase)
    """`dlt.destinations.duckdb` whose interrupted load jobs do not load their rows twice."""

    @property
    def destination_type(self) -> str:
        # dlt's own type: the pipeline state, config sections and `dlt.pipeline(name).dataset()` see duckdb
        return duckdb().destination_type

    @property
    def client_class(self) -> type[DuckDbClient]:
        return ResumableDuckDbClient
