"""One run per pipeline and per destination at a time: advisory file locks that name their holder.

A lock is an `flock` on a small file under dlt's data folder (`~/.dlt/fleetlake/locks` by default), one
file per key (a pipeline's working folder, a destination). The kernel releases an `flock` when its
process dies, so the lock of a killed run is free at once: no pid file to judge stale, nothing to
clean up. The file holds the holder's pid, command and start time so a waiting run can say whom it
waits for. Written here and not with the `filelock` package because the holder's identity and the
wait/no-wait message are the point, and they need the file's content under the lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dlt.common.pipeline import get_dlt_pipelines_dir

from fleetlake.errors import FleetlakeError

LOCKS_ENV = "FLEETLAKE_LOCKS_DIR"
"""A folder for the lock files instead of `<dlt data dir>/fleetlake/locks` (tests, shared machines)."""


class BusyError(FleetlakeError):
    """Another run holds the pipeline or the destination (and the user asked not to wait)."""

    exit_code = 9


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its file says."""

    pid: int
    command: str
    started: str

    def describe(self) -> str:
        return f"process {self.pid} (`{self.command}`, started {self.started})"


def locks_dir() -> Path:
    """Where the lock files live: FLEETLAKE_LOCKS_DIR, or `fleetlake/locks` beside dlt's default pipelines
    folder (`~/.dlt`): one place for every run of this user, whatever --pipelines-dir each gives."""
    configured = os.environ.get(LOCKS_ENV)
    return Path(configured) if configured else Path(get_dlt_pipelines_dir()).parent / "fleetlake" / "locks"


def lock_path(key: str) -> Path:
    """The file of a lock key: a readable prefix and a digest (keys are paths and URLs)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    readable = "".join(c if c.isalnum() else "_" for c in key.rsplit("/", 1)[-1])[-40:]
    return locks_dir() / f"{readable}-{digest}.lock"


def _read_holder(fd: int) -> Holder | None:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        data = json.loads(text)
        return Holder(int(data["pid"]), str(data["command"]), str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # written by a run that died while it wrote, or empty: a free lock has no holder


def _write_holder(fd: int, started: str) -> None:
    # the command line without its arguments' values: an argument may be a secret given on the command line
    command = " ".join([Path(sys.argv[0]).name, *(a for a in sys.argv[1:] if not a.startswith("-"))][:4])
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command, "started": started}).encode(), 0)


_IN_PROCESS: dict[str, threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


def _in_process(key: str) -> threading.Lock:
    """The lock of `key` among this process's threads: runs side by side in one process take turns at a
    destination quietly (and whatever --no-wait says), where a run of another process is named."""
    with _IN_PROCESS_GUARD:
        return _IN_PROCESS.setdefault(key, threading.Lock())


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


@contextlib.contextmanager
def holding(
    key: str,
    what: str,
    *,
    wait: bool,
    started: str,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the lock of `key` for the block; `what` names the thing in messages ("pipeline
    tidb_instance_pipeline in ~/.dlt/pipelines"). Runs take their locks in one order (the pipeline's,
    then the destination's), so two runs cannot wait for each other.

    With `wait`, a lock held by another process is waited for after `on_wait` got one line saying who
    holds it; without, `BusyError` says so at once. A lock held by another thread of this process (runs of
    several accounts side by side) is waited for in silence.
    """
    with _in_process(key), _holding_file(key, what, wait=wait, started=started, on_wait=on_wait):
        yield


@contextlib.contextmanager
def _holding_file(
    key: str, what: str, *, wait: bool, started: str, on_wait: Callable[[str], None] | None
) -> Iterator[None]:
    fd = _open(lock_path(key))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            holder = _read_holder(fd)
            who = holder.describe() if holder else "another process"
            if not wait:
                raise BusyError(
                    f"Another run is using {what}: {who}. Two runs at once would load the same data twice, so "
                    "this one did not start. Wait for it to end, or leave out --no-wait to queue behind it; if "
                    f"that process hangs, stop it (kill {holder.pid if holder else '<pid>'}) and run again: "
                    "what it left unfinished is resumed."
                ) from None
            if on_wait is not None:
                on_wait(f"waiting for {who} to end: it is using {what} (--no-wait refuses instead of waiting)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        _write_holder(fd, started)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases its flock
