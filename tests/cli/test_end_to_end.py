"""The command line end to end, in fresh processes, against emulators on loopback sockets."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import requests

from fleetlake.emulators.tidb_cloud import ApiKey, TiDBCloudEmulator
from tests.sources.tidb_cloud.conftest import NOW

ROOT = Path(__file__).parents[2]
CANARY_PUBLIC = "canary-public-7f3a9c"
CANARY_PRIVATE = "canary-private-4b1e8d"


def fleetlake(*args, env, cwd, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "fleetlake", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def tidb_env(clean_env, emulator, server, public=CANARY_PUBLIC, private=CANARY_PRIVATE):
    env = dict(clean_env)
    env["SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY"] = public
    env["SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY"] = private
    env["SOURCES__TIDB_INSTANCE_SOURCE__BILLING_END_MONTH"] = "2026-11"
    for setting, url in emulator.base_urls(server.url).items():
        env[f"SOURCES__TIDB_INSTANCE_SOURCE__{setting.upper()}"] = url
    return env


@pytest.fixture
def canary_emulator():
    keys = {
        CANARY_PUBLIC: ApiKey(CANARY_PRIVATE, ("org:owner",)),
        "viewer-public": ApiKey("viewer-private", ("org:member",)),
    }
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=100, rate_window_seconds=0.5, keys=keys)
    with emulator.serve() as server:
        yield emulator, server


def test_demo_loads_the_emulator_into_duckdb_and_says_where(tmp_path, clean_env):
    # TiDB alone (tests/cli/test_all_apis.py runs the whole demo)
    result = fleetlake("demo", "tidb", "--dir", str(tmp_path / "demo"), env=clean_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    database = tmp_path / "demo" / "fleetlake_demo.duckdb"
    assert f"TiDB Cloud org1 (emulated): loaded into {database}, dataset tidb_instance_data" in result.stdout
    assert f"TiDB Cloud org2 (emulated): loaded into {database}, dataset tidb_instance_data" in result.stdout
    lines = result.stdout.splitlines()
    assert "  projects                                       3         3  loaded" in lines
    assert "  audit_logs                                   400       400  loaded" in lines
    assert "SELECT name, cluster_type, region, status__cluster_status FROM tidb_instance_data.clusters" in result.stdout
    with duckdb.connect(str(database), read_only=True) as connection:
        clusters = "SELECT count(*) FROM tidb_instance_data.clusters WHERE fleetlake_account = 'org1'"
        assert connection.sql(clusters).fetchall() == [(11,)]
        changes = connection.sql("SELECT account, field FROM fleet.cluster_changes ORDER BY field").fetchall()
    # the demo ends with its owner's changes in the history, the four questions and the checks
    assert changes == [("org1", "node_count"), ("org1", "state"), ("org1", "version")]
    assert (
        "TiDB Cloud org1: the owner paused, resized and upgraded clusters; its inventory loaded again in "
        in result.stdout
    )
    assert "\nWhen was this cluster paused, resized or upgraded? (3 rows, first 3)\n" in result.stdout
    assert "\nAll my database clusters, with state, region and size? (22 rows, first 5)\n" in result.stdout
    assert result.stdout.index(
        "\nPosture checks (fleetlake checks; --fail-on high gates a CI job):\n"
    ) > result.stdout.index("Who changed what yesterday?")
    # and the last thing it says is where its report is: the page and a PNG per chart
    page = tmp_path / "demo" / "fleetlake_report" / "fleetlake_report.html"
    assert f"\nReport: {page} (11 charts, one PNG each beside it; written in " in result.stdout
    assert result.stdout.rindex("Report: ") > result.stdout.index("Posture checks (")
    assert page.is_file()
    assert len(list(page.parent.glob("*.png"))) == 11


def test_the_seed_pages_dataset_query_works_after_a_real_style_run(tmp_path, clean_env, canary_emulator):
    """`dlt.pipeline("tidb_instance_pipeline").dataset().projects.df()`, in the folder the run used."""
    emulator, server = canary_emulator
    env = tidb_env(clean_env, emulator, server)
    run = fleetlake("run", "tidb", "--resources", "projects", env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    code = "import dlt; print(sorted(dlt.pipeline('tidb_instance_pipeline').dataset().projects.df()['id']))"
    seed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert seed.returncode == 0, seed.stderr
    assert seed.stdout.strip() == str(sorted(emulator.data.project(i).id for i in range(3)))


def test_check_says_plainly_what_fails(tmp_path, clean_env, canary_emulator):
    emulator, server = canary_emulator
    viewer = fleetlake(
        "check",
        "tidb",
        env=tidb_env(clean_env, emulator, server, "viewer-public", "viewer-private"),
        cwd=tmp_path,
    )
    # the exit code and the paragraph on stderr are the first failure's: 3 for a missing role
    assert viewer.returncode == 3
    assert viewer.stdout.count("ok  ") == 4
    assert "FAIL billing_base_url" in viewer.stdout
    assert "answered 403 Forbidden" in viewer.stdout
    assert viewer.stderr.startswith("error: TiDB Cloud bills (GET ")
    assert "(1 of 5 TiDB Cloud checks failed; each is listed above.)\n" in viewer.stderr
    wrong = fleetlake("check", "tidb", env=tidb_env(clean_env, emulator, server, CANARY_PUBLIC, "wrong"), cwd=tmp_path)
    assert wrong.returncode == 3
    assert wrong.stdout.count("FAIL") == 5
    assert wrong.stdout.count("answered 401 Unauthorized") == 5
    closed = dict(tidb_env(clean_env, emulator, server))
    closed["SOURCES__TIDB_INSTANCE_SOURCE__IAM_BASE_URL"] = "http://127.0.0.1:9/iam/v1beta1"
    unreachable = fleetlake("check", "tidb", env=closed, cwd=tmp_path)
    assert unreachable.returncode == 6
    assert "FAIL iam_base_url           http://127.0.0.1:9/iam/v1beta1/apikeys" in unreachable.stdout
    assert (
        "`iam_base_url` in [sources.tidb_instance_source] is 'http://127.0.0.1:9/iam/v1beta1', and 127.0.0.1:9 "
        "refused the connection" in unreachable.stdout
    )
    assert "Traceback" not in viewer.stdout + viewer.stderr + wrong.stderr + unreachable.stderr


def test_a_wrong_key_fails_the_run_with_one_paragraph(tmp_path, clean_env, canary_emulator):
    emulator, server = canary_emulator
    result = fleetlake(
        "run",
        "tidb",
        "--resources",
        "projects",
        env=tidb_env(clean_env, emulator, server, CANARY_PUBLIC, "nope"),
        cwd=tmp_path,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "answered 401 Unauthorized" in result.stderr
    assert "[sources.tidb_instance_source]" in result.stderr


def test_emulate_serves_until_interrupted(tmp_path, clean_env):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fleetlake",
            "emulate",
            "tidb",
            "--port",
            "0",
            "--scale",
            "demo",
            "--seed",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env,
        cwd=tmp_path,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("TiDB Cloud emulator on http://127.0.0.1:")
        url = first.split()[4]
        settings = [process.stdout.readline() for _ in range(7)]
        assert settings[1] == '  public_key = "fleetlake-demo-public"\n'
        health = requests.get(url + "/_emulator/health", timeout=10)
        assert health.status_code == 200
        unauthenticated = requests.get(url + "/api/v1beta/projects", timeout=10)
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["WWW-Authenticate"].startswith("Digest ")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
    assert process.returncode == 0
    assert os.environ.get("SOURCES__TIDB_INSTANCE_SOURCE__PRIVATE_KEY") is None


def test_resources_and_destination_flags_load_postgres(tmp_path, clean_env, canary_emulator):
    """`--resources clusters,audit_logs --destination postgres`: the PostgreSQL on 127.0.0.1 (.ci/run starts it)."""
    import psycopg2

    emulator, server = canary_emulator
    dataset = f"fleetlake_test_{os.getpid()}"
    env = tidb_env(clean_env, emulator, server)
    # trust authentication ignores the password, but dlt requires one
    env["DESTINATION__POSTGRES__CREDENTIALS"] = "postgresql://postgres:unused@127.0.0.1:5432/test"
    result = fleetlake(
        "run",
        "tidb",
        "--resources",
        "clusters,audit_logs",
        "--destination",
        "postgres",
        "--dataset",
        dataset,
        "--pipelines-dir",
        str(tmp_path / "pipelines"),
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "TiDB Cloud: loaded into postgres" in result.stdout
    connection = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/test")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {dataset}.clusters")
            assert cursor.fetchone() == (11,)
            cursor.execute(f"SELECT count(*) FROM {dataset}.audit_logs")
            assert cursor.fetchone() == (400,)
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'projects'",
                (dataset,),
            )
            # projects were read to reach the clusters, but not selected, so not loaded
            assert cursor.fetchone() == (0,)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {dataset} CASCADE")
        connection.commit()
        connection.close()


def test_a_standalone_emulator_prints_settings_that_run_the_real_pipeline(tmp_path, clean_env):
    """The README's way: `fleetlake emulate` in one shell, its `export` lines, `fleetlake run` in another."""
    emulator = subprocess.Popen(
        [sys.executable, "-m", "fleetlake", "emulate", "skysql", "--port", "0", "--now", "2026-11-15T12:00:00Z"],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env,
        cwd=tmp_path,
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("advance its clock"):
            line = emulator.stdout.readline()
            assert line, f"the emulator ended before printing its settings: {lines}"
            lines.append(line.strip())
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        assert sorted(exports) == [
            "SOURCES__SKYSQL_SOURCE__API_KEY",
            "SOURCES__SKYSQL_SOURCE__BASE_URL",
            "SOURCES__SKYSQL_SOURCE__BILLING_END_MONTH",
        ]
        toml = [line for line in lines if line.startswith(("api_key = ", "base_url = ", "billing_end_month = "))]
        assert toml == [
            f'api_key = "{exports["SOURCES__SKYSQL_SOURCE__API_KEY"]}"',
            f'base_url = "{exports["SOURCES__SKYSQL_SOURCE__BASE_URL"]}"',
            'billing_end_month = "2026-11"',  # the emulator's clock, given by --now
        ]
        result = fleetlake("run", "skysql", env={**clean_env, **exports}, cwd=tmp_path)
    finally:
        emulator.send_signal(signal.SIGINT)
        emulator.wait(timeout=30)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"SkySQL: loaded into {tmp_path / 'skysql_pipeline.duckdb'}, dataset skysql_data" in result.stdout
    with duckdb.connect(str(tmp_path / "skysql_pipeline.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM skysql_data.services").fetchone() == (8,)
