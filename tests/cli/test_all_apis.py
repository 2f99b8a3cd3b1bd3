"""Every API through the command line in fresh processes: the demo, and canary keys that must appear in
no output, file, state, trace or table with DEBUG logging on."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fleetlake.emulators.base import EmulatorSetup, Organizations
from fleetlake.sources import REGISTRY, get_api
from tests.canaries import canary_emulator, canary_settings
from tests.cli.test_end_to_end import fleetlake

ROOT = Path(__file__).parents[2]
CANARY = "canary-7f3a9c-do-not-leak"


def test_demo_loads_two_organizations_of_every_api_into_one_file(tmp_path, clean_env):
    result = fleetlake("demo", "--dir", str(tmp_path), env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(emulated): loaded into") == 2 * len(REGISTRY)
    for api in REGISTRY.values():
        assert f"{api.title} org1 (emulated): loaded into" in result.stdout
        assert f"{api.title} org2 (emulated): loaded into" in result.stdout
    assert "FROM skysql_data.services" in result.stdout  # each API's first query to try
    with duckdb.connect(str(tmp_path / "fleetlake_demo.duckdb"), read_only=True) as connection:
        for api in REGISTRY.values():
            # every table the emulators hold rows for and the source loads by default: each organization's
            # rows under its account, exactly
            served = Organizations(api.emulator(), EmulatorSetup(scale="demo"), 2)
            selected = api.make_source(**served.source_settings("http://127.0.0.1:9")[0]).selected_resources
            for account, emulator in zip(("org1", "org2"), served.emulators, strict=True):
                for table, rows in emulator.expected_counts().items():
                    if rows and table in selected:
                        sql = f'SELECT count(*) FROM {api.dataset_name}."{table}" WHERE fleetlake_account = ?'
                        assert connection.execute(sql, [account]).fetchall() == [(rows,)], (api.name, table)
        sql = "SELECT fleetlake_account, count(*) FROM skysql_data.services GROUP BY 1 ORDER BY 1"
        assert connection.sql(sql).fetchall()[0] == ("org1", 8)
        assert connection.sql("SELECT count(*) FROM secoda_data.resource_catalog").fetchall() == [(1200,)]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("api", list(REGISTRY))
def test_the_key_never_leaks_through_run_check_or_the_seed_script(api, tmp_path, clean_env):
    section = get_api(api).section
    # the seed pages' scripts, for the APIs that have one (`tidb_instance_pipeline.py`, ...)
    script = ROOT / f"{get_api(api).pipeline_name}.py"
    emulator = canary_emulator(api, CANARY)
    with emulator.serve() as server:
        env = dict(clean_env)
        for name, value in canary_settings(api, emulator, server.url, CANARY).items():
            env[f"SOURCES__{section.upper()}__{name.upper()}"] = str(value)
        work = tmp_path / "work"
        work.mkdir()
        run = fleetlake(
            "--log-level", "DEBUG", "run", api, "--pipelines-dir", str(tmp_path / "pipelines"), env=env, cwd=work
        )
        assert run.returncode == 0, run.stderr
        assert "Making GET request" in run.stderr
        check = fleetlake("--log-level", "DEBUG", "check", api, env=env, cwd=work)
        assert check.returncode == 0, check.stdout + check.stderr
        outputs = run.stdout + run.stderr + check.stdout + check.stderr
        if script.exists():
            seed = subprocess.run(
                [sys.executable, str(script)],
                capture_output=True,
                text=True,
                cwd=work,
                timeout=300,
                env={**env, "RUNTIME__LOG_LEVEL": "DEBUG", "DLT_DATA_DIR": str(tmp_path / "seed-dlt")},
            )
            assert seed.returncode == 0, seed.stderr
            assert "is LOADED and contains no failed jobs" in seed.stdout
            outputs += seed.stdout + seed.stderr
    assert CANARY not in outputs
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".duckdb"]
    assert len(files) > 12  # pipeline state, schemas, load packages, traces, lock files
    assert [p for p in files if CANARY.encode() in p.read_bytes()] == []
    databases = list(work.glob("*.duckdb"))
    # the CLI's run and the seed script's share dlt's default path: <pipeline>.duckdb where they ran
    assert [p.name for p in databases] == [f"{get_api(api).pipeline_name}.duckdb"]
    for database in databases:
        with duckdb.connect(str(database), read_only=True) as connection:
            tables = connection.sql("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
            assert any(name == "_dlt_loads" for _, name in tables)
            for schema, table in tables:
                assert CANARY not in str(connection.sql(f'SELECT * FROM "{schema}"."{table}"').fetchall()), table
