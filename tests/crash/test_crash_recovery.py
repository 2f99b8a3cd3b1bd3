"""Crash recovery: a run killed with SIGKILL anywhere in extract, normalize or load, then run again,
leaves exactly what an uninterrupted run leaves: no row lost, none duplicated, nested tables included;
and the API key, with DEBUG logging on, appears in no output, file or table of either process.

Each API has two emulators serving fixed data (same seed and clock): today's, and one a day later with
new audit logs, backups and catalog changes. A trial kills `tests/crash/driver.py` after the k-th event
of one phase of either the first run (into an empty destination) or the next day's run (onto the first
run's destination, which dlt must resume rather than start over: a crashed first run that loaded nothing
is simply wiped by dlt), runs it again without a kill, and compares the DuckDB dataset with that of the
uninterrupted runs, table by table. k is drawn from the uninterrupted run's event count, seeded:

    FLEETLAKE_CRASH_TRIALS=24 uv run pytest tests/crash -q     # the full count; CI runs 6
    FLEETLAKE_CRASH_SEED=7 ...                                  # another draw of kill points

Besides the drawn trials, four aim at one moment: right after a load job's INSERT has committed and
before dlt has recorded it, for an append table, a merge table, and merge tables with nested tables.
The session ends with a table of the trials (api, run, phase, k, died, rows lost and duplicated, leaks);
FLEETLAKE_CRASH_REPORT=path.json also writes it, with the tables that differ.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from fleetlake.sources import REGISTRY, get_api
from tests.canaries import canary_emulator, canary_settings
from tests.crash.driver import PHASES, RESOURCES_VARIABLE
from tests.secrets import find_canary

APIS = tuple(REGISTRY)
TRIALS = int(os.environ.get("FLEETLAKE_CRASH_TRIALS", "6"))
SEED = int(os.environ.get("FLEETLAKE_CRASH_SEED", "1115"))
# trials run side by side, each in its own processes
WORKERS = int(os.environ.get("FLEETLAKE_CRASH_WORKERS", "2"))
EMULATOR_SEED = 7
NEXT_DAY = timedelta(days=1)
CANARY = "canary-crash-5d2e71-do-not-leak"
DRIVER = Path(__file__).with_name("driver.py")
# dlt's bookkeeping: which load wrote a row and how nested rows point at their parents; it differs between
# runs by design, so rows are compared without it and nested rows by their path from the root's key
DLT_COLUMNS = {"_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_list_idx"}
DLT_TABLES = {"_dlt_loads", "_dlt_version", "_dlt_pipeline_state"}


@dataclass(frozen=True)
class Trial:
    """Kill run `run` (1: the first, 2: the next day's) of `api` after the k-th event of `phase`, counting
    only events whose trace line contains `match` if set; `k=None` draws k with the session's seed.
    `load_workers` sets dlt's load threads for the run to kill (default: dlt's 20)."""

    name: str
    api: str
    phase: str
    run: int = 1
    k: int | None = None
    match: str = ""
    load_workers: int | None = None

    def __str__(self) -> str:
        return self.name


def plan(trials: int) -> list[Trial]:
    """Trial i tests the registry's API i mod n; phases rotate so any 3 consecutive trials cover all three,
    and runs alternate every n trials: 6n trials meet every (api, phase, run)."""
    chosen, n = [], len(APIS)
    for i in range(trials):
        api, phase, run = APIS[i % n], PHASES[(i + i // n) % 3], 1 + (i // n) % 2
        chosen.append(Trial(f"{i:02}-{api}-run{run}-{phase}", api, phase, run))
    return chosen


# right after a load job has committed its rows, before dlt records that it did: the next run runs the
# job again. A merge table without nested tables takes the second copy out on its way from staging (by
# primary key); an append table, and the root of a merge with nested tables, keep it. One load thread, so
# that no other job is caught in the same moment
def _window(name: str, api: str, dataset: str, table: str) -> Trial:
    return Trial(name, api, "load", k=1, match=f'sql INSERT INTO "{dataset}"."{table}" BY NAME', load_workers=1)


WINDOWS = [
    _window("tidb-projects-merge", "tidb", "tidb_instance_data_staging", "projects"),
    _window("tidb-audit_logs-append", "tidb", "tidb_instance_data", "audit_logs"),
    _window("skysql-services-merge-nested", "skysql", "skysql_data_staging", "services"),
    _window("secoda-resource_catalog-merge-nested", "secoda", "secoda_data_staging", "resource_catalog"),
]


# what a trial loads of each API: every kind of table its runs have (merged, appended with a cursor,
# nested, a parent's child lists, monthly bills), not every list. A kill lands on one event among a run's
# thousands; the 15 TiDB lists a default run adds beyond these each cost requests, files and rows in every
# one of the trials' processes, with no other way of failing (the suite took 23 minutes with all of them)
CRASH_RESOURCES = {
    "tidb": "projects,clusters,backups,dedicated_clusters,dedicated_node_specs,serverless_clusters,api_keys,"
    "audit_logs,bills,bill_details",
    "skysql": "services,service_types,topologies,projects,backups,backup_schedules,billing_account,bills",
}


@dataclass
class Baseline:
    """An uninterrupted run: the environment pointing the driver at its emulator, and what it left."""

    api: str
    run: int
    env: dict[str, str]
    folder: Path
    events: dict[str, int] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)  # the table schemas of the run's dlt schema

    @property
    def dataset(self) -> str:
        return get_api(self.api).dataset_name

    @property
    def database(self) -> Path:
        return self.folder / f"{self.api}.duckdb"


@dataclass
class Comparison:
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return not (self.lost or self.duplicated or self.problems)


@dataclass
class Outcome:
    """What a trial did: its summary line, both processes, the comparison and where the key leaked."""

    record: dict
    killed: subprocess.CompletedProcess | None = None
    rerun: subprocess.CompletedProcess | None = None
    comparison: Comparison | None = None
    leaks: list[str] = field(default_factory=list)
    error: str = ""


def driver_command(api: str, env: dict[str, str], folder: Path, kill: str | None = None, match: str = "", extra=()):
    """The driver's command line and environment for a run in `folder` (its own dlt data folder, home
    and locks folder: trials side by side never meet, and nothing outside the folder is written)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**env, "DLT_DATA_DIR": str(folder / "dlt-data"), "HOME": str(folder / "home")}
    env["FLEETLAKE_LOCKS_DIR"] = str(folder / "locks")
    command = [sys.executable, str(DRIVER), api]
    command += ["--pipelines-dir", str(folder / "pipelines"), "--duckdb", str(folder / f"{api}.duckdb")]
    if kill:
        command += ["--kill", kill, *(["--match", match] if match else [])]
    return [*command, *extra], env


