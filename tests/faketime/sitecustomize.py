"""Imported at start-up by every Python process of a suite run under `tests/faketime.sh` (it puts this
folder on PYTHONPATH), never otherwise.

libfaketime 0.9.10 (Debian's) breaks Python's timed waits one way or the other: with the monotonic clock
faked, `threading.Event.wait(timeout)` never returns (glibc's `sem_clockwait` is not intercepted and
waits for a deadline on the faked clock); with it left alone (FAKETIME_DONT_FAKE_MONOTONIC=1, what the
script sets), `time.sleep` fails with EINVAL (the `clock_nanosleep` wrapper). `select` with a timeout
works in both, so `time.sleep` waits with it. Only the wall clock is moved, which is what the runs test.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
