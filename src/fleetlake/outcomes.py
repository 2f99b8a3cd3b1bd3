"""What each resource of a run came to: loaded, failed, skipped, possibly incomplete or not offered.

A control-plane inventory is twenty independent lists, and one that fails must not cost the others.
The sources guard each resource (`fleetlake.sources.guard`): an error that concerns one list ends that
resource and is recorded here, while the run goes on. The pipeline runner then takes out of the
extracted package whatever the failed resource (and the children it feeds) had yielded, and puts its
incremental state back, so it contributes nothing from this run (`fleetlake.pipelines`).

The collector of a run is made current with `collecting()` while the source is built; the sources'
API clients capture it then, so each run (and each account of a run) has its own. A source built
outside fleetlake's runner (a user's own `pipeline.run(tidb_instance_source())`) gets a strict
collector: there errors raise as dlt's own resources do, all or nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from fleetlake.errors import FleetlakeError

PARTIAL_EXIT = 7
"""Exit code of a run where some resources failed or were skipped and the others loaded."""
INCOMPLETE_EXIT = 8
"""Exit code of a run where everything loaded but a list may have ended early."""


class Status(StrEnum):
    """What a resource came to in one run."""

    LOADED = "loaded"
    FAILED = "failed"
    SKIPPED = "skipped"
    INCOMPLETE = "possibly incomplete"
    NOT_OFFERED = "not offered"


@dataclass(frozen=True)
class Outcome:
    """One resource's outcome, with the one-paragraph reason when it is not plainly loaded."""

    resource: str
    status: Status
    reason: str = ""
    rows: int | None = None


