"""Builds the `fleet` dataset: reads the raw tables the model needs from the destination, runs the model's
queries in an in-memory DuckDB, and loads their results with dlt into the same destination's `fleet`
dataset (replaced whole each time; the clusters' history merged with dlt's SCD2 strategy).

Reading back and loading again costs a copy of the model's inputs in memory (the inventory, the bills and
the audit logs: some 30 MB at the emulator's large scale), and buys one SQL dialect for every destination.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.schema import Schema
from dlt.pipeline.pipeline import Pipeline

from fleetlake import clock, locks
from fleetlake.fleet.model import DATASET, INPUTS, PIPELINE, TABLES, TRACKED, Table
from fleetlake.fleet.rules import Rule, load_rules, run_rules

logger = logging.getLogger("fleetlake")

_SQL = resources.files("fleetlake.fleet") / "sql"


def query_text(name: str) -> str:
    """The text of one of the model's queries (`clusters.sql`, ...)."""
    return (_SQL / name).read_text(encoding="utf-8")


@dataclass
class ModelReport:
    """What a build wrote: rows per `fleet` table, where, and how long it took."""

    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    location: str = ""
    missing: list[str] = field(default_factory=list)
    """Raw tables the model reads that the destination does not hold (their APIs not loaded there)."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    """`fleet.findings` as written: the posture rules' open findings."""
    rule_errors: dict[str, str] = field(default_factory=dict)
    """Rules that could not run, with the database's reason."""


def _existing_columns(dataset: Any, dataset_name: str) -> dict[str, set[str]]:
    """The destination's tables of `dataset_name` and their columns, from its information schema."""
    try:
        with dataset.sql_client as client:
            database = client.fully_qualified_dataset_name(quote=False).split(".")
            schema = database[-1]
            rows = client.execute_sql(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s", schema
            )
    except Exception as error:  # the dataset does not exist there (its API never loaded into it)
        logger.debug("dataset %s cannot be read: %s", dataset_name, error)
        return {}
    tables: dict[str, set[str]] = {}
    for table, column in rows or []:
        tables.setdefault(str(table).lower(), set()).add(str(column).lower())
    return tables


DEFAULT_ACCOUNT = "default"
"""The account of rows loaded from a single-key section (the seed pages' way), which carry none."""


def _read_inputs(connection: duckdb.DuckDBPyConnection, destination: Any, sources: Mapping[str, str]) -> list[str]:
    """Each input table as a table of `connection` under its seed dataset's name (read from the dataset
    `sources` names for it, if any), typed as the model reads it (absent columns NULL, absent tables
    empty). Returns the raw tables that were absent."""
    missing = []
    for canonical, tables in INPUTS.items():
        dataset_name = sources.get(canonical, canonical)
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{canonical}"')
        dataset = dlt.dataset(destination, dataset_name)
        existing = _existing_columns(dataset, dataset_name)
        for table, columns in tables.items():
            present = [name for name in columns if name in existing.get(table, set())]
            target = f'"{canonical}"."{table}"'
            if present:
                with dataset.sql_client as client:
                    selected = ", ".join(client.escape_column_name(name) for name in present)
                    with client.execute_query(
                        f"SELECT {selected} FROM {client.make_qualified_table_name(table)}"
                    ) as cursor:
                        data = cursor.arrow()
                connection.register("_fleet_input", data)
                source = "_fleet_input"
            else:
                missing.append(f"{dataset_name}.{table}")
                source = None
            values = {name: f'_fleet_input."{name}"' if name in present else "NULL" for name in columns}
            if "fleetlake_account" in values:
                values["fleetlake_account"] = f"coalesce({values['fleetlake_account']}, '{DEFAULT_ACCOUNT}')"
            for name, kind in columns.items():
                if kind == "JSON" and name in present:
                    values[name] = f"fleet_json({values[name]})"
            typed = ", ".join(f'CAST({values[name]} AS {kind}) AS "{name}"' for name, kind in columns.items())
            where = f"FROM {source}" if source else "LIMIT 0"
            connection.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {typed} {where}")
            if source:
                connection.unregister("_fleet_input")
    return missing


_DUCKDB_TYPES = {
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "decimal": "DECIMAL(38, 9)",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "json": "JSON",
    "bool": "BOOLEAN",
}


