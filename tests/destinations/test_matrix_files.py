"""The destination matrix, files: Delta tables in a local folder and on S3, and plain parquet refused
(see test_matrix.py for what is compared)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import boto3
import pytest
import requests

from fleetlake.errors import ConfigurationError
from tests.destinations.matrix import APIS, _assert_same, _load_twice


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


def test_local_iceberg_tables_merge_and_hold_what_duckdb_holds(reference, tmp_path, monkeypatch):
    # one API: Iceberg goes through the same dlt filesystem code as Delta, and takes 13 s an API
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", (tmp_path / "lake").as_uri())
    report = _load_twice("skysql", tmp_path, "filesystem", None, table_format="iceberg")
    assert (tmp_path / "lake" / "skysql_data" / "services" / "metadata").is_dir()
    _assert_same("skysql", reference, report, table_format="iceberg")


@pytest.mark.parametrize("where", ["local", "s3"])
def test_plain_parquet_files_are_refused_where_tables_merge(where, request, tmp_path, monkeypatch):
    if where == "s3":
        for name, value in request.getfixturevalue("s3").items():
            monkeypatch.setenv(name, value)
        bucket = f"s3://fleet/parquet-{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", bucket)
    else:
        monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", (tmp_path / "lake").as_uri())
    with pytest.raises(ConfigurationError) as refused:
        _load_twice("skysql", tmp_path, "filesystem", None, table_format="none")
    assert str(refused.value).startswith(
        "Plain files cannot update rows: services, service_allowlists, service_types, topologies and others merge on their "
        "primary keys, and on plain parquet files dlt appends instead, so every re-run would add their rows again."
    )
    # refused before anything was written
    if where == "s3":
        settings = request.getfixturevalue("s3")
        s3 = boto3.client(
            "s3",
            endpoint_url=settings["DESTINATION__FILESYSTEM__CREDENTIALS__ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=settings["DESTINATION__FILESYSTEM__CREDENTIALS__AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=settings["DESTINATION__FILESYSTEM__CREDENTIALS__AWS_SECRET_ACCESS_KEY"],
        )
        listed = s3.list_objects_v2(Bucket="fleet", Prefix=bucket.removeprefix("s3://fleet/"))
        assert listed["KeyCount"] == 0
    else:
        assert not (tmp_path / "lake").exists()
