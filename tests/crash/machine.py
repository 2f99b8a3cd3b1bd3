"""What the machine-fault tests share: processes watched as they run, folders prepared as an
uninterrupted run left them, seeded trial plans."""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from fleetlake.sources import REGISTRY
from tests.crash.test_crash_recovery import (
    CANARY,
    SEED,
    Baseline,
    Lab,
    compare,
    driver_command,
)
from tests.secrets import find_canary

APIS = tuple(REGISTRY)


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
        api, run, phase = APIS[i % len(APIS)], 1 + i % 2, phases[(i // 2) % len(phases)]
        trials.append(Trial(f"{kind}-{i:02}-{api}-run{run}-{phase}", api, run, phase))
    return trials


def _draw(trial: Trial, expected: Baseline) -> int:
    return random.Random(f"{SEED}/{trial.name}").randint(1, max(1, expected.events[trial.phase]))
