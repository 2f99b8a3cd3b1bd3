"""What the two destination-matrix modules share: loading an API twice a day apart, DuckDB's tables as
the reference, and comparing a destination's tables with them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fleetlake import pipelines
from fleetlake.emulators.base import EmulatorSetup
from fleetlake.sources import get_api
from tests.sources.tidb_cloud.conftest import NOW

APIS = ("tidb", "skysql", "secoda")
DAY = timedelta(days=1)


def _load_twice(api_name: str, tmp_path: Path, destination: str, dataset: str | None, **options):
    """The API loaded today, then after its emulator's clock moved a day; the second run's report."""
    api = get_api(api_name)
    emulator = api.emulator().build(EmulatorSetup(seed=3, now=NOW))
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
    if table_format == "iceberg":
        from dlt.common.libs.pyiceberg import get_iceberg_tables

        iceberg = get_iceberg_tables(report.pipeline)
        for name, key in _primary_keys(report).items():
            rows = iceberg[name].scan(selected_fields=tuple(key)).to_arrow().to_pylist()
            found[name] = sorted(tuple(str(row[column]) for column in key) for row in rows)
        return found
    dataset = report.pipeline.dataset()
    for name, key in _primary_keys(report).items():
        rows = dataset[name].select(*key).fetchall()
        found[name] = sorted(tuple(str(value) for value in row) for row in rows)
    return found


def _assert_same(api: str, reference, report, table_format: str | None = None) -> None:
    counts, keys = reference[api]
    assert report.row_counts == counts
    found = _keys(report, table_format)
    assert found == keys
    for table, values in found.items():
        assert len(values) == len(set(values)), f"{table} repeats a primary key"
