"""One pipeline run of an API that can kill itself with SIGKILL at a chosen event of extract, normalize or load.

    python tests/crash/driver.py tidb --pipelines-dir DIR --duckdb FILE [--kill load:17 [--match TEXT]] [--trace FILE]
        [--action kill|sigint|sigterm|fill:PATH|mark:PATH] [--cli]

Source settings (keys, base URLs) come from the environment, `SOURCES__<SECTION>__<NAME>`, as in a real
job; logging is at DEBUG everywhere. The process counts events per phase, the phase being which of dlt's
`Pipeline.extract`, `normalize` and `load` is running:

- `http`: a completed HTTP response (`requests.adapters.HTTPAdapter.send` returned),
- `rename`: a completed `os.rename` / `os.replace` (how dlt moves files and folders between the states
  of a load package, and saves state, schemas and job markers atomically),
- `file`: a data file written and closed (`BufferedDataWriter._flush_and_close_file`),
- `sql`: a statement run by dlt's DuckDB client (`DuckDbSqlClient.execute_query`), and `commit`.

With `--kill PHASE:K` the process kills itself right after the K-th event of PHASE: the event's effect is
done, whatever was to follow is not. `--match TEXT` counts only the events of PHASE whose trace line
contains TEXT, to aim at one moment (`--kill load:1 --match 'INSERT INTO "tidb_instance_data"."audit_logs"'`).
A run that is not killed ends stdout with `{"events": {"extract": n, "normalize": n, "load": n, "other": n}}`.
`--trace` appends a line per event (phase, number, kind, what) to a file, to see where a run died.

`--action` says what happens at that event instead of SIGKILL: `sigint` / `sigterm` send the process
that signal (the run is to stop on its own), `fill:PATH` fills the filesystem holding PATH with a file
`PATH` until it is full (the run goes on into a full disk), `mark:PATH` creates the file PATH and goes
on (another process waits for it), `pause:FIFO` waits there until another process has opened the named
pipe FIFO for writing and closed it. `--cli` runs `fleetlake run API` (the command line, its messages and
exit codes) instead of `pipelines.run`, with the DuckDB file from DESTINATION__DUCKDB__CREDENTIALS.

All of it is monkeypatching in this process: nothing in `src/` knows about it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

PHASES = ("extract", "normalize", "load")


class Events:
    """Counts events per phase and kills the process at the chosen one."""

    def __init__(
        self, kill_phase: str | None, kill_at: int | None, match: str, trace: Path | None, action: str = "kill"
    ) -> None:
        self.action = action
        self.kill_phase = kill_phase
        self.kill_at = kill_at
        self.match = match
        self.matched = 0
        self.trace = trace.open("a", encoding="utf-8") if trace else None
        self.counts = dict.fromkeys((*PHASES, "other"), 0)
        # the phase is process-wide, not per thread: extract and load run their work in thread pools
        self.phase = "other"
        self.lock = threading.Lock()

    def __call__(self, kind: str, what: str) -> None:
        with self.lock:
            self.counts[self.phase] += 1
            number = self.counts[self.phase]
            line = f"{self.phase} {number} {kind} {what}"
            if self.trace:
                self.trace.write(line + "\n")
                self.trace.flush()
            if self.phase != self.kill_phase:
                return
            if self.match:
                if self.match not in line:
                    return
                self.matched += 1
                number = self.matched
            if number == self.kill_at:
                self.act(line)

    def act(self, line: str) -> None:
        action, _, path = self.action.partition(":")
        sys.stderr.write(f"crash driver: {'SIGKILL' if action == 'kill' else action} at {line}\n")
        sys.stderr.flush()
        if action == "fill":
            fill(Path(path))
        elif action == "pause":
            # blocks this thread until another process opens the FIFO `path` for writing and closes it
            with Path(path).open() as fifo:
                fifo.read()
        else:
            os.kill(os.getpid(), {"kill": signal.SIGKILL, "sigint": signal.SIGINT, "sigterm": signal.SIGTERM}[action])


def fill(path: Path) -> None:
    """Write `path` until its filesystem has no byte left (ENOSPC): a real full disk."""
    chunk = b"\0" * (1 << 20)
    with path.open("wb", buffering=0) as handle:
        for size in (len(chunk), 4096, 1):
            try:
                while True:
                    handle.write(chunk[:size])
            except OSError:
                continue


def _short(text: object, root: str) -> str:
    return " ".join(str(text).replace(root, "").split())[:160]


def instrument(events: Events, root: str) -> None:
    """Wrap the phases of dlt's pipeline and every function an event is counted in."""
    import requests.adapters
    from dlt.common.data_writers.buffered import BufferedDataWriter
    from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
    from dlt.pipeline.pipeline import Pipeline

    def in_phase(name: str, method):
        def wrapper(self, *args, **kwargs):
            previous, events.phase = events.phase, name
            try:
                return method(self, *args, **kwargs)
            finally:
                events.phase = previous

        return wrapper

    for name in PHASES:
        setattr(Pipeline, name, in_phase(name, getattr(Pipeline, name)))

    send = requests.adapters.HTTPAdapter.send

    def counted_send(self, request, *args, **kwargs):
        response = send(self, request, *args, **kwargs)
        # the path only: a query string is the source's business, and we print what we count
        events("http", f"{request.method} {request.path_url.split('?')[0]} {response.status_code}")
        return response

    requests.adapters.HTTPAdapter.send = counted_send

    for module_function in ("rename", "replace"):
        original = getattr(os, module_function)

        def counted_move(src, dst, *args, _original=original, _kind=module_function, **kwargs):
            _original(src, dst, *args, **kwargs)
            events("rename", f"{_kind} {_short(src, root)} -> {_short(dst, root)}")

        setattr(os, module_function, counted_move)

    close_file = BufferedDataWriter._flush_and_close_file

    def counted_close_file(self, *args, **kwargs):
        name = self._file_name
        metrics = close_file(self, *args, **kwargs)
        if metrics is not None:
            events("file", _short(name, root))
        return metrics

    BufferedDataWriter._flush_and_close_file = counted_close_file

    execute_query = DuckDbSqlClient.execute_query

    @contextlib.contextmanager
    def counted_execute_query(self, query, *args, **kwargs):
        with execute_query(self, query, *args, **kwargs) as cursor:
            # the statement has run (and, outside a transaction, committed) once the cursor is here
            events("sql", _short(query, root))
            yield cursor

    DuckDbSqlClient.execute_query = counted_execute_query

    commit = DuckDbSqlClient.commit_transaction

    def counted_commit(self):
        commit(self)
        events("commit", "")

    DuckDbSqlClient.commit_transaction = counted_commit


