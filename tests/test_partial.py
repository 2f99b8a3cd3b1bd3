"""Partial runs over real sockets and a real DuckDB: a resource that fails after some of its pages were
extracted contributes nothing, its children are skipped, its cursor stays where the last complete load
left it, and the other resources commit. A run that dies before the undo is finished by the next one."""

from __future__ import annotations

import logging
from datetime import timedelta

import duckdb
import pytest

from fleetlake import partial, pipelines
from fleetlake.emulators.faults import parse_fault
from fleetlake.emulators.skysql import SkySQLEmulator
from fleetlake.errors import FleetlakeError, ServerError
from fleetlake.outcomes import Status
from fleetlake.sources import get_api
from fleetlake.troubleshoot import causes
from tests.faults.conftest import loads, snapshot
from tests.sources.skysql.conftest import NOW

RESOURCES = ["services", "backup_schedules", "backups", "sizes", "projects"]
DATASET = "skysql_data"


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")


def _settings(emulator, server):
    # pages of 5: the 8 services take two pages, the backups several
    return {**emulator.source_settings(server.url), "billing_end_month": "2026-11", "page_size": 5}


def _run(tmp_path, emulator, *, strict=None, resources=RESOURCES):
    with emulator.serve() as server:
        return pipelines.run(
            get_api("skysql"),
            source_kwargs=_settings(emulator, server),
            resources=resources,
            pipelines_dir=tmp_path / "pipelines",
            duckdb_path=tmp_path / "skysql.duckdb",
            strict=strict,
        )


def _tables(tmp_path):
    with duckdb.connect(str(tmp_path / "skysql.duckdb"), read_only=True) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_name NOT LIKE '_dlt%'",
            [DATASET],
        ).fetchall()
    return sorted(row[0] for row in rows)


def _emulator(*faults, days=0):
    emulator = SkySQLEmulator(now=NOW, faults=[parse_fault(text) for text in faults])
    emulator.clock.advance(timedelta(days=days))
    return emulator


def _outcomes(report):
    return {outcome.resource: outcome.status for outcome in report.outcomes}


def test_a_list_failing_after_its_first_page_loads_nothing_and_skips_its_children(tmp_path):
    # the first page of services (5 of 8) is extracted, then the list keeps answering 503
    injected = parse_fault("503@/provisioning/v1/services,after=1,times=forever")
    emulator = SkySQLEmulator(now=NOW, faults=[injected])
    report = _run(tmp_path, emulator)
    assert _outcomes(report) == {
        "services": Status.FAILED,
        "backup_schedules": Status.SKIPPED,
        "backups": Status.LOADED,
        "sizes": Status.LOADED,
        "projects": Status.LOADED,
    }
    assert report.exit_code == 7
    by_name = {outcome.resource: outcome for outcome in report.outcomes}
    failed = by_name["services"]
    assert failed.reason.startswith("SkySQL services (GET http://127.0.0.1:")
    assert "/provisioning/v1/services) kept answering 503 after retries" in failed.reason
    assert by_name["backup_schedules"].reason == "its parent services failed"
    # the first page's services and the schedules fetched for them never reached the destination
    assert _tables(tmp_path) == ["backups", "projects", "sizes"]
    assert report.row_counts["backups"] == emulator.expected_counts()["backups"]
    assert emulator.requests.count(path="/provisioning/v1/services", status=200) == 1
    assert emulator.requests.count(path="/provisioning/v1/services", status=503) == 6


def test_a_failed_incremental_list_keeps_its_cursor_so_the_next_run_loads_what_it_missed(tmp_path):
    first = _run(tmp_path, _emulator())
    assert first.exit_code == 0
    before = snapshot(tmp_path / "skysql.duckdb", DATASET)
    cursor = partial.resource_states(first.pipeline, "skysql_source")["backups"]

    # a day later there are new backups; the list fails after its first (newest) page
    failing = _run(tmp_path, _emulator("503@/skybackup/v1/backups,after=1,times=forever", days=1))
    assert _outcomes(failing)["backups"] is Status.FAILED
    assert _outcomes(failing)["services"] is Status.LOADED
    after = snapshot(tmp_path / "skysql.duckdb", DATASET)
    assert after["backups"] == before["backups"]
    assert partial.resource_states(failing.pipeline, "skysql_source")["backups"] == cursor

    # a clean run then loads exactly what a clean run of day two alone loads
    _run(tmp_path, _emulator(days=1))
    reference = tmp_path / "reference"
    _run(reference, _emulator(days=1))
    assert snapshot(tmp_path / "skysql.duckdb", DATASET) == snapshot(reference / "skysql.duckdb", DATASET)


