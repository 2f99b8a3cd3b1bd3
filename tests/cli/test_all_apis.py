"""Every API through the command line in fresh processes: the demo, and canary keys that must appear in
no output, file, state, trace or table with DEBUG logging on."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.canaries import canary_emulator, canary_settings
from tests.cli.test_end_to_end import fleetlake

ROOT = Path(__file__).parents[2]
CANARY = "canary-7f3a9c-do-not-leak"


SETUPS = {
    "tidb": ("tidb_instance_source", "tidb_instance_pipeline.py"),
    "skysql": ("skysql_source", "skysql_pipeline.py"),
    "secoda": ("secoda_source", "secoda_pipeline.py"),
}


def test_demo_loads_all_three_apis_into_one_file(tmp_path, clean_env):
    result = fleetlake("demo", "--dir", str(tmp_path), env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(emulated): loaded into") == 3
    with duckdb.connect(str(tmp_path / "fleetlake_demo.duckdb"), read_only=True) as connection:
        rows = connection.sql(
            "SELECT table_schema, count(*) FROM information_schema.tables"
            " WHERE table_name IN ('projects', 'services', 'resource_catalog') AND table_schema NOT LIKE '%_staging'"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert rows == [("secoda_data", 1), ("skysql_data", 2), ("tidb_instance_data", 1)]
        assert connection.sql("SELECT count(*) FROM skysql_data.services").fetchall() == [(8,)]
        assert connection.sql("SELECT count(*) FROM secoda_data.resource_catalog").fetchall() == [(600,)]
    assert "Traceback" not in result.stderr


def test_demo_of_one_api(tmp_path, clean_env):
    result = fleetlake("demo", "skysql", "--dir", str(tmp_path), env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("(emulated): loaded into") == 1
    assert "SkySQL (emulated)" in result.stdout
    assert "FROM skysql_data.services" in result.stdout


@pytest.mark.parametrize("api", ["tidb", "skysql", "secoda"])
def test_the_key_never_leaks_through_run_check_or_the_seed_script(api, tmp_path, clean_env):
    section, script = SETUPS[api]
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
        seed = subprocess.run(
            [sys.executable, str(ROOT / script)],
            capture_output=True,
            text=True,
            cwd=work,
            timeout=300,
            env={**env, "RUNTIME__LOG_LEVEL": "DEBUG", "DLT_DATA_DIR": str(tmp_path / "seed-dlt")},
        )
        assert seed.returncode == 0, seed.stderr
        assert "is LOADED and contains no failed jobs" in seed.stdout
    outputs = run.stdout + run.stderr + check.stdout + check.stderr + seed.stdout + seed.stderr
    assert CANARY not in outputs
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".duckdb"]
    assert len(files) > 20
    assert [p for p in files if CANARY.encode() in p.read_bytes()] == []
    databases = list(work.glob("*.duckdb"))
    # the CLI's run and the seed script's share dlt's default path: <pipeline>.duckdb where they ran
    assert [p.name for p in databases] == [f"{script.removesuffix('.py')}.duckdb"]
    for database in databases:
        with duckdb.connect(str(database), read_only=True) as connection:
            tables = connection.sql("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
            assert any(name == "_dlt_loads" for _, name in tables)
            for schema, table in tables:
                assert CANARY not in str(connection.sql(f'SELECT * FROM "{schema}"."{table}"').fetchall()), table
