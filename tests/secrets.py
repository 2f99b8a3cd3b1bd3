"""Where a canary secret must never turn up: process output, working folders, destination tables.

`assert_no_canary(canary, texts=..., folders=..., duckdb_files=...)` fails naming every place it was
found; `find_canary` returns those places. Files are read as bytes, and also inside the containers dlt
writes (gzip job files, parquet, the zlib+base64 state in `_dlt_pipeline_state`), so a compressed copy
does not hide it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq


def _decoded(value: str) -> str | None:
    """The text inside a zlib+base64 value (how dlt stores pipeline state), if it is one."""
    if len(value) < 16 or len(value) % 4:
        return None
    try:
        return zlib.decompress(base64.b64decode(value, validate=True)).decode("utf-8", "replace")
    except (binascii.Error, zlib.error, ValueError):
        return None


def _in_bytes(needle: bytes, data: bytes) -> bool:
    if needle in data:
        return True
    if data[:2] == b"\x1f\x8b":
        try:
            return _in_bytes(needle, gzip.decompress(data))
        except (OSError, EOFError):
            return False
    return False


def _in_parquet(canary: str, path: Path) -> bool:
    try:
        table = pq.read_table(path)
    except Exception:  # a partly written file, killed mid-write: its raw bytes were scanned already
        return False
    return any(canary in str(value) for column in table.columns for value in column.to_pylist())


def _in_value(canary: str, value: object) -> bool:
    text = str(value)
    if canary in text:
        return True
    decoded = _decoded(value) if isinstance(value, str) else None
    return decoded is not None and canary in decoded


def _files(folder: Path) -> Iterable[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file())


def find_canary(
    canary: str,
    *,
    texts: Iterable[str | bytes] = (),
    folders: Iterable[Path] = (),
    duckdb_files: Iterable[Path] = (),
) -> list[str]:
    """Every place `canary` appears: `text #i`, a file path, or `database: schema.table`."""
    needle = canary.encode()
    found = []
    for number, text in enumerate(texts):
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        if _in_bytes(needle, data):
            found.append(f"text #{number}")
    for folder in folders:
        for path in _files(Path(folder)):
            data = path.read_bytes()
            if _in_bytes(needle, data) or (data[:4] == b"PAR1" and _in_parquet(canary, path)):
                found.append(str(path))
    for database in duckdb_files:
        with duckdb.connect(str(database), read_only=True) as connection:
            tables = connection.sql(
                "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
            ).fetchall()
            for schema, table in tables:
                rows = connection.sql(f'SELECT * FROM "{schema}"."{table}"').fetchall()
                if any(_in_value(canary, value) for row in rows for value in row):
                    found.append(f"{database}: {schema}.{table}")
    return found


def assert_no_canary(
    canary: str,
    *,
    texts: Iterable[str | bytes] = (),
    folders: Iterable[Path] = (),
    duckdb_files: Iterable[Path] = (),
) -> None:
    """Fail if `canary` appears in any of the texts, any file under the folders, or any table (every
    schema, dlt's own `_dlt_*` tables included) of the DuckDB files."""
    found = find_canary(canary, texts=texts, folders=folders, duckdb_files=duckdb_files)
    assert found == [], f"the canary secret {canary!r} leaked into: {', '.join(found)}"
