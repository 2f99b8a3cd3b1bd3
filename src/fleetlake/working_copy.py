"""DuckDB loads that become visible all at once: the run loads into a copy of the file, then swaps it in.

dlt commits each load job in its own transaction, so a load that fails halfway (a full disk, a killed
process) leaves some tables of the new load committed beside others of the old one. On DuckDB, where a
database is one file, fleetlake loads into `<file>.fleetlake-loading` instead, a copy of the file taken
when the run starts, and renames it over the file when the load is complete: a reader sees yesterday's
complete data or today's, never a mix. A reader holding the old file open (a `duckdb -readonly` shell)
keeps reading the old one until it reopens.

A run that fails keeps its copy when a load package is pending in it: dlt's record of which jobs
completed describes the copy, so the next run resumes there. The copy remembers the file it was taken
from (inode, size, modification time); when the file changed since, the copy is stale and is set aside.
The price: a run needs room for a second copy of the database, and copying takes a moment (a 200 MB
file: well under a second on a local disk).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from fleetlake.clock import now
from fleetlake.errors import FleetlakeError
from fleetlake.locks import BusyError

logger = logging.getLogger("fleetlake")

SUFFIX = ".fleetlake-loading"


class DestinationUnreadableError(FleetlakeError):
    """The destination's DuckDB file cannot be opened: fleetlake leaves it as it is."""

    exit_code = 10


def lock_holders(path: Path) -> list[int]:
    """Processes that hold a POSIX lock on `path` (DuckDB locks its file so), from /proc/locks; empty
    where the OS does not say."""
    try:
        inode = path.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    holders = []
    for line in lines:
        parts = line.split()
        # "1: POSIX  ADVISORY  WRITE 1234 00:2a:5678 0 EOF" ("->" marks a blocked waiter)
        if "->" in parts or len(parts) < 6 or parts[1] != "POSIX":
            continue
        with contextlib.suppress(ValueError, IndexError):
            if int(parts[5].rsplit(":", 1)[-1]) == inode:
                holders.append(int(parts[4]))
    return sorted(set(holders) - {os.getpid()})


def describe_process(pid: int) -> str:
    """`process 1234 (duckdb)`: its name as the OS gives it, never its arguments (they may hold secrets)."""
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return f"process {pid}"
    return f"process {pid} ({name})"


def _writer_holds(path: Path) -> bool:
    """True when another process holds DuckDB's write lock on `path` (a read-write connection)."""
    import fcntl  # POSIX only, like fleetlake's run locks

    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        # a shared lock is refused only while someone holds the exclusive one; closing the descriptor drops it
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _held_error(path: Path) -> BusyError:
    holders = lock_holders(path)
    who = ", ".join(describe_process(pid) for pid in holders) if holders else "another process"
    return BusyError(
        f"The DuckDB file {path} is open for writing in {who}, so fleetlake cannot load into it: two "
        "writers would lose each other's changes. Close that program (or open the file read-only there: "
        "`duckdb -readonly` or `duckdb.connect(path, read_only=True)`, which a run does not disturb), then run "
        "again."
    )


def _stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _checkpoint(path: Path) -> None:
    """Open and close the database: DuckDB folds its write-ahead log into the file on a clean close."""
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise _held_error(path) from None
        raise _unreadable(path, error) from None
    except duckdb.Error as error:
        raise _unreadable(path, error) from None


def _unreadable(path: Path, error: BaseException) -> DestinationUnreadableError:
    reason = " ".join(str(error).split())[:300]
    return DestinationUnreadableError(
        f"The DuckDB file {path} cannot be opened ({type(error).__name__}: {reason}). fleetlake leaves it "
        f"exactly as it is and loaded nothing. Restore it from a backup and run again; or move it away "
        f"(`mv {path} {path}.broken`) and run again to load everything anew into a new file (dlt then "
        "starts its pipeline state afresh from the empty destination, so incremental lists load from their "
        "start)."
    )


@dataclass
class WorkingCopy:
    """The copy of `visible` that one run loads into; `commit` makes it the file."""

    visible: Path

    @property
    def path(self) -> Path:
        return self.visible.with_name(self.visible.name + SUFFIX)

    @property
    def _meta(self) -> Path:
        return self.visible.with_name(self.visible.name + SUFFIX + ".json")

    @property
    def _partial(self) -> Path:
        return self.visible.with_name(self.visible.name + SUFFIX + ".part")

    def exists(self) -> bool:
        return self.path.exists()

    def open(self, *, pending: bool) -> Path:
        """The copy to load into, taken now or left by a run that did not finish (`pending`: the
        pipeline has packages to load, which may have started in that copy)."""
        self._partial.unlink(missing_ok=True)  # a copy that died halfway
        if self.visible.exists() and _writer_holds(self.visible):
            raise _held_error(self.visible)
        if self.path.exists():
            if self._taken_from_current():
                logger.info("resuming the unfinished load in %s", self.path)
                return self.path
            self._set_aside_stale(pending)
        if self.visible.exists() and self.visible.with_name(self.visible.name + ".wal").exists():
            _checkpoint(self.visible)
        # what the copy is taken from is written first: a copy in place is always described
        self._meta.write_text(json.dumps({"taken_from": _stamp(self.visible)}))
        if self.visible.exists():
            self._copy()
        if self.path.exists():
            # open it once: a file DuckDB cannot read fails here, naming the user's file, not at sync
            try:
                duckdb.connect(str(self.path)).close()
            except duckdb.Error as error:
                self.discard()
                raise _unreadable(self.visible, error) from None
        return self.path

    def _copy(self) -> None:
        try:
            shutil.copyfile(self.visible, self._partial)
            with self._partial.open("rb+") as handle:
                os.fsync(handle.fileno())
            self._partial.replace(self.path)
        except OSError:
            self._partial.unlink(missing_ok=True)
            raise

    def _taken_from_current(self) -> bool:
        try:
            taken_from = json.loads(self._meta.read_text()).get("taken_from")
        except (OSError, ValueError, AttributeError):
            return False
        return bool(taken_from == _stamp(self.visible))

    def _set_aside_stale(self, pending: bool) -> None:
        stamp = now().strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.stale-{stamp}")
        self.path.replace(aside)
        self._meta.unlink(missing_ok=True)
        if pending:
            raise DestinationUnreadableError(
                f"{self.visible} changed while an unfinished load waited in a copy of it (now set aside as "
                f"{aside}), so that load cannot be finished: its finished part is in the copy, not in the file. "
                "Drop the pending load with `dlt pipeline <pipeline name> drop-pending-packages` (its data is "
                "extracted again by the next run), then run again."
            )
        logger.warning(
            "%s changed after a run that did not finish copied it; that run's copy is set aside as %s",
            self.visible,
            aside,
        )

    def commit(self) -> None:
        """Make the copy the file, atomically; the copy must be closed."""
        if not self.path.exists():
            return
        if self.path.with_name(self.path.name + ".wal").exists():
            _checkpoint(self.path)
        with self.path.open("rb+") as handle:
            os.fsync(handle.fileno())
        self.path.replace(self.visible)
        self._meta.unlink(missing_ok=True)
        _fsync_dir(self.visible.parent)

    def discard(self) -> None:
        """Remove the copy: nothing of it is worth keeping (no load started in it)."""
        for path in (self.path, self.path.with_name(self.path.name + ".wal"), self._meta, self._partial):
            path.unlink(missing_ok=True)
