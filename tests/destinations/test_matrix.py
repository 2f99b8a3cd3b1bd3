"""The destination matrix: every API loads into each destination from the emulators, set the dlt way
(environment variables under dlt's own names), then again a day later; each destination then holds
exactly what DuckDB holds: the same row count in every table (nested ones included), the same primary
keys in every table that has them, none twice.

PostgreSQL (trust auth, no password) and MariaDB (dlt's sqlalchemy destination with pymysql) are this
machine's own servers, which `.ci/run` starts when they are down; Delta tables go to a local folder and
to S3 (moto's server on loopback, in a process of its own: deltalake holds the GIL while it waits for an
answer, so a moto thread in this process would never give one); plain parquet files are refused, since
dlt would append where fleetlake merges.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from pathlib import Path

import pymysql
import pytest

from fleetlake import pipelines
from fleetlake.sources import get_api
from tests.sources.tidb_cloud.conftest import NOW

APIS = ("tidb", "skysql", "secoda")
DAY = timedelta(days=1)


def _load_twice(api_name: str, tmp_path: Path, destination: str, dataset: str | None, **options):
    """The API loaded today, then after its emulator's clock moved a day; the second run's report."""
    api = get_api(api_name)
    emulator = api.load("emulator")(seed=3, scale="demo", rate_limit=None, now=NOW)
    report = None
    with emulator.serve(port=0) as server:
        for day in range(2):
            if day:
                emulator.advance(DAY)
            report = pipelines.run(
                api,
                source_kwargs=emulator.source_settings(server.url),
                destination=destination,
                dataset_name=dataset,
                pipelines_dir=tmp_path / f"pipelines-{destination}",
                duckdb_path=tmp_path / f"{api_name}.duckdb" if destination == "duckdb" else None,
                **options,
            )
    assert report is not None
    return report


def _primary_keys(report) -> dict[str, list[str]]:
    schema = report.pipeline.default_schema
    return {
        table["name"]: [column for column, spec in table["columns"].items() if spec.get("primary_key")]
        for table in schema.data_tables()
        if not table.get("parent") and any(spec.get("primary_key") for spec in table["columns"].values())
    }


def _keys(report, table_format: str | None = None) -> dict[str, list[tuple]]:
    """Every root table's primary keys, as sorted tuples of text."""
    found = {}
    if table_format == "delta":
        from dlt.common.libs.deltalake import get_delta_tables

        tables = get_delta_tables(report.pipeline)
        for name, key in _primary_keys(report).items():
            rows = tables[name].to_pyarrow_table(columns=key).to_pylist()
            found[name] = sorted(tuple(str(row[column]) for column in key) for row in rows)
        return found
    dataset = report.pipeline.dataset()
    for name, key in _primary_keys(report).items():
        rows = dataset[name].select(*key).fetchall()
        found[name] = sorted(tuple(str(value) for value in row) for row in rows)
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """DuckDB's tables after the two days, per API: row counts and primary keys."""
    folder = tmp_path_factory.mktemp("duckdb")
    loaded = {}
    for api in APIS:
        report = _load_twice(api, folder, "duckdb", None)
        loaded[api] = (report.row_counts, _keys(report))
    return loaded


def _assert_same(api: str, reference, report, table_format: str | None = None) -> None:
    counts, keys = reference[api]
    assert report.row_counts == counts
    found = _keys(report, table_format)
    assert found == keys
    for table, values in found.items():
        assert len(values) == len(set(values)), f"{table} repeats a primary key"


@pytest.fixture
def postgres(monkeypatch):
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", "postgresql://postgres@127.0.0.1:5432/test")
    datasets: list[str] = []
    yield datasets
    import psycopg2

    with psycopg2.connect("postgresql://postgres@127.0.0.1:5432/test") as connection, connection.cursor() as cursor:
        for dataset in datasets:
            for schema in (dataset, f"{dataset}_staging"):
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def mariadb(monkeypatch):
    monkeypatch.setenv("DESTINATION__SQLALCHEMY__CREDENTIALS", "mysql+pymysql://root:@127.0.0.1:3306/test")
    datasets: list[str] = []
    yield datasets
    connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with connection.cursor() as cursor:
            for dataset in datasets:
                for database in (dataset, f"{dataset}_staging"):
                    cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        connection.close()


@pytest.mark.parametrize("api", APIS)
def test_postgres_without_a_password_holds_what_duckdb_holds(api, reference, postgres, tmp_path):
    dataset = f"fl_{api}_{uuid.uuid4().hex[:8]}"
    postgres.append(dataset)
    report = _load_twice(api, tmp_path, "postgres", dataset)
    assert report.location == "postgres 127.0.0.1:5432/test"
    _assert_same(api, reference, report)


@pytest.mark.parametrize("api", APIS)
def test_mariadb_through_sqlalchemy_holds_what_duckdb_holds(api, reference, mariadb, tmp_path):
    dataset = f"fl_{api}_{uuid.uuid4().hex[:8]}"
    mariadb.append(dataset)
    report = _load_twice(api, tmp_path, "sqlalchemy", dataset)
    assert report.location == "sqlalchemy mysql://127.0.0.1:3306"
    _assert_same(api, reference, report)


def test_mariadb_keeps_times_in_utc(reference, mariadb, tmp_path):
    dataset = f"fl_secoda_{uuid.uuid4().hex[:8]}"
    mariadb.append(dataset)
    report = _load_twice("secoda", tmp_path, "sqlalchemy", dataset)
    (latest,) = report.pipeline.dataset()("SELECT max(created_at) FROM audit_log").fetchall()[0]
    duckdb_report = _load_twice("secoda", tmp_path / "duck", "duckdb", None)
    (expected,) = duckdb_report.pipeline.dataset()("SELECT max(created_at) FROM audit_log").fetchall()[0]
    assert expected.tzinfo is not None
    assert latest.replace(tzinfo=UTC) == expected.astimezone(UTC)


def test_no_table_name_is_longer_than_postgresql_allows(reference):
    """PostgreSQL cuts names past 63 characters (MySQL past 64) and dlt then adds a hash: the table a
    user reads would not be the one the docs name."""
    for api in APIS:
        counts, _ = reference[api]
        longest = max(counts, key=len)
        assert len(longest) <= 63, f"{api}: {longest}"
