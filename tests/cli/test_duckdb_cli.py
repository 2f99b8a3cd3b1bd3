"""A file fleetlake writes opens in the DuckDB tools users have: the newest `duckdb-cli` on PyPI."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_environ


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """`fleetlake demo secoda`, once for the module, in a folder of its own."""
    folder = tmp_path_factory.mktemp("demo")
    demo = subprocess.run(
        [sys.executable, "-m", "fleetlake", "demo", "secoda"],
        capture_output=True,
        text=True,
        env=clean_environ(folder),
        cwd=folder,
        timeout=180,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    return folder


def test_the_duckdb_cli_reads_a_fleetlake_file(demo_folder):
    tmp_path = demo_folder
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "duckdb-cli is a dev dependency: its `duckdb` is beside this Python"
    sql = (
        "SELECT count(*) AS collections FROM secoda_data.collection WHERE fleetlake_account = 'org1'; "
        "SELECT version() AS version"
    )
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


README_SNIPPET = """
import dlt

demo = dlt.destinations.duckdb("fleetlake_demo.duckdb")
data = dlt.pipeline("secoda_pipeline_org1", pipelines_dir=".fleetlake/pipelines", destination=demo).dataset()
print(data.collection.df().head())
print(len(data.collection.fetchall()))
"""


def test_the_readmes_snippet_reads_the_demo(demo_folder, clean_env):
    assert README_SNIPPET.split("print(len")[0].strip() in (Path(__file__).parents[2] / "README.md").read_text()
    result = subprocess.run(
        [sys.executable, "-c", README_SNIPPET], capture_output=True, text=True, env=clean_env, cwd=demo_folder
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "16"  # the dataset's: 8 collections of each demo organization