def test_strict_runs_are_all_or_nothing(tmp_path):
    _run(tmp_path, _emulator())
    before, loads_before = snapshot(tmp_path / "skysql.duckdb", DATASET), loads(tmp_path / "skysql.duckdb", DATASET)
    with pytest.raises(Exception) as raised:  # noqa: PT011 (dlt wraps it)
        _run(tmp_path, _emulator("503@/provisioning/v1/services,after=1,times=forever", days=1), strict=True)
    root = next(cause for cause in causes(raised.value) if isinstance(cause, FleetlakeError))
    assert type(root) is ServerError
    assert snapshot(tmp_path / "skysql.duckdb", DATASET) == before
    assert loads(tmp_path / "skysql.duckdb", DATASET) == loads_before


def test_strict_comes_from_dlts_configuration_too(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEETLAKE__STRICT", "true")
    with pytest.raises(Exception) as raised:  # noqa: PT011 (dlt wraps it)
        _run(tmp_path, _emulator("404@/skybackup/v1/backups"))
    assert any(isinstance(cause, FleetlakeError) for cause in causes(raised.value))
    monkeypatch.setenv("FLEETLAKE__STRICT", "maybe")
    with pytest.raises(FleetlakeError, match="`strict` in \\[fleetlake\\] \\(or FLEETLAKE__STRICT\\) is 'maybe'"):
        _run(tmp_path, _emulator())


def test_a_run_that_dies_before_its_undo_is_finished_by_the_next_run(tmp_path, monkeypatch, caplog):
    reference = tmp_path / "reference"
    _run(reference, _emulator())

    class Died(BaseException):
        pass

    def die(*args, **kwargs):
        raise Died

    # the process "dies" right after dlt's extract committed the package with the partial services page
    monkeypatch.setattr(partial, "undo", die)
    with pytest.raises(Died):
        _run(tmp_path, _emulator("503@/provisioning/v1/services,after=1,times=forever"))
    pipeline_dir = tmp_path / "pipelines" / "skysql_pipeline"
    assert (pipeline_dir / partial.JOURNAL).exists()
    monkeypatch.undo()
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")

    with caplog.at_level(logging.WARNING, logger="fleetlake"):
        report = _run(tmp_path, _emulator())
    assert report.exit_code == 0
    assert (
        "A previous run stopped before it took its failed resources (backup_schedules, service_allowlists, services)"
        in caplog.text
    )
    assert not (pipeline_dir / partial.JOURNAL).exists()
    assert snapshot(tmp_path / "skysql.duckdb", DATASET) == snapshot(reference / "skysql.duckdb", DATASET)


def test_take_out_finds_the_tables_files_in_dlts_extracted_package(tmp_path):
    """The one layout `partial` relies on: an extracted package lists one new job per table file."""
    emulator = _emulator()
    with emulator.serve() as server:
        pipeline = pipelines.make_pipeline(
            get_api("skysql"), pipelines_dir=tmp_path / "pipelines", duckdb_path=tmp_path / "skysql.duckdb"
        )
        source = get_api("skysql").make_source(**_settings(emulator, server)).with_resources("sizes", "projects")
        pipeline.extract(source)
    (load_id,) = pipeline.list_extracted_load_packages()
    jobs = pipeline.get_load_package_info(load_id).jobs["new_jobs"]
    assert sorted({job.job_file_info.table_name for job in jobs}) == ["_dlt_pipeline_state", "projects", "sizes"]
    assert partial.take_out(pipeline, {"sizes"}) == 1
    jobs = pipeline.get_load_package_info(load_id).jobs["new_jobs"]
    assert sorted(job.job_file_info.table_name for job in jobs) == ["_dlt_pipeline_state", "projects"]


def test_a_package_completed_but_not_archived_is_archived_and_the_next_run_converges(tmp_path, caplog):
    """A kill between dlt's `package_completed.json` and its move to load/loaded (a real window: a crash
    trial met it) leaves a finished package among the pending ones."""
    first = _run(tmp_path, _emulator())
    working = tmp_path / "pipelines" / "skysql_pipeline"
    (load_id,) = first.load_info.loads_ids
    # put the state back where the kill leaves it: completed, still among the normalized packages
    (working / "load" / "loaded" / load_id).replace(working / "load" / "normalized" / load_id)
    assert (working / "load" / "normalized" / load_id / "package_completed.json").is_file()
    with caplog.at_level(logging.WARNING, logger="fleetlake"):
        again = _run(tmp_path, _emulator())
    assert f"finished archiving load package(s) {load_id} that a stopped run had completed" in caplog.text
    assert (working / "load" / "loaded" / load_id / "package_completed.json").is_file()
    assert not list((working / "load" / "normalized").iterdir())
    assert again.row_counts == first.row_counts  # nothing doubled, nothing lost
