"""The machine's faults, not the API's: signals, a DuckDB file held by another program or broken, local
state that rots, a second folder with another organization's keys (overlapping runs and a full disk are
in test_overlap_and_full_disk.py).

Every test runs real `tests/crash/driver.py` processes (most through `fleetlake run`, with its messages
and exit codes) against the crash trials' emulators, and compares the DuckDB dataset, table by table,
with the uninterrupted runs' (`compare` of the crash trials): rows lost 0, duplicated 0, key leaked 0.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.crash.machine import (
    _expect_converged,
    _prepare,
)
from tests.crash.test_crash_recovery import Baseline, Lab, compare, driver_command, run_driver

RECORDS: list[dict] = []


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("machine"), workers=2)
    yield lab
    lab.close()
    if RECORDS:
        print("\nmachine fault trials: " + " | ".join(RECORDS[0]))
        for record in RECORDS:
            print(" | ".join(str(value) for value in record.values()))


@pytest.mark.parametrize(
    ("api", "sig", "phase", "code", "said"),
    [
        ("tidb", "sigterm", "extract", 143, "interrupted by SIGTERM during the extract step"),
        ("skysql", "sigint", "load", 130, "interrupted by Ctrl-C (SIGINT) during the load step"),
        ("secoda", "sigterm", "load", 143, "interrupted by SIGTERM during the load step"),
    ],
)
def test_a_signal_stops_the_run_with_its_exit_code_and_the_next_run_converges(
    lab, tmp_path, api, sig, phase, code, said
):
    folder = tmp_path / "run"
    expected = _prepare(lab, api, 2, folder)
    # the first event of the phase: the run has most of its work still ahead
    stopped = run_driver(api, expected.env, folder, kill=f"{phase}:2", extra=("--cli", "--action", sig))
    assert stopped.returncode == code, stopped.stderr[-3000:]
    assert f"error: {said}. Nothing of this run is visible yet" in stopped.stderr
    assert "Shutdown of dlt thread pool" not in stopped.stderr
    previous = compare(lab.baseline(api, 1), folder / f"{api}.duckdb")
    assert previous.converged, f"an interrupted run left a mix: {previous.lost} {previous.duplicated}"
    rerun = run_driver(api, expected.env, folder, extra=("--cli",))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _expect_converged(expected, folder / f"{api}.duckdb")


_HOLD = "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); print(c.execute(sys.argv[3]).fetchone()[0], flush=True); sys.stdin.read(); print(c.execute(sys.argv[3]).fetchone()[0])"


def _holder(database: Path, mode: str, sql: str) -> subprocess.Popen:
    import sys

    command = [sys.executable, "-c", _HOLD, str(database), mode, sql]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_a_duckdb_file_open_for_writing_elsewhere_is_named_and_left_alone(lab, tmp_path):
    folder = tmp_path / "run"
    expected = _prepare(lab, "tidb", 2, folder)
    database = folder / "tidb.duckdb"
    holder = _holder(database, "rw", "SELECT 1")
    try:
        assert holder.stdout.readline().strip() == "1"  # it holds the file now
        before = hashlib.sha256(database.read_bytes()).hexdigest()
        result = run_driver("tidb", expected.env, folder, extra=("--cli",))
    finally:
        holder.communicate("", timeout=30)
    assert result.returncode == 9, result.stderr[-2000:]
    assert f"error: The DuckDB file {database} is open for writing in process {holder.pid} (python" in result.stderr
    assert "open the file read-only there" in result.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    rerun = run_driver("tidb", expected.env, folder, extra=("--cli",))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _expect_converged(expected, database)


def test_a_reader_keeps_its_snapshot_while_a_run_loads_beside_it(lab, tmp_path):
    folder = tmp_path / "run"
    expected = _prepare(lab, "tidb", 2, folder)
    database = folder / "tidb.duckdb"
    sql = "SELECT count(*) FROM tidb_instance_data.audit_logs"
    with duckdb.connect(str(lab.baseline("tidb", 1).database), read_only=True) as connection:
        (yesterday,) = connection.execute(sql).fetchone()
    with duckdb.connect(str(expected.database), read_only=True) as connection:
        (today,) = connection.execute(sql).fetchone()
    assert today > yesterday  # the next day brings audit logs
    reader = _holder(database, "ro", sql)
    try:
        assert int(reader.stdout.readline()) == yesterday
        result = run_driver("tidb", expected.env, folder, extra=("--cli",))
        after, _ = reader.communicate("", timeout=30)
    finally:
        reader.kill()
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(after) == yesterday  # its own snapshot, whole, until it reopens
    _expect_converged(expected, database)


@pytest.mark.parametrize(
    ("damaged", "how"),
    [
        ("state.json", "truncate"),
        ("schemas/tidb_instance_source.schema.json", "cut"),
        ("state.json", "garble"),
        ("trace.pickle", "cut"),
    ],
)
def test_unreadable_local_state_is_set_aside_and_rebuilt_from_the_destination(lab, tmp_path, damaged, how):
    folder = tmp_path / "run"
    expected = _prepare(lab, "tidb", 2, folder)
    path = folder / "pipelines" / "tidb_instance_pipeline" / damaged
    data = path.read_bytes()
    path.write_bytes({"truncate": b"", "cut": data[: len(data) // 2], "garble": b"\xff\xfe" + data[2:]}[how])
    result = run_driver("tidb", expected.env, folder, extra=("--cli",))
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Pipeline tidb_instance_pipeline's file {path} cannot be read (" in result.stderr
    (aside,) = (folder / "pipelines" / ".fleetlake-set-aside").iterdir()
    assert aside.name == "tidb_instance_pipeline-20261115T120000Z"  # the suite's clock
    assert f"its local folder is set aside as {aside} (nothing deleted)" in result.stderr
    assert (aside / damaged).read_bytes() != data  # kept as it was found
    _expect_converged(expected, folder / "tidb.duckdb")


@pytest.mark.parametrize("how", ["cut", "garble"])
def test_a_duckdb_file_that_cannot_be_opened_is_never_overwritten(lab, tmp_path, how):
    folder = tmp_path / "run"
    expected = _prepare(lab, "tidb", 2, folder)
    database = folder / "tidb.duckdb"
    data = database.read_bytes()
    broken = data[: len(data) // 3] if how == "cut" else data[:4096] + bytes(range(256)) * 64 + data[4096 + 16384 :]
    database.write_bytes(broken)
    result = run_driver("tidb", expected.env, folder, extra=("--cli",))
    assert result.returncode == 10, result.stderr[-2000:]
    assert f"error: The DuckDB file {database} cannot be opened (" in result.stderr
    assert "fleetlake leaves it exactly as it is and loaded nothing" in result.stderr
    assert f"`mv {database} {database}.broken`" in result.stderr
    assert database.read_bytes() == broken
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("tidb.duckdb")) == ["tidb.duckdb"]


def test_a_second_folder_with_another_organization_never_touches_the_first(lab, tmp_path):
    """Both folders share dlt's pipelines folder, as two projects of one user do (~/.dlt/pipelines)."""
    first_org = lab.baseline("tidb", 1)
    other = Lab(tmp_path / "other-org", workers=1)
    other_env = other._serve("tidb", 1, seed=8)  # another organization: other ids, other names
    try:
        shared = tmp_path / "shared-pipelines"
        first, second = tmp_path / "first", tmp_path / "second"
        reference = tmp_path / "reference"

        def run_in(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
            folder.mkdir(exist_ok=True)
            command, environment = driver_command("tidb", env, folder, extra=("--cli",))
            # the DuckDB file named as a user would, relative to the folder the run starts in
            command[command.index("--duckdb") + 1] = "tidb.duckdb"
            command[command.index("--pipelines-dir") + 1] = str(shared)
            environment["FLEETLAKE_LOCKS_DIR"] = str(tmp_path / "locks")
            return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=folder, timeout=240)

        assert run_in(first, first_org.env).returncode == 0
        shutil.copytree(first, reference)  # what the first folder holds after its own run
        other_result = run_in(second, other_env)
        assert other_result.returncode == 0, other_result.stderr[-2000:]
        assert "local state belongs to another destination (duckdb " + str(first / "tidb.duckdb") in other_result.stderr
        _expect_converged(first_org, first / "tidb.duckdb")  # untouched
        # the second folder holds the other organization's data alone: as in a folder of its own
        alone = tmp_path / "alone"
        result = run_driver("tidb", other_env, alone)
        assert result.returncode == 0
        other_baseline = Baseline("tidb", 1, other_env, alone, tables=first_org.tables)
        _expect_converged(other_baseline, second / "tidb.duckdb")
        again = run_in(first, first_org.env)
        assert again.returncode == 0, again.stderr[-2000:]
        _expect_converged(first_org, first / "tidb.duckdb")
        with duckdb.connect(str(first / "tidb.duckdb"), read_only=True) as connection:
            projects = {row[0] for row in connection.execute("SELECT id FROM tidb_instance_data.projects").fetchall()}
        with duckdb.connect(str(second / "tidb.duckdb"), read_only=True) as connection:
            others = {row[0] for row in connection.execute("SELECT id FROM tidb_instance_data.projects").fetchall()}
        assert len(projects) == 3
        assert len(others) == 3
        assert not projects & others
        assert json.loads((shared / "tidb_instance_pipeline" / "fleetlake_destination.json").read_text()) == {
            "destination": f"duckdb {first / 'tidb.duckdb'} dataset tidb_instance_data"
        }
    finally:
        other.close()
