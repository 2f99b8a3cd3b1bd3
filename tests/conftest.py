import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# every "now" of fleetlake and of the emulators' default clocks (fleetlake.clock): the suite runs the
# same on any date, in this process and in every process it starts (they inherit the environment)
SUITE_NOW = "2026-11-15T12:00:00Z"
os.environ["FLEETLAKE_NOW"] = SUITE_NOW

ROOT = Path(__file__).parents[1]


def _install_test_api() -> None:
    """Register the test-only Widgets API (`tests/widgets`, `tests/widgets_emulator`) as a package would:
    an installed distribution's `fleetlake.apis` entry point, here a `.dist-info` folder on the path of this
    process and of every process it starts (PYTHONPATH, with the repository for `tests` to import)."""
    site = Path(tempfile.mkdtemp(prefix="fleetlake-test-apis-"))
    atexit.register(shutil.rmtree, site, ignore_errors=True)
    info = site / "fleetlake_test_widgets-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fleetlake-test-widgets\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[fleetlake.apis]\nwidgets = tests.widgets:CONTRACT\n")
    sys.path.insert(0, str(site))
    paths = [str(site), str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


_install_test_api()


def clean_environ(folder):
    """os.environ without any fleetlake/dlt settings, with dlt's folders inside `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "RUNTIME__"))}
    env["DLT_DATA_DIR"] = str(folder / "dlt-data")
    env["HOME"] = str(folder / "home")
    return env


@pytest.fixture
def clean_env(tmp_path):
    """An environment without any fleetlake/dlt settings, with dlt's folders inside tmp_path."""
    return clean_environ(tmp_path)


def run_pipeline(api_name, tmp_path, source_kwargs, resources=None):
    """One pipeline run of an API into tmp_path/<api>.duckdb, with its own pipelines folder."""
    from fleetlake import pipelines
    from fleetlake.sources import get_api

    return pipelines.run(
        get_api(api_name),
        source_kwargs=source_kwargs,
        resources=resources,
        pipelines_dir=tmp_path / "pipelines",
        duckdb_path=tmp_path / f"{api_name}.duckdb",
    )


def query(report, sql, *args):
    """Rows of a SQL query against a run's dataset."""
    with report.pipeline.sql_client() as client:
        return client.execute_sql(sql, *args)


@pytest.fixture
def serve():
    """Start emulators on loopback ports for the test: `server = serve(emulator)`; stopped at teardown."""
    servers = []

    def start(emulator):
        server = emulator.serve()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