def run_driver(
    api: str, env: dict[str, str], folder: Path, kill: str | None = None, match: str = "", extra=()
) -> subprocess.CompletedProcess:
    command, env = driver_command(api, env, folder, kill, match, extra)
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=folder, timeout=240)


def _killed_at(stderr: str) -> str:
    found = re.search(r"^crash driver: SIGKILL at (.*)$", stderr, re.MULTILINE)
    return found.group(1)[:140] if found else ""


class Lab:
    """Runs trials side by side; each API's emulators and uninterrupted runs start the first time a
    trial needs them."""

    def __init__(self, root: Path, workers: int = 2) -> None:
        self.root = root
        self.servers: list = []
        self.baselines: dict[tuple[str, int], Baseline] = {}
        self.locks = {(api, run): threading.Lock() for api in APIS for run in (1, 2)}
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="crash-trial")
        self.outcomes: dict[str, Future] = {}

    def start(self, trials: list[Trial]) -> None:
        for trial in trials:
            if trial.name not in self.outcomes:
                self.outcomes[trial.name] = self.pool.submit(self._outcome, trial)

    def outcome(self, trial: Trial) -> Outcome:
        self.start([trial])
        return self.outcomes[trial.name].result()

    def baseline(self, api: str, run: int) -> Baseline:
        with self.locks[api, run]:
            if (api, run) not in self.baselines:
                self.baselines[api, run] = self._baseline(api, run)
            return self.baselines[api, run]

    def _serve(self, api: str, run: int, seed: int = EMULATOR_SEED) -> dict[str, str]:
        emulator = canary_emulator(api, CANARY, seed=seed)
        # the next day's emulator has the same data as today's, and what a day adds and changes
        emulator.advance(NEXT_DAY * (run - 1))
        server = emulator.serve()
        self.servers.append(server)
        section = get_api(api).section.upper()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "RUNTIME__"))}
        settings = canary_settings(api, emulator, server.url, CANARY)
        env.update({f"SOURCES__{section}__{name.upper()}": str(value) for name, value in settings.items()})
        # offline: dlt would send its anonymous usage events (over requests, counted as events) to dlthub
        env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
        if api in CRASH_RESOURCES:
            env[RESOURCES_VARIABLE] = CRASH_RESOURCES[api]
        return env

    def _baseline(self, api: str, run: int) -> Baseline:
        baseline = Baseline(api, run, self._serve(api, run), self.root / f"baseline-{api}-run{run}")
        if run > 1:
            shutil.copytree(self.baseline(api, run - 1).folder, baseline.folder)
        result = run_driver(api, baseline.env, baseline.folder)
        assert result.returncode == 0, f"the uninterrupted run {run} of {api} failed: {result.stderr[-3000:]}"
        # DEBUG logging is on (dlt's own and the root logger's), so a key in a log line would show
        for debug_line in ("|[DEBUG]|", "DEBUG urllib3"):
            assert debug_line in result.stderr, result.stderr[-3000:]
        baseline.events = json.loads(result.stdout.strip().splitlines()[-1])["events"]
        schemas = baseline.folder / "pipelines" / get_api(api).pipeline_name / "schemas"
        (schema,) = schemas.glob("*.schema.json")
        baseline.tables = json.loads(schema.read_text())["tables"]
        leaks = find_canary(
            CANARY, texts=(result.stdout, result.stderr), folders=(baseline.folder,), duckdb_files=(baseline.database,)
        )
        assert leaks == [], f"the uninterrupted run {run} of {api} leaked the key into {leaks}"
        return baseline

    def _outcome(self, trial: Trial) -> Outcome:
        record = {"trial": trial.name, "api": trial.api, "run": trial.run, "phase": trial.phase, "k": trial.k}
        record.update({"of": "-", "died": "-", "lost": "-", "duplicated": "-", "secrets": "-", "seconds": "-"})
        record["killed at"] = ""
        outcome = Outcome(record)
        try:
            expected = self.baseline(trial.api, trial.run)
            k = trial.k
            if k is None:
                record["of"] = expected.events[trial.phase]
                k = record["k"] = random.Random(f"{SEED}/{trial.name}").randint(1, expected.events[trial.phase])
            folder = self.root / trial.name
            if trial.run > 1:
                shutil.copytree(self.baseline(trial.api, trial.run - 1).folder, folder)
            started = time.perf_counter()
            env = (
                expected.env
                if trial.load_workers is None
                else {**expected.env, "LOAD__WORKERS": str(trial.load_workers)}
            )
            outcome.killed = run_driver(trial.api, env, folder, f"{trial.phase}:{k}", trial.match)
            # a k past the last event (counts vary a little between runs) leaves a whole run: recorded as such
            record["died"] = outcome.killed.returncode == -signal.SIGKILL
            record["killed at"] = _killed_at(outcome.killed.stderr)
            if outcome.killed.returncode not in (0, -signal.SIGKILL):
                return outcome
            outcome.rerun = run_driver(trial.api, expected.env, folder)
            record["seconds"] = round(time.perf_counter() - started, 1)
            if outcome.rerun.returncode != 0:
                return outcome
            outcome.comparison = compare(expected, folder / f"{trial.api}.duckdb")
            record["lost"] = sum(outcome.comparison.lost.values())
            record["duplicated"] = sum(outcome.comparison.duplicated.values())
            record["tables"] = {"lost": outcome.comparison.lost, "duplicated": outcome.comparison.duplicated}
            outcome.leaks = find_canary(
                CANARY,
                texts=(outcome.killed.stdout, outcome.killed.stderr, outcome.rerun.stdout, outcome.rerun.stderr),
                folders=(folder,),
                duckdb_files=(folder / f"{trial.api}.duckdb",),
            )
            record["secrets"] = len(outcome.leaks)
        except Exception:  # reported by the trial's test
            outcome.error = traceback.format_exc()
        return outcome

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
        for server in self.servers:
            server.stop()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, dict[str, str]]:
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = ? AND table_schema = ? ORDER BY table_name, ordinal_position",
        [catalog, schema],
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, {})[column] = data_type
    return tables