RESOURCES_VARIABLE = "FLEETLAKE_CRASH_RESOURCES"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from fleetlake.sources import REGISTRY

    parser.add_argument("api", choices=list(REGISTRY))
    parser.add_argument("--pipelines-dir", type=Path, required=True)
    parser.add_argument("--duckdb", type=Path, required=True)
    parser.add_argument("--kill", help="PHASE:K, kill after the K-th event of PHASE")
    parser.add_argument("--match", default="", help="with --kill: count only the events whose line contains this")
    parser.add_argument("--trace", type=Path, help="append every event to this file")
    parser.add_argument("--action", default="kill", help="kill, sigint, sigterm, fill:PATH, mark:PATH or pause:FIFO")
    parser.add_argument("--cli", action="store_true", help="run through `fleetlake run`")
    parser.add_argument("--cli-arg", action="append", default=[], help="with --cli: one more argument of `run`")
    args = parser.parse_args(argv)
    kill_phase, kill_at = None, None
    if args.kill:
        kill_phase, _, k = args.kill.partition(":")
        if kill_phase not in PHASES or not k.isdigit() or int(k) < 1:
            parser.error(f"--kill takes PHASE:K with PHASE one of {', '.join(PHASES)} and K >= 1")
        kill_at = int(k)

    # DEBUG everywhere: the root logger (urllib3 included), fleetlake's and dlt's own
    os.environ["RUNTIME__LOG_LEVEL"] = "DEBUG"
    logging.basicConfig(
        level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s", force=True
    )

    events = Events(kill_phase, kill_at, args.match, args.trace, args.action)
    instrument(events, str(args.pipelines_dir.parent.resolve()))

    from fleetlake import pipelines
    from fleetlake.sources import get_api

    # the lists a trial loads (the tests' CRASH_RESOURCES), all of them when unset
    chosen = os.environ.get(RESOURCES_VARIABLE) or None
    resources = chosen.split(",") if chosen else None
    if args.cli:
        from fleetlake.cli import main as cli_main

        os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = str(args.duckdb)
        code = 0
        try:
            cli_main(
                [
                    "--log-level",
                    "DEBUG",
                    "run",
                    args.api,
                    "--pipelines-dir",
                    str(args.pipelines_dir),
                    "--no-progress",
                    *(["--resources", chosen] if chosen else []),
                    *args.cli_arg,
                ]
            )
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        print(json.dumps({"events": events.counts}))
        return code
    report = pipelines.run(
        get_api(args.api), pipelines_dir=args.pipelines_dir, duckdb_path=args.duckdb, resources=resources
    )
    print(f"loaded {sum(report.row_counts.values())} rows in {len(report.row_counts)} tables")
    print(json.dumps({"events": events.counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