def _columns(table: Table, pipeline: Pipeline) -> dict[str, Any]:
    """The dlt column hints of a model table in `pipeline`'s destination.

    JSON arrives as its text (Arrow has no type for any JSON value). dlt's sqlalchemy destination hands a
    `json` column's value to SQLAlchemy's JSON type, which encodes a text once more (MariaDB then held
    `"{\"team\": ...}"`, a string, where FOCUS's Tags must be an object: found by the FOCUS validator), so
    there the column is text holding the JSON as written; MariaDB's and MySQL's JSON type is that too."""
    text_json = pipeline.destination.destination_type.endswith(".sqlalchemy")
    hints: dict[str, Any] = {}
    for column in table.columns:
        hint: dict[str, Any] = {
            "data_type": "text" if text_json and column.data_type == "json" else column.data_type,
            "nullable": column.nullable,
            "description": column.description,
        }
        if column.data_type == "decimal":
            hint.update(precision=38, scale=9)
        hints[column.name] = hint
    return hints


def _arrow(connection: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    table: pa.Table = connection.execute(sql).fetch_arrow_table()
    # DuckDB hands JSON over as Arrow's JSON extension type: plain text is what every destination takes
    fields = [pa.field(f.name, pa.string()) if str(f.type).startswith("extension") else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table


def model_pipeline(destination: Any, pipelines_dir: Path | None, dataset: str = DATASET) -> Pipeline:
    """The dlt pipeline that loads the `fleet` dataset (or `dataset`: its own pipeline per dataset)."""
    return dlt.pipeline(
        pipeline_name=PIPELINE if dataset == DATASET else f"{PIPELINE}_{dataset}",
        destination=destination,
        dataset_name=dataset,
        pipelines_dir=str(pipelines_dir or get_dlt_pipelines_dir()),
    )


def build(
    destination: Any,
    *,
    lock: tuple[str, str],
    location: str,
    pipelines_dir: Path | None = None,
    now: datetime | None = None,
    sources: Mapping[str, str] | None = None,
    dataset: str = DATASET,
    rules: Sequence[Rule] | None = None,
    then: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None,
) -> ModelReport:
    """Build the `fleet` dataset (or `dataset`) in `destination` (a dlt destination) from the APIs' seed
    datasets (or those `sources` maps them to: `{"tidb_instance_data": "prod_tidb"}`); `lock` is the
    destination's lock (key, description) held while the model reads and writes; `now` is the history's
    boundary time (the clock's now by default); `rules` the posture rules (the bundled ones by default);
    `then` is called last with the build's DuckDB and `location`, holding `fleet.*` as written and the raw
    tables it read (`fleetlake report` writes its page from it)."""
    started = time.perf_counter()
    seen_at = now or clock.now()
    tables = {table.name: table for table in TABLES}
    holding = locks.holding(*lock, wait=True, started=clock.now().isoformat(timespec="seconds"))
    with holding, duckdb.connect(":memory:") as connection:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(query_text("macros.sql"))
        missing = _read_inputs(connection, destination, sources or {})
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{DATASET}"')
        results: dict[str, pa.Table] = {}
        for name in ("clusters", "changefeeds", "costs", "audit_events"):
            connection.execute(f'CREATE TABLE "{DATASET}"."{name}" AS {query_text(tables[name].query or "")}')
            results[name] = _arrow(connection, f'SELECT * FROM "{DATASET}"."{name}"')
        pipeline = model_pipeline(destination, pipelines_dir, dataset)
        tracked = ", ".join(f'"{c}"' for c in ("vendor", "account", "cluster_id", *TRACKED))
        history_rows = connection.execute(f'SELECT {tracked} FROM "{DATASET}".clusters').fetch_arrow_table()
        history = dlt.resource(
            history_rows.to_pylist(),
            name="cluster_history",
            write_disposition={"disposition": "merge", "strategy": "scd2", "boundary_timestamp": seen_at},
            columns=_columns(tables["cluster_history"], pipeline),
        )
        replaced = [
            dlt.resource(
                results[name], name=name, write_disposition="replace", columns=_columns(tables[name], pipeline)
            )
            for name in results
        ]
        pipeline.run([*replaced, history], loader_file_format=_file_format(pipeline), schema=_schema())
        # the changes come from the history as the destination now holds it (none yet: no deployment seen)
        _read_back(connection, pipeline, tables["cluster_history"], ("_dlt_valid_from", "_dlt_valid_to"))
        changes = _arrow(connection, query_text("cluster_changes.sql"))
        # the posture rules over the model and the raw tables; a finding keeps the first build that saw it
        connection.execute(f"CREATE OR REPLACE MACRO fleet_now() AS TIMESTAMPTZ '{seen_at.isoformat()}'")
        found, rule_errors = run_rules(connection, load_rules(None) if rules is None else rules)
        _read_back(connection, pipeline, tables["findings"], ())
        connection.register("_found", found)
        findings = _arrow(
            connection,
            "SELECT f.rule_id, f.severity, f.title, f.vendor, f.account, f.resource_type, f.resource_id,"
            " f.resource_name, f.detail, f.fix, coalesce(p.first_seen, fleet_now()) AS first_seen,"
            # one earlier finding per key, however many rows a rule gave it before
            " fleet_now() AS last_seen FROM _found AS f LEFT JOIN (SELECT rule_id, vendor, account, resource_id,"
            f' min(first_seen) AS first_seen FROM "{DATASET}".findings GROUP BY ALL) AS p'
            " ON p.rule_id = f.rule_id AND p.vendor IS NOT DISTINCT FROM f.vendor"
            " AND p.account IS NOT DISTINCT FROM f.account AND p.resource_id IS NOT DISTINCT FROM f.resource_id"
            " ORDER BY f.rule_id, f.vendor, f.account, f.resource_id",
        )
        second = [
            dlt.resource(data, name=name, write_disposition="replace", columns=_columns(tables[name], pipeline))
            for name, data in (("cluster_changes", changes), ("findings", findings))
        ]
        pipeline.run(second, loader_file_format=_file_format(pipeline), schema=_schema())
        counts = {name: results[name].num_rows for name in results}
        history_count = connection.execute(f'SELECT count(*) FROM "{DATASET}".cluster_history').fetchone()
        counts["cluster_history"] = int(history_count[0]) if history_count else 0
        counts["cluster_changes"] = changes.num_rows
        counts["findings"] = findings.num_rows
        report = ModelReport(counts, time.perf_counter() - started, location, missing)
        report.findings = findings.to_pylist()
        report.rule_errors = rule_errors
        if then is not None:
            for name, data in (("cluster_changes", changes), ("findings", findings)):
                connection.register("_built", data)
                connection.execute(f'CREATE OR REPLACE TABLE "{DATASET}"."{name}" AS SELECT * FROM _built')
                connection.unregister("_built")
            then(connection, location)
    return report


def _read_back(connection: duckdb.DuckDBPyConnection, pipeline: Pipeline, table: Table, times: tuple[str, ...]) -> None:
    """`table` of the model as the destination holds it, as `fleet.<name>` of `connection` (empty, with
    its declared columns and dlt's `times`, where the destination has none yet)."""
    declared = [f'CAST(NULL AS {_DUCKDB_TYPES[c.data_type]}) AS "{c.name}"' for c in table.columns]
    declared += [f"CAST(NULL AS TIMESTAMPTZ) AS {name}" for name in times]
    target = f'"{DATASET}"."{table.name}"'
    connection.execute(f"CREATE TABLE {target} AS SELECT {', '.join(declared)} LIMIT 0")
    try:
        schema_tables = pipeline.default_schema.tables
    except Exception:  # no schema yet: nothing built before
        return
    if table.name not in schema_tables:
        return
    with (
        pipeline.sql_client() as client,
        client.execute_query(f"SELECT * FROM {client.make_qualified_table_name(table.name)}") as cursor,
    ):
        connection.register("_read_back", cursor.arrow())
    names = ", ".join(f'"{c.name}"' for c in table.columns) + "".join(f", {name}" for name in times)
    connection.execute(f"INSERT INTO {target} SELECT {names} FROM _read_back")
    connection.unregister("_read_back")


def _schema() -> Schema:
    """The model's dlt schema: names kept as written (FOCUS's columns are `BilledCost`, not dlt's default
    `billed_cost`), through dlt's case-sensitive SQL naming convention."""
    return Schema(PIPELINE, normalizers={"names": "sql_cs_v1"})


def _file_format(pipeline: Pipeline) -> Any:
    formats = pipeline.destination.capabilities().supported_loader_file_formats or []
    return "parquet" if "parquet" in formats else None


def describe() -> Mapping[str, str]:
    """Each `fleet` table with its one-line description (`fleetlake resources fleet`)."""
    return {table.name: table.description for table in TABLES}