def _depth(tables: dict[str, dict], name: str) -> int:
    depth = 0
    while tables.get(name, {}).get("parent"):
        name, depth = tables[name]["parent"], depth + 1
    return depth


def _keyed_copy(connection, catalog: str, dataset: str, table: str, columns: dict[str, str], schema: dict) -> None:
    """A temporary copy of a table with each row's `__path` (the root's primary key, then the list index
    at each nesting level) and `__id` (its `_dlt_id`, for the nested tables to join on)."""
    source = f"{catalog}.{_quoted(dataset)}.{_quoted(table)}"
    data = "".join(f", t.{_quoted(column)}" for column in sorted(columns) if column not in DLT_COLUMNS)
    row_id = "t._dlt_id" if "_dlt_id" in columns else "NULL"
    parent = schema.get(table, {}).get("parent")
    if parent:
        path = "p.__path || '/' || CAST(t._dlt_list_idx AS VARCHAR)"
        # distinct: a parent row loaded twice must not double its nested rows, which are counted on their own
        parents = f"(SELECT DISTINCT __id, __path FROM {_quoted(f'{catalog}:{parent}')})"
        joined = f"{source} AS t LEFT JOIN {parents} AS p ON t._dlt_parent_id = p.__id"
    else:
        keys = [name for name, column in schema.get(table, {}).get("columns", {}).items() if column.get("primary_key")]
        values = ", ".join(f"CAST(t.{_quoted(key)} AS VARCHAR)" for key in keys)
        path = f"CAST(to_json(list_value({values})) AS VARCHAR)" if keys else "''"
        joined = f"{source} AS t"
    connection.execute(
        f"CREATE TEMP TABLE {_quoted(f'{catalog}:{table}')} AS SELECT {path} AS __path, {row_id} AS __id{data}"
        f" FROM {joined}"
    )


