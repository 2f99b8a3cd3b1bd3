"""DuckDB as fleetlake loads it: dlt's destination, with load jobs that can safely run twice, one at a time."""

from __future__ import annotations

from dlt.common.destination.capabilities import DestinationCapabilitiesContext
from dlt.common.destination.client import LoadJob
from dlt.common.destination.typing import PreparedTableSchema
from dlt.destinations import duckdb
from dlt.destinations.impl.duckdb.duck import DuckDbClient, DuckDbCopyJob


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


class ResumableDuckDbClient(DuckDbClient):
    """dlt's DuckDB client, resuming interrupted copy jobs with `ResumedCopyJob`."""

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        job = super().create_load_job(table, file_path, load_id, restore)
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

    def _raw_capabilities(self) -> DestinationCapabilitiesContext:
        caps = super()._raw_capabilities()
        # one load job at a time: DuckDB has one writer anyway, and parallel INSERTs of big files each held
        # their own buffers (a million audit log rows: peak RSS 346 MB with dlt's 20 workers, 304 MB with one)
        caps.loader_parallelism_strategy = "sequential"
        return caps
