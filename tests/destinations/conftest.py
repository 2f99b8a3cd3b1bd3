"""The destination matrix's reference: DuckDB's tables after the two days, once per module."""

import pytest

from tests.destinations.matrix import APIS, _keys, _load_twice


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """DuckDB's tables after the two days, per API: row counts and primary keys."""
    folder = tmp_path_factory.mktemp("duckdb")
    loaded = {}
    for api in APIS:
        report = _load_twice(api, folder, "duckdb", None)
        loaded[api] = (report.row_counts, _keys(report))
    return loaded
