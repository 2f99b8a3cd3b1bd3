"""pandas in fleetlake processes: kept out of `fleetlake run` into DuckDB, imported early everywhere else.

Each case runs in a fresh interpreter, since what a process imports is the process's own.
"""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb

from fleetlake.emulators.tidb_cloud import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, TiDBCloudEmulator
from tests.cli.test_end_to_end import fleetlake, tidb_env
from tests.sources.tidb_cloud.conftest import NOW, settings


def imported_modules(stderr: str) -> set[str]:
    """Module names from `python -X importtime`'s report."""
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_fleetlake_run_into_duckdb_never_imports_pandas(tmp_path, clean_env, serve) -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    server = serve(emulator)
    env = tidb_env(clean_env, emulator, server, public=DEFAULT_PUBLIC_KEY, private=DEFAULT_PRIVATE_KEY)
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    result = fleetlake("run", "tidb", "--resources", "projects,audit_logs", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    modules = imported_modules(result.stderr)
    assert "pyarrow" in modules  # the report is read: Arrow did its work
    # pyarrow asks for pandas and is refused (importtime lists the attempt); a real import brings pandas.core
    assert not any(name.startswith("pandas.") for name in modules)
    with duckdb.connect(str(tmp_path / "tidb_instance_pipeline.duckdb"), read_only=True) as connection:
        assert connection.sql("SELECT count(*) FROM tidb_instance_data.audit_logs").fetchall() == [(400,)]
    # a re-run loads nothing new: the 400 it reports are counted in the destination, without pandas too
    again = fleetlake("run", "tidb", "--resources", "projects,audit_logs", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "  audit_logs       400         0  loaded" in again.stdout.splitlines()  # none new this run


def test_a_library_process_has_pandas_before_any_worker_thread(tmp_path, serve) -> None:
    emulator = TiDBCloudEmulator(now=NOW, rate_limit=None)
    server = serve(emulator)
    code = (
        "import json, sys, threading\n"
        "from fleetlake.sources import get_api\n"
        "source = get_api('tidb').make_source(**json.loads(sys.argv[1]))\n"
        "print('pandas' in sys.modules, threading.active_count())\n"
        "from fleetlake.imports import keep_pandas_out\n"
        "print(keep_pandas_out())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(settings(emulator, server))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # pandas is in, and no thread but the main one has started; too late to keep it out afterwards
    assert result.stdout.split() == ["True", "1", "False"]


def test_help_and_resources_answer_without_importing_dlt_or_the_emulators(tmp_path, clean_env) -> None:
    """`fleetlake --help` and `fleetlake resources <api>` import neither dlt (a second of imports) nor the
    emulators' web stack: they answer from click and the registry; `emulate --help` reads the fault kinds
    from the emulators, still without dlt."""
    env = {**clean_env, "PYTHONPROFILEIMPORTTIME": "1"}
    heavy = {"dlt", "duckdb", "pyarrow", "sqlglot"}
    for args, kept_out in (
        (["--help"], {*heavy, "starlette", "uvicorn"}),
        (["resources", "skysql"], {*heavy, "starlette", "uvicorn"}),
        (["emulate", "--help"], heavy),
    ):
        result = fleetlake(*args, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        modules = imported_modules(result.stderr)
        assert "click" in modules  # the report is read
        assert kept_out & modules == set(), args
        if args[0] == "resources":
            assert "services  " in result.stdout  # the SkySQL resources, one a line
    assert "Fault kinds for --fault" in fleetlake("emulate", "--help", env=clean_env, cwd=tmp_path).stdout
