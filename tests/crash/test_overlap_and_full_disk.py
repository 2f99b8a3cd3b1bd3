"""Overlapping runs and a full disk, at seeded points of a run.

Two kinds of seeded trials draw where the fault strikes from the uninterrupted run's event counts:

    FLEETLAKE_OVERLAP_TRIALS=12 FLEETLAKE_DISKFULL_TRIALS=12 uv run pytest tests/crash/test_overlap_and_full_disk.py -q

(CI runs 3 of each; FLEETLAKE_TRIALS_REPORT=file.jsonl appends a line per trial.) An overlap trial
pauses a run at its k-th event and starts a second run of the same pipeline, which must say it waits;
then both end well and nothing is doubled. A disk-full trial fills a small tmpfs, made for the trial, at the k-th event of normalize or
load: the run must fail with the disk's own error (exit 11) while the file still holds the previous
complete load exactly, and the run after space is freed must converge.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from fleetlake import locks
from fleetlake.sources import get_api
from tests.crash.machine import (
    Watched,
    _draw,
    _expect_converged,
    _no_leaks,
    _plan,
    _prepare,
    _start,
)
from tests.crash.test_crash_recovery import Lab, compare, run_driver

RECORDS: list[dict] = []
OVERLAP_TRIALS = int(os.environ.get("FLEETLAKE_OVERLAP_TRIALS", "3"))
DISKFULL_TRIALS = int(os.environ.get("FLEETLAKE_DISKFULL_TRIALS", "3"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(tmp_path_factory.mktemp("machine"), workers=2)
    yield lab
    lab.close()
    if os.environ.get("FLEETLAKE_TRIALS_REPORT") and RECORDS:  # xdist keeps a worker's prints to itself
        with Path(os.environ["FLEETLAKE_TRIALS_REPORT"]).open("a", encoding="utf-8") as report:
            report.writelines(json.dumps(record, default=str) + "\n" for record in RECORDS)
    if RECORDS:
        print("\nmachine fault trials: " + " | ".join(RECORDS[0]))
        for record in RECORDS:
            print(" | ".join(str(value) for value in record.values()))


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
