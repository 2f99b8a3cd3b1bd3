"""A file fleetlake writes opens in the DuckDB tools users have: the newest `duckdb-cli` on PyPI."""

import json
import shutil
import subprocess
import sys
from pathlib import Path


def test_the_duckdb_cli_reads_a_fleetlake_file(tmp_path, clean_env):
    demo = subprocess.run(
        [sys.executable, "-m", "fleetlake", "demo", "secoda", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=180,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "duckdb-cli is a dev dependency: its `duckdb` is beside this Python"
    sql = "SELECT count(*) AS collections FROM secoda_data.collection; SELECT version() AS version"
    result = subprocess.run(
        [cli, "-readonly", "-json", str(tmp_path / "fleetlake_demo.duckdb"), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(part) for part in result.stdout.replace("]\n[", "]\n\n[").split("\n\n"))
    assert first == [{"collections": 8}]
    assert second[0]["version"].startswith("v1.")
