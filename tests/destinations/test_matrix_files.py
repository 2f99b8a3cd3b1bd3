"""The destination matrix, files: Delta tables in a local folder and on S3, and plain parquet refused
(see test_matrix.py for what is compared)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
import requests

from fleetlake import pipelines
from fleetlake.errors import ConfigurationError
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


@pytest.fixture(scope="module")
def s3():
    """moto's S3 on a loopback port, with a bucket; the settings that point dlt's filesystem at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert server, "moto[server] is a dev dependency: its moto_server is beside this Python"
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for line in process.stderr:  # werkzeug says where it listens once it does
            if f"Running on {url}" in line:
                break
        # then a line per request: read on, or the pipe fills and the server stops answering
        threading.Thread(target=process.stderr.read, daemon=True).start()
        assert requests.get(url, timeout=10).status_code == 200
        keys = {"aws_access_key_id": "fleetlake-test", "aws_secret_access_key": "fleetlake-test-secret"}
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", **keys).create_bucket(Bucket="fleet")
        settings = {f"DESTINATION__FILESYSTEM__CREDENTIALS__{k.upper()}": v for k, v in keys.items()}
        settings["DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL"] = url
        settings["DESTINATION__FILESYSTEM__CREDENTIALS__REGION_NAME"] = "us-east-1"
        yield settings
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("api", APIS)
def test_delta_tables_on_s3_merge_and_hold_what_duckdb_holds(api, reference, s3, tmp_path, monkeypatch):
    for name, value in s3.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", f"s3://fleet/{api}-{uuid.uuid4().hex[:8]}")
    report = _load_twice(api, tmp_path, "filesystem", None)
    assert report.location == "filesystem s3://fleet"
    _assert_same(api, reference, report, table_format="delta")


@pytest.mark.parametrize("api", APIS)
def test_local_delta_tables_merge_and_hold_what_duckdb_holds(api, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", (tmp_path / "lake").as_uri())
    report = _load_twice(api, tmp_path, "filesystem", None)
    _assert_same(api, reference, report, table_format="delta")


def test_plain_parquet_files_are_refused_where_tables_merge(tmp_path, monkeypatch):
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", (tmp_path / "lake").as_uri())
    with pytest.raises(ConfigurationError) as refused:
        _load_twice("skysql", tmp_path, "filesystem", None, table_format="none")
    assert str(refused.value).startswith(
        "Plain files cannot update rows: services, service_types, topologies, providers and others merge on their "
        "primary keys, and on plain parquet files dlt appends instead, so every re-run would add their rows again."
    )
    assert not (tmp_path / "lake").exists()  # refused before anything was written