class RunOutcomes:
    """Thread-safe record of the resources of one run that did not simply load.

    Args:
        strict: all or nothing: a resource's error is raised, not recorded, and stops the run.
        couples: resource -> resources whose incremental cursor only moves safely with its rows
            (Secoda's resource details are read for the catalog rows a cursor passes): when the
            first fails, the others are taken out of the run with it.
    """

    def __init__(self, *, strict: bool = False, couples: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.strict = strict
        self.couples = dict(couples or {})
        self._lock = threading.Lock()
        self._parents: dict[str, str] = {}
        self._failures: dict[str, FleetlakeError] = {}
        self._incomplete: dict[str, str] = {}
        self._not_offered: dict[str, str] = {}
        self._untyped: dict[str, dict[str, int]] = {}
        self._aborted: FleetlakeError | None = None
        self._urls: dict[str, str] = {}
        self._answered: set[str] = set()
        self._missing: dict[str, tuple[int, FleetlakeError]] = {}
        self.on_change: Callable[[RunOutcomes], None] | None = None
        """Called (under no lock) after each failure is recorded: the runner journals what to undo."""

    def register(self, resource: str, parent: str | None = None) -> None:
        """Declare a resource and the parent whose records it is fetched for."""
        with self._lock:
            if parent is not None:
                self._parents[resource] = parent

    def fail(self, resource: str, error: FleetlakeError) -> None:
        """Record that `resource` failed; only its first failure is kept."""
        with self._lock:
            self._failures.setdefault(resource, error)
        if self.on_change is not None:
            self.on_change(self)

    def note_url(self, resource: str, request: str) -> None:
        """Remember the last request `resource` made (`GET https://...`, without its query, which may
        carry tokens), for a failure to name it."""
        self._urls[resource] = request.split("?")[0]

    def url_of(self, resource: str) -> str | None:
        """The last request `resource` made (`GET https://...`), if it made one."""
        return self._urls.get(resource)

    def answered(self, resource: str) -> None:
        """`resource` had an answer with records (or an empty list): its endpoint exists."""
        self._answered.add(resource)

    def missing(self, resource: str, error: FleetlakeError) -> None:
        """A request of `resource` for one parent answered 404: the parent vanished, or the endpoint
        does not exist; `settle` tells them apart once the run's requests are done."""
        with self._lock:
            count, first = self._missing.get(resource, (0, error))
            self._missing[resource] = (count + 1, first)

    def settle(self) -> None:
        """After extraction: a child list whose every request answered 404 has no endpoint here, and fails."""
        with self._lock:
            missing = {name: entry for name, entry in self._missing.items() if name not in self._answered}
        for name, (count, first) in missing.items():
            self.fail(
                name,
                type(first)(
                    f"{first.message} Every one of its {count} request(s) answered 404, so the endpoint itself "
                    "is missing here (not one parent deleted meanwhile)."
                ),
            )

    def abort(self, error: FleetlakeError) -> None:
        """Record an error that stops the whole run: every resource stops at its next request."""
        with self._lock:
            if self._aborted is None:
                self._aborted = error

    @property
    def aborted(self) -> FleetlakeError | None:
        """The error that stopped the run, if one did."""
        return self._aborted

    def incomplete(self, resource: str, reason: str) -> None:
        """Record that `resource` loaded, but its list may have ended before its last record."""
        with self._lock:
            self._incomplete.setdefault(resource, reason)

    def not_offered(self, resource: str, reason: str) -> None:
        """Record that the API does not offer `resource` here (an optional endpoint answered 404)."""
        with self._lock:
            self._not_offered.setdefault(resource, reason)

    def untyped(self, resource: str, column: str) -> int:
        """Count a value of `resource`'s `column` kept as text because no type fitted it; returns the count."""
        with self._lock:
            columns = self._untyped.setdefault(resource, {})
            columns[column] = columns.get(column, 0) + 1
            return columns[column]

    def untyped_values(self, resource: str) -> dict[str, int]:
        """Column -> how many of its values were kept as text, for one resource."""
        with self._lock:
            return dict(self._untyped.get(resource, {}))

    def failure(self, resource: str) -> FleetlakeError | None:
        """The error `resource` failed with, if it did."""
        with self._lock:
            return self._failures.get(resource)

    def failures(self) -> dict[str, FleetlakeError]:
        """Every failed resource and its error, in the order they failed."""
        with self._lock:
            return dict(self._failures)

    def failed_ancestor(self, resource: str) -> str | None:
        """The nearest parent (or parent's parent...) of `resource` that failed, if any."""
        with self._lock:
            seen: set[str] = set()
            current = self._parents.get(resource)
            while current is not None and current not in seen:
                if current in self._failures:
                    return current
                seen.add(current)
                current = self._parents.get(current)
            return None

    def down(self, resource: str) -> bool:
        """Whether `resource` should stop (or not start): it failed, a parent failed, or the run stopped."""
        return self._aborted is not None or self.failure(resource) is not None or bool(self.failed_ancestor(resource))

    def dropped(self) -> dict[str, str]:
        """Every resource to take out of this run's load, with why: the failed ones, the children of a
        failed parent, and the resources coupled to a failed one."""
        failures = self.failures()
        with self._lock:
            parents = dict(self._parents)
        out: dict[str, str] = dict.fromkeys(failures, "failed")
        for name in parents:
            if name not in out and self.failed_ancestor(name):
                out[name] = f"skipped: its parent {self.failed_ancestor(name)} failed"
        for name in list(failures):
            for coupled in self.couples.get(name, ()):
                out.setdefault(coupled, f"skipped: its cursor moves only with {name}, which failed")
        return out

    def outcomes(self, resources: Mapping[str, int | None]) -> list[Outcome]:
        """One outcome per resource of the run (`resources`: name -> rows loaded this run), in order."""
        dropped = self.dropped()
        failures = self.failures()
        with self._lock:
            incomplete, not_offered = dict(self._incomplete), dict(self._not_offered)
        rows: list[Outcome] = []
        for name, count in resources.items():
            if name in failures:
                rows.append(Outcome(name, Status.FAILED, failures[name].message))
            elif name in dropped:
                rows.append(Outcome(name, Status.SKIPPED, dropped[name].removeprefix("skipped: ")))
            elif name in not_offered:
                rows.append(Outcome(name, Status.NOT_OFFERED, not_offered[name], 0))
            elif name in incomplete:
                rows.append(Outcome(name, Status.INCOMPLETE, incomplete[name], count))
            else:
                untyped = self.untyped_values(name)
                note = ""
                if untyped:
                    kept = ", ".join(f"{column} ({n})" for column, n in sorted(untyped.items()))
                    note = f"values kept as text because no type fitted them: {kept}"
                rows.append(Outcome(name, Status.LOADED, note, count))
        return rows


_CURRENT: ContextVar[RunOutcomes | None] = ContextVar("fleetlake_run_outcomes", default=None)


def current() -> RunOutcomes:
    """The collector of the run whose source is being built, or a strict one outside fleetlake's runner."""
    return _CURRENT.get() or RunOutcomes(strict=True)


@contextlib.contextmanager
def collecting(outcomes: RunOutcomes) -> Iterator[RunOutcomes]:
    """Make `outcomes` current while a source is built (its API clients capture it)."""
    token = _CURRENT.set(outcomes)
    try:
        yield outcomes
    finally:
        _CURRENT.reset(token)


def exit_code(outcomes: list[Outcome]) -> int:
    """0 when every resource loaded (or is not offered), 7 when some failed or were skipped, 8 when one
    may be incomplete."""
    statuses = {outcome.status for outcome in outcomes}
    if statuses & {Status.FAILED, Status.SKIPPED}:
        return PARTIAL_EXIT
    if Status.INCOMPLETE in statuses:
        return INCOMPLETE_EXIT
    return 0
