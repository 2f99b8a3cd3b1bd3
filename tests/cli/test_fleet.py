"""`fleetlake run` with no API named: every configured API into one DuckDB file, each in its seed dataset,
an API that fails costing the others nothing; in fresh processes against the emulators."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from fleetlake.emulators.base import EmulatorSetup
from fleetlake.sources import get_api
from tests.cli.test_end_to_end import fleetlake
from tests.sources.tidb_cloud.conftest import NOW


def _env(clean_env, served):
    """The environment variables of each (api, emulator, url) in `served`."""
    env = dict(clean_env)
    for api, emulator, url in served:
        section = get_api(api).section
        for name, value in emulator.source_settings(url).items():
            env[f"SOURCES__{section.upper()}__{name.upper()}"] = str(value)
    return env


def test_every_configured_api_loads_into_one_file_queryable_across_vendors(tmp_path, clean_env):
    skysql = get_api("skysql").emulator().build(EmulatorSetup(now=NOW))
    secoda = get_api("secoda").emulator().build(EmulatorSetup(now=NOW))
    with skysql.serve() as sky, secoda.serve() as sec:
        env = _env(clean_env, [("skysql", skysql, sky.url), ("secoda", secoda, sec.url)])
        pipelines = tmp_path / "pipelines"
        result = fleetlake("run", "--pipelines-dir", str(pipelines), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    database = tmp_path / "fleetlake.duckdb"
    assert f"SkySQL: loaded into {database}, dataset skysql_data" in result.stdout
    assert f"Secoda: loaded into {database}, dataset secoda_data" in result.stdout
    # the APIs without keys are named, not attempted
    assert "not configured, not loaded: TiDB Cloud, Widgets" in result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.duckdb")) == ["fleetlake.duckdb"]
    with duckdb.connect(str(database), read_only=True) as connection:
        # one connection, both vendors, no ATTACH
        rows = connection.execute(
            "SELECT (SELECT count(*) FROM skysql_data.services), (SELECT count(*) FROM secoda_data.resource_catalog)"
        ).fetchall()
        schemas = {
            row[0] for row in connection.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
        }
    assert rows == [(8, 600)]
    assert "tidb_instance_data" not in schemas
    # the fleet model, rebuilt after the loads from what the file holds (no TiDB: read as empty)
    assert f"fleet model: built in {database}, dataset fleet, in " in result.stdout
    with duckdb.connect(str(database), read_only=True) as connection:
        fleet = connection.execute(
            "SELECT (SELECT count(*) FROM fleet.clusters WHERE vendor = 'skysql'), (SELECT count(*) FROM fleet.clusters),"
            " (SELECT count(*) FROM fleet.audit_events WHERE vendor = 'secoda'), (SELECT count(DISTINCT account) FROM fleet.clusters)"
        ).fetchall()
    assert fleet == [(8, 8, 300, 1)]
    # the seed pages' way reads each API's dataset from the one file, once dlt is told where it is (dlt keeps
    # no credentials in a pipeline's state: DESTINATION__DUCKDB__CREDENTIALS, or [destination.duckdb])
    pipeline = f"dlt.pipeline('skysql_pipeline', pipelines_dir={str(pipelines)!r})"
    code = f"import dlt; print(len({pipeline}.dataset().services.df()))"
    seed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "DESTINATION__DUCKDB__CREDENTIALS": str(database)},
        cwd=tmp_path,
        timeout=60,
    )
    assert (seed.returncode, seed.stdout) == (0, "8\n"), seed.stderr[-2000:]


def test_an_api_that_fails_costs_the_others_nothing(tmp_path, clean_env):
    skysql = get_api("skysql").emulator().build(EmulatorSetup(now=NOW))
    secoda = get_api("secoda").emulator().build(EmulatorSetup(now=NOW))
    with skysql.serve() as sky, secoda.serve() as sec:
        env = _env(clean_env, [("skysql", skysql, sky.url), ("secoda", secoda, sec.url)])
        env["SOURCES__SKYSQL_SOURCE__API_KEY"] = "revoked-key"  # a key the server refuses: every request 401
        result = fleetlake("run", "--pipelines-dir", str(tmp_path / "pipelines"), env=env, cwd=tmp_path)
    assert result.returncode == 7, result.stderr[-3000:]
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: SkySQL: ")]
    assert len(failed) == 1
    assert "answered 401 Unauthorized" in failed[0]
    assert "revoked-key" not in result.stdout + result.stderr
    assert "partial run: 1 of 2 loaded; SkySQL failed (see above)" in result.stderr
    with duckdb.connect(str(tmp_path / "fleetlake.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM secoda_data.resource_catalog").fetchall() == [(600,)]


def test_no_configured_api_says_how_to_configure_one(tmp_path, clean_env):
    result = fleetlake("run", env=clean_env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: No API is configured: set the keys of at least one under")
    assert "public_key, private_key under [sources.tidb_instance_source]" in result.stderr
    assert list(tmp_path.glob("*.duckdb")) == []


def test_resources_without_an_api_are_refused(tmp_path, clean_env):
    result = fleetlake("run", "--resources", "projects", env=clean_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "--resources names one API's resources: name the API too" in result.stderr


def test_resources_fleet_describes_each_model_table_and_its_columns(tmp_path, clean_env):
    result = fleetlake("resources", "fleet", env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tables = [line.split("  ")[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert tables == [
        "clusters", "changefeeds", "costs", "audit_events", "cluster_history", "cluster_changes", "findings"
    ]  # fmt: skip
    assert "    BilledCost          decimal    what is invoiced for the row, in BillingCurrency" in result.stdout


def test_model_rebuilds_the_fleet_dataset_of_a_file_alone(tmp_path, clean_env):
    skysql = get_api("skysql").emulator().build(EmulatorSetup(now=NOW))
    with skysql.serve() as sky:
        env = _env(clean_env, [("skysql", skysql, sky.url)])
        loaded = fleetlake("run", "skysql", "--pipelines-dir", str(tmp_path / "pipelines"), env=env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "fleet model" not in loaded.stdout  # one API named: no model unless --model
    database = tmp_path / "skysql_pipeline.duckdb"
    built = fleetlake(
        "model", "--file", str(database), "--pipelines-dir", str(tmp_path / "pipelines"), env=env, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert f"fleet model: built in {database}, dataset fleet, in " in built.stdout
    assert "  clusters                8" in built.stdout
    assert "(not loaded there, read as empty: tidb_instance_data.projects," in built.stdout
    with duckdb.connect(str(database), read_only=True) as connection:
        months = connection.execute("SELECT count(DISTINCT x_BillingMonth) FROM fleet.costs").fetchall()
    assert months == [(12,)]