def compare(expected: Baseline, database: Path) -> Comparison:
    """A trial's dataset against the uninterrupted run's, table by table, as multisets of rows; nested
    rows carry their path from the root's primary key, and root tables must not repeat a primary key."""
    result = Comparison()
    schema, dataset = expected.tables, expected.dataset
    with duckdb.connect() as connection:
        connection.execute(f"ATTACH '{expected.database}' AS ref (READ_ONLY)")
        connection.execute(f"ATTACH '{database}' AS run (READ_ONLY)")
        wanted = {t: c for t, c in _columns(connection, "ref", dataset).items() if t not in DLT_TABLES}
        found = {t: c for t, c in _columns(connection, "run", dataset).items() if t not in DLT_TABLES}
        if set(wanted) != set(found):
            result.problems.append(
                f"tables missing: {sorted(set(wanted) - set(found))}, unexpected: {sorted(set(found) - set(wanted))}"
            )
        # parents first: a nested table's path starts with its parent's
        for table in sorted(set(wanted) & set(found), key=lambda name: _depth(schema, name)):
            if wanted[table] != found[table]:
                result.problems.append(f"{table}: columns {wanted[table]} became {found[table]}")
                continue
            for catalog in ("ref", "run"):
                _keyed_copy(connection, catalog, dataset, table, wanted[table], schema)
            columns = ", ".join(["__path", *(_quoted(c) for c in sorted(wanted[table]) if c not in DLT_COLUMNS)])
            ref, run = _quoted(f"ref:{table}"), _quoted(f"run:{table}")
            for name, first, second in (("lost", ref, run), ("duplicated", run, ref)):
                (count,) = connection.execute(
                    f"SELECT count(*) FROM (SELECT {columns} FROM {first} EXCEPT ALL SELECT {columns} FROM {second})"
                ).fetchone()
                if count:
                    getattr(result, name)[table] = count
            keyed = any(column.get("primary_key") for column in schema.get(table, {}).get("columns", {}).values())
            if keyed and not schema[table].get("parent"):
                (repeated,) = connection.execute(
                    f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {run} GROUP BY __path HAVING n > 1)"
                ).fetchone()
                if repeated:
                    result.problems.append(f"{table}: {repeated} row(s) repeat a primary key")
    return result


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("crash"), workers=WORKERS)
    # every selected trial starts now, so the next ones run while the test of the first one waits
    lab.start([item.callspec.params["trial"] for item in request.session.items if _is_trial(item)])
    yield lab
    lab.close()


def _is_trial(item) -> bool:
    callspec = getattr(item, "callspec", None)
    return item.module.__name__ == __name__ and callspec is not None and "trial" in callspec.params


def check(outcome: Outcome, records: list[dict]) -> None:
    records.append(outcome.record)
    if outcome.error:
        pytest.fail(outcome.error, pytrace=False)
    killed, rerun, comparison = outcome.killed, outcome.rerun, outcome.comparison
    assert killed.returncode in (0, -signal.SIGKILL), f"the run to kill failed by itself: {killed.stderr[-3000:]}"
    assert rerun.returncode == 0, f"the run after the kill failed: {rerun.stderr[-3000:]}"
    assert comparison.converged, (
        f"killed at {outcome.record['killed at']!r}: rows lost {comparison.lost}, duplicated"
        f" {comparison.duplicated}, {comparison.problems}"
    )
    assert outcome.leaks == [], f"the key leaked into {outcome.leaks}"


@pytest.mark.parametrize("trial", plan(TRIALS), ids=str)
def test_a_run_killed_anywhere_converges_when_run_again(trial, lab, crash_records):
    check(lab.outcome(trial), crash_records)


@pytest.mark.parametrize("trial", WINDOWS, ids=str)
def test_a_run_killed_between_a_commit_and_its_record_converges(trial, lab, crash_records):
    outcome = lab.outcome(trial)
    check(outcome, crash_records)
    # aimed at one statement, the kill must have met it: were dlt to word it otherwise, this would test nothing
    assert outcome.record["died"] is True, f"the kill point {trial.match!r} was never reached"
