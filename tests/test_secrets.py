"""The canary scanner the leak tests rely on finds a canary wherever dlt could have put it."""

import base64
import gzip
import zlib

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.secrets import assert_no_canary, find_canary

CANARY = "canary-scanner-3e9b"


def test_it_finds_the_canary_in_texts_files_archives_and_tables(tmp_path):
    folder = tmp_path / "pipelines"
    (folder / "load").mkdir(parents=True)
    (folder / "clean.json").write_text('{"api_key": "***"}')
    (folder / "state.json").write_text(f'{{"api_key": "{CANARY}"}}')
    (folder / "load" / "job.insert_values.gz").write_bytes(gzip.compress(f"INSERT ('{CANARY}')".encode()))
    pq.write_table(pa.table({"key": [CANARY] * 50}), folder / "load" / "job.parquet", compression="zstd")
    database = tmp_path / "data.duckdb"
    state = base64.b64encode(zlib.compress(f'{{"secret": "{CANARY}"}}'.encode())).decode()
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA dataset")
        connection.execute("CREATE TABLE dataset.clean AS SELECT 'nothing' AS value")
        connection.execute("CREATE TABLE dataset._dlt_pipeline_state AS SELECT ? AS state", [state])

    found = find_canary(
        CANARY, texts=("clean", f"DEBUG key={CANARY}".encode()), folders=(folder,), duckdb_files=(database,)
    )

    assert found == [
        "text #1",
        str(folder / "load" / "job.insert_values.gz"),
        str(folder / "load" / "job.parquet"),
        str(folder / "state.json"),
        f"{database}: dataset._dlt_pipeline_state",
    ]
    with pytest.raises(AssertionError, match="leaked into: text #1"):
        assert_no_canary(CANARY, texts=("clean", CANARY))
    assert_no_canary(CANARY, texts=("clean",), folders=(folder / "nothing-here",))
