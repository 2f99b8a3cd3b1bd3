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
from datetime import UTC

import pymysql
import pytest

from tests.destinations.matrix import APIS, _assert_same, _load_twice


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
