"""The machine's faults, not the API's: overlapping runs, a full disk, a second folder with another
organization's keys, signals, a DuckDB file held by another program, local state that rots.

Every test runs real `tests/crash/driver.py` processes (most through `fleetlake run`, with its messages
and exit codes) against the crash trials' emulators, and compares the DuckDB dataset, table by table,
with the uninterrupted runs' (`compare` of the crash trials): rows lost 0, duplicated 0, key leaked 0.

Two kinds of seeded trials draw where the fault strikes from the uninterrupted run's event counts:

    FLEETLAKE_OVERLAP_TRIALS=12 FLEETLAKE_DISKFULL_TRIALS=12 uv run pytest tests/crash/test_machine_faults.py -q

(CI runs 3 of each.) An overlap trial starts a second run of the same pipeline when the first reaches its
k-th event; the second must wait, then both end well and nothing is doubled. A disk-full trial fills a
small tmpfs, made for the trial, at the k-th event of normalize or load: the run must fail with the
disk's own error (exit 11) while the file still holds the previous complete load exactly, and the run
after space is freed must converge.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from fleetlake import locks
from fleetlake.sources import get_api
from tests.crash.test_crash_recovery import (
    CANARY,
    SEED,
    Baseline,
    Lab,
    compare,
    driver_command,
    run_driver,
)
from tests.secrets import find_canary

APIS = ("tidb", "skysql", "secoda")
OVERLAP_TRIALS = int(os.environ.get("FLEETLAKE_OVERLAP_TRIALS", "3"))
DISKFULL_TRIALS = int(os.environ.get("FLEETLAKE_DISKFULL_TRIALS", "3"))
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


def _start(api: str, env: dict[str, str], folder: Path, *args: str) -> subprocess.Popen:
    command, env = driver_command(api, env, folder, extra=args)
    return subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Watched:
    """A running process whose stderr is read as it comes: `reached(text)` waits for a line with `text`."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._out: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, args=(process.stderr, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(process.stdout, self._out), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, stream, into: list[str]) -> None:
        for line in stream:
            with self._changed:
                into.append(line)
                self._changed.notify_all()
        with self._changed:
            into.append("")  # end of stream
            self._changed.notify_all()

    def reached(self, text: str, timeout: float = 120) -> bool:
        """True once a line contains `text`; False when the process ended without one."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or (self.lines and self.lines[-1] == ""), timeout
            )
            assert found, f"neither {text!r} nor the end of the process within {timeout} s"
            return any(text in line for line in self.lines)

    def finish(self) -> tuple[int, str, str]:
        code = self.process.wait(timeout=240)
        for thread in self._threads:
            thread.join(timeout=30)
        return code, "".join(self._out), "".join(self.lines)


def _expect_converged(expected: Baseline, database: Path) -> None:
    comparison = compare(expected, database)
    assert comparison.converged, f"lost {comparison.lost}, duplicated {comparison.duplicated}, {comparison.problems}"


def _no_leaks(*texts: str, folders=(), databases=()) -> None:
    assert find_canary(CANARY, texts=texts, folders=folders, duckdb_files=databases) == []


def _prepare(lab: Lab, api: str, run: int, folder: Path) -> Baseline:
    """The folder as an uninterrupted run `run - 1` left it (empty for the first run)."""
    expected = lab.baseline(api, run)
    if run > 1:
        shutil.copytree(lab.baseline(api, run - 1).folder, folder, dirs_exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    return expected


@dataclass(frozen=True)
class Trial:
    name: str
    api: str
    run: int
    phase: str

    def __str__(self) -> str:
        return self.name


def _plan(kind: str, count: int, phases: tuple[str, ...]) -> list[Trial]:
    trials = []
    for i in range(count):
        # runs alternate and phases turn every two trials: any 6 trials meet every (api, run)
        api, run, phase = APIS[i % 3], 1 + i % 2, phases[(i // 2) % len(phases)]
        trials.append(Trial(f"{kind}-{i:02}-{api}-run{run}-{phase}", api, run, phase))
    return trials


def _draw(trial: Trial, expected: Baseline) -> int:
    return random.Random(f"{SEED}/{trial.name}").randint(1, max(1, expected.events[trial.phase]))


@pytest.mark.parametrize("trial", _plan("overlap", OVERLAP_TRIALS, ("extract", "normalize", "load")), ids=str)
def test_a_second_run_of_the_same_pipeline_waits_for_the_first_and_nothing_doubles(trial, lab, tmp_path):
    folder = tmp_path / "run"
    expected = _prepare(lab, trial.api, trial.run, folder)
    k = _draw(trial, expected)
    gate = folder / "gate"
    os.mkfifo(gate)
    first = Watched(
        _start(trial.api, expected.env, folder, "--kill", f"{trial.phase}:{k}", "--action", f"pause:{gate}")
    )
    paused = first.reached("crash driver: pause at")
    second = Watched(_start(trial.api, expected.env, folder, "--cli"))
    # the first run holds the pipeline, paused at its k-th event, until the second says it waits
    waited = paused and second.reached(f"waiting for process {first.process.pid} ")
    if paused:
        with gate.open("w"):
            pass
    first_code, first_out, first_err = first.finish()
    second_code, second_out, second_err = second.finish()
    RECORDS.append({"trial": trial.name, "k": k, "second waited": waited, "codes": (first_code, second_code)})
    assert (first_code, second_code) == (0, 0), (first_err[-2000:], second_err[-2000:])
    assert waited == paused  # a k past the run's last event (counts vary a little) pauses nothing
    if waited:
        assert f"it is using pipeline {get_api(trial.api).pipeline_name} in {folder / 'pipelines'}" in second_err
    _expect_converged(expected, expected_database(folder, trial.api))
    _no_leaks(first_out, first_err, second_out, second_err, folders=(folder,))


def expected_database(folder: Path, api: str) -> Path:
    return folder / f"{api}.duckdb"


def test_no_wait_refuses_at_once_naming_the_run_that_holds_the_pipeline(lab, tmp_path, monkeypatch):
    folder = tmp_path / "run"
    expected = _prepare(lab, "tidb", 2, folder)
    monkeypatch.setenv(locks.LOCKS_ENV, str(folder / "locks"))  # the driver's own locks folder
    working = (folder / "pipelines" / get_api("tidb").pipeline_name).resolve()
    before = hashlib.sha256((folder / "tidb.duckdb").read_bytes()).hexdigest()
    with locks.holding(f"pipeline:{working}", "the test's hold", wait=False, started="2026-11-15T12:00:00+00:00"):
        result = run_driver("tidb", expected.env, folder, extra=("--cli", "--cli-arg=--no-wait"))
    assert result.returncode == 9, result.stderr[-2000:]
    assert (
        f"Another run is using pipeline tidb_instance_pipeline in {folder / 'pipelines'}: process {os.getpid()} ("
        in (result.stderr)
    )
    assert "started 2026-11-15T12:00:00+00:00). Two runs at once would load the same data twice" in result.stderr
    assert hashlib.sha256((folder / "tidb.duckdb").read_bytes()).hexdigest() == before
    # the lock of a process that is gone is free at once: the same run now goes through
    rerun = run_driver("tidb", expected.env, folder, extra=("--cli", "--cli-arg=--no-wait"))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _expect_converged(expected, folder / "tidb.duckdb")


def _mount_tmpfs(where: Path, megabytes: int) -> None:
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"this machine refuses to mount a tmpfs for a full disk: {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    mounted = tmp_path / "disk"
    _mount_tmpfs(mounted, 160)
    yield mounted
    subprocess.run(["umount", "-l", str(mounted)], check=False)


@pytest.mark.parametrize("trial", _plan("diskfull", DISKFULL_TRIALS, ("load", "normalize")), ids=str)
def test_a_full_disk_leaves_the_last_complete_load_and_the_next_run_converges(trial, lab, small_disk):
    folder = small_disk / "run"
    expected = _prepare(lab, trial.api, trial.run, folder)
    k = _draw(trial, expected)
    filler = small_disk / "filler"
    failed = run_driver(
        trial.api, expected.env, folder, kill=f"{trial.phase}:{k}", extra=("--cli", "--action", f"fill:{filler}")
    )
    database = folder / f"{trial.api}.duckdb"
    record = {"trial": trial.name, "k": k, "code": failed.returncode, "lost": "-", "duplicated": "-"}
    RECORDS.append(record)
    assert failed.returncode in (0, 11), failed.stderr[-3000:]
    if failed.returncode == 11:
        assert "error: The disk is full: No space left on device" in failed.stderr
        assert "Nothing of this run is visible: the tables keep their last complete load." in failed.stderr
        if trial.run == 1:
            assert not database.exists(), "a first load that failed left a database to read"
        else:  # exactly the previous complete load: nothing of the failed one, nothing lost
            previous = compare(lab.baseline(trial.api, trial.run - 1), database)
            record["lost"], record["duplicated"] = sum(previous.lost.values()), sum(previous.duplicated.values())
            assert previous.converged, f"mixed: {previous.lost} {previous.duplicated} {previous.problems}"
    filler.unlink()
    rerun = run_driver(trial.api, expected.env, folder, extra=("--cli",))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _expect_converged(expected, database)
    _no_leaks(failed.stdout, failed.stderr, rerun.stdout, rerun.stderr, folders=(folder,))


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
