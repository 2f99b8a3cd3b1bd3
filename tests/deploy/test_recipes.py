"""The scheduling recipes in deploy/ run as written: the GitHub Actions workflow's step and the cron script
load every configured API, here against the emulators into this machine's PostgreSQL and a DuckDB file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import duckdb
import psycopg2
import pytest
import yaml

from fleetlake.emulators.base import EmulatorSetup
from fleetlake.sources import BUNDLED
from tests.sources.tidb_cloud.conftest import NOW

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "deploy" / "github" / "fleetlake.yml"
CRON = ROOT / "deploy" / "cron" / "fleetlake-run.sh"
FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute, hour, day, month, weekday


def valid_cron(expression: str) -> bool:
    """Five fields of `*`, numbers, ranges, lists and steps, each number within its field's range."""
    fields = expression.split()
    if len(fields) != 5:
        return False
    for field, (low, high) in zip(fields, FIELD_RANGES, strict=True):
        for part in field.split(","):
            match = re.fullmatch(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?", part)
            if match is None:
                return False
            numbers = [int(n) for n in match.groups()[1:3] if n is not None]
            if any(not low <= n <= high for n in numbers) or (match.group(4) is not None and int(match.group(4)) < 1):
                return False
    return True


def test_the_cron_check_refuses_what_cron_would():
    assert valid_cron("17 * * * *")
    assert valid_cron("0,30 6-18/2 * 1-12 1-5")
    assert not valid_cron("60 * * * *")
    assert not valid_cron("* * * *")
    assert not valid_cron("*/0 * * * *")


def _emulated_env(clean_env, servers) -> dict[str, str]:
    env = dict(clean_env)
    for contract, emulator, server in servers:
        for name, value in emulator.source_settings(server.url).items():
            env[f"SOURCES__{contract.section.upper()}__{name.upper()}"] = str(value)
    return env


@pytest.fixture
def emulated(clean_env):
    """Every bundled API's emulator serving, and the environment pointing the sources at them."""
    emulators = [(contract, contract.emulator().build(EmulatorSetup(now=NOW))) for contract in BUNDLED]
    servers = [(contract, emulator, emulator.serve()) for contract, emulator in emulators]
    try:
        yield _emulated_env(clean_env, servers)
    finally:
        for _, _, server in servers:
            server.stop()


def test_the_workflow_is_scheduled_takes_every_secret_from_the_platform_and_loads(emulated):
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert [valid_cron(s["cron"]) for s in triggers["schedule"]] == [True]
    assert "workflow_dispatch" in triggers
    (job,) = workflow["jobs"].values()
    env = job["env"]
    wanted = [f"SOURCES__{c.section.upper()}__{name.upper()}" for c in BUNDLED for name in c.secret_settings]
    assert [name for name in env if name.startswith("SOURCES__")] == wanted
    # every setting comes from the platform's secrets, under the same name: none is written in the file
    assert all(value == "${{ secrets." + name + " }}" for name, value in env.items())
    command = job["steps"][-1]["run"]
    assert command == "uv run fleetlake run --destination postgres --no-progress"

    # the step as the runner would run it, with the secrets in the environment
    database = f"fleetlake_workflow_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/test")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {database}")
    try:
        secrets = {
            **emulated,
            "DESTINATION__POSTGRES__CREDENTIALS": f"postgresql://postgres:unused@127.0.0.1:5432/{database}",
        }
        result = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, env=secrets, cwd=ROOT, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert [line.split(":")[0] for line in result.stdout.splitlines() if ": loaded into " in line] == [
            c.title for c in BUNDLED
        ]
        with (
            psycopg2.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT (SELECT count(*) FROM skysql_data.services), (SELECT count(*) FROM secoda_data.tags)"
            )
            assert cursor.fetchall() == [(8, 15)]
            cursor.execute("SELECT count(*) FROM tidb_instance_data.projects")
            assert cursor.fetchall() == [(3,)]
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.close()


