"""The destination matrix's reference: DuckDB's tables after the two days, built once per test session.

pytest-xdist runs the two matrix modules in different workers, and each built the same reference (about
20 s of loads apiece on a quiet machine): the first worker to need it builds it and writes it to a file
beside the session's temporary folders, the others wait on its lock and read it.
"""

import fcntl
import json

import pytest

from tests.destinations.matrix import APIS, _keys, _load_twice


def _build(folder) -> dict:
    loaded = {}
    for api in APIS:
        report = _load_twice(api, folder, "duckdb", None)
        loaded[api] = (report.row_counts, _keys(report))
    return loaded


@pytest.fixture(scope="session")
def reference(tmp_path_factory, worker_id):
    """DuckDB's tables after the two days, per API: row counts and primary keys (sorted tuples of text)."""
    if worker_id == "master":  # no xdist: nothing to share
        return _build(tmp_path_factory.mktemp("duckdb"))
    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this session
    cache = shared / "duckdb-reference.json"
    with (shared / "duckdb-reference.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            built = _build(tmp_path_factory.mktemp("duckdb"))
            cache.write_text(json.dumps(built))
        stored = json.loads(cache.read_text())
    return {
        api: (counts, {table: [tuple(key) for key in keys] for table, keys in by_table.items()})
        for api, (counts, by_table) in stored.items()
    }