def test_the_cron_script_loads_into_its_folder_and_logs_each_run(clean_env, tmp_path):
    line = next(line for line in CRON.read_text().splitlines() if "FLEETLAKE_HOME=/srv" in line)
    assert valid_cron(" ".join(line.lstrip("# ").split()[:5]))
    # one API is enough here: the script's part is the folder, the keys' file, the log and the exit code
    skysql = next(c for c in BUNDLED if c.name == "skysql")
    emulator = skysql.emulator().build(EmulatorSetup(now=NOW))
    with emulator.serve() as server:
        _run_cron(_emulated_env(clean_env, [(skysql, emulator, server)]), tmp_path)


def _run_cron(emulated: dict[str, str], tmp_path: Path) -> None:
    env = {**emulated, "FLEETLAKE_HOME": str(tmp_path), "FLEETLAKE_PROJECT": str(ROOT)}
    for _ in range(2):  # the second run finds the first's state and file
        result = subprocess.run([str(CRON)], capture_output=True, text=True, env=env, cwd="/", timeout=300)
        assert result.returncode == 0, (tmp_path / "fleetlake.log").read_text()[-3000:]
    log = (tmp_path / "fleetlake.log").read_text()
    assert log.count("fleetlake run at ") == 2
    assert log.count("\nexit 0\n") == 2
    with duckdb.connect(str(tmp_path / "fleetlake.duckdb"), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM skysql_data.services").fetchall() == [(8,)]


AIRFLOW = "apache-airflow==2.11.2"
DAG_FOLDER = ROOT / "deploy" / "airflow"
LIST_DAG = """
import json, sys
sys.path.insert(0, sys.argv[1])
from airflow.models import DagBag
from airflow.utils.task_group import TaskGroup
bag = DagBag(dag_folder=sys.argv[2], include_examples=False)
dag = bag.dags.get("fleetlake")
print(json.dumps({
    "errors": {path: str(error) for path, error in bag.import_errors.items()},
    "tasks": sorted(dag.task_ids) if dag else None,
    "groups": [name for name, child in dag.task_group.children.items() if isinstance(child, TaskGroup)] if dag else None,
    "downstream_of_groups": sorted({t for child in dag.task_group.children.values() if isinstance(child, TaskGroup) for t in child.downstream_task_ids}) if dag else None,
    "schedule": str(dag.schedule_interval) if dag else None,
}))
"""


@pytest.fixture(scope="module")
def airflow_python(tmp_path_factory) -> Path:
    """A Python with Airflow and this dlt, apart from the project's own environment (Airflow pins what
    fleetlake does not); made once per machine with uv, from uv's cache after the first time."""
    import dlt

    venv = Path(tempfile.gettempdir()) / f"fleetlake-airflow-{AIRFLOW.split('==')[1]}-dlt-{dlt.__version__}"
    python = venv / "bin" / "python"
    uv = shutil.which("uv")
    assert uv is not None, "uv builds the Airflow environment: install it (`python3 -m pip install uv`)"
    if not (venv / "ready").exists():
        subprocess.run([uv, "venv", "-q", "--clear", str(venv), "-p", sys.executable], check=True, timeout=300)
        install = [uv, "pip", "install", "-q", "--python", str(python), AIRFLOW, f"dlt=={dlt.__version__}"]
        subprocess.run(install, check=True, timeout=900)
        (venv / "ready").write_text("")
    return python


def test_the_airflow_dag_has_one_task_group_per_api_and_account(airflow_python, tmp_path):
    # SkySQL names two accounts (no keys needed to parse the DAG: they are read when a task runs)
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SOURCES__SKYSQL_SOURCE__ACCOUNTS": '["prod", "staging"]',
    }
    result = subprocess.run(
        [str(airflow_python), "-c", LIST_DAG, str(ROOT / "src"), str(DAG_FOLDER)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    listed = json.loads(result.stdout.strip().splitlines()[-1])
    assert listed["errors"] == {}
    names = ["tidb_instance_pipeline", "skysql_pipeline_prod", "skysql_pipeline_staging", "secoda_pipeline"]
    assert listed["groups"] == names  # one task group per API and account, in the registry's order
    assert listed["downstream_of_groups"] == ["fleet_model"]
    # and the model, rebuilt after every group
    assert listed["tasks"] == sorted([*(f"{name}.{name}" for name in names), "fleet_model"])
    assert valid_cron(listed["schedule"])
