"""The emulator contract: how every emulator is built, how a source reaches it, what it holds.

The CLI (`fleetlake emulate`, `fleetlake demo`) and the per-API test suites (the canary scans, the
fault matrix, the crash trials) use an emulator only through this class, so a new API's emulator works
in all of them once it implements `build`, `source_settings` and `expected_counts`.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from fleetlake.emulators.core import Clock, RequestLog
from fleetlake.emulators.faults import Fault
from fleetlake.emulators.server import EmulatorServer


@dataclass(frozen=True)
class EmulatorSetup:
    """What every emulator is built from; `options` holds the API's own knobs (`page_token_mode`, ...)."""

    seed: int = 0
    scale: str = "demo"
    now: datetime | None = None
    """The data clock at start; None: the wall clock's now."""
    rate_limit: int | None = None
    """Requests per window per key; None: no quota."""
    rate_window_seconds: float = 60.0
    faults: Sequence[Fault] = ()
    key: str | None = None
    """The one secret key the emulator accepts (the canary of the leak scans); None: its demo key."""
    options: Mapping[str, Any] = field(default_factory=dict)
    organization: int = 0
    """Which of several organizations on one server this is: the first (0) has the demo keys, the n-th
    the demo keys suffixed `-n` (another user name too, where the key has one) and the data of seed + n."""
    clock: Clock | None = None
    """A data clock shared with other organizations on the same server; None: its own."""
    server_secret: bytes | None = None
    """What the server signs its handshakes with (digest nonces), shared by organizations on one server."""

    def demo_key(self, demo: str) -> str:
        """This organization's variant of an emulator's demo key."""
        return demo if self.organization == 0 else f"{demo}-{self.organization}"

    @property
    def data_seed(self) -> int:
        return self.seed + self.organization


@dataclass(frozen=True)
class FaultTarget:
    """A list a fault is aimed at: its request path, the table its records land in, how many records the
    page the fault plays on holds, and (for faults on one field) the field and its column."""

    path: str
    table: str
    records: int
    field: str | None = None
    """As the API names it (`endTime`); None: the fault picks one (the first numeric field)."""
    column: str | None = None
    """As the table names it (`end_time`)."""


@dataclass(frozen=True)
class FaultPlan:
    """Where faults land on this API, for the fault matrix: which lists, and what a run of them loads.

    The matrix runs `resources` with `settings` on top of `source_settings` and plays each fault on one
    target: `paged` a list of several pages (a time field of it; `records` on its second page),
    `looping` a list paged by token or link (`records` on its first page), `keyed` a list whose
    records carry a primary key (`field`), `retyped` a list with a numeric field to change the type of.
    """

    resources: tuple[str, ...]
    paged: FaultTarget
    looping: FaultTarget
    keyed: FaultTarget
    retyped: FaultTarget
    settings: Mapping[str, Any] = field(default_factory=dict)
    tokens: bool = True
    """Whether `looping` pages by token (an empty page can carry one); False for page numbers."""


class Emulator(ABC):
    """Base of the API emulators: an app on a loopback server, a data clock, a log of requests."""

    app: Starlette
    clock: Clock
    requests: RequestLog
    keys: Mapping[str, Any]
    """The keys it accepts, by what a request presents (`presented_key`)."""
    FAULT_PLAN: ClassVar[FaultPlan]

    @staticmethod
    @abstractmethod
    def presented_key(scope: Scope) -> str | None:
        """The key a request presents, as `keys` names it (a header's value, a digest user name), unverified:
        it only routes the request to its organization, whose own gateway then checks it."""

    @classmethod
    def build(cls, setup: EmulatorSetup) -> Self:
        """The emulator for `setup`; `ValueError` or `TypeError` for an option it does not know.

        Every emulator's constructor takes the shared knobs by these names; what it derives from the setup
        on its own (its keys) comes from `setup_arguments`, its own options from `setup.options`.
        """
        constructor: Callable[..., Self] = cls
        return constructor(
            seed=setup.data_seed,
            clock=setup.clock,
            scale=setup.scale,
            now=setup.now,
            rate_limit=setup.rate_limit,
            rate_window_seconds=setup.rate_window_seconds,
            faults=setup.faults,
            **cls.setup_arguments(setup),
            **setup.options,
        )

    @classmethod
    @abstractmethod
    def setup_arguments(cls, setup: EmulatorSetup) -> dict[str, Any]:
        """The constructor arguments this emulator derives from `setup`: its keys (the one given, else its
        organization's demo keys) and whatever else is its own."""

    @abstractmethod
    def source_settings(self, server_url: str) -> dict[str, Any]:
        """The settings under `[sources.<section>]` that point the API's source at this emulator served at
        `server_url`, its key included: a run with exactly these loads everything `expected_counts` says."""

    @abstractmethod
    def expected_counts(self) -> dict[str, int]:
        """The rows each table holds after a full load at the current data time, keyed by the source's
        table names (those of `resource_descriptions`); computed from the data model, not the routes."""

    def demo_changes(self) -> tuple[str, ...]:
        """Make the changes an owner makes between two of the demo's runs (a pause, a resize, an upgrade),
        and return the resources that show them; none by default."""
        return ()

    def server(self, port: int = 0) -> EmulatorServer:
        """An unstarted server for this emulator, its port already bound (for `serve_forever`)."""
        return EmulatorServer(self.app, port=port)

    def serve(self, port: int = 0) -> EmulatorServer:
        """Start serving on 127.0.0.1 in a background thread; use the result as a context manager."""
        return self.server(port).start()

    def advance(self, delta: timedelta) -> datetime:
        """Move the data clock forward: new records appear and states move on, as the API's would."""
        return self.clock.advance(delta)


class Organizations:
    """Several organizations of one API on one server, as a vendor serves them: each has its own keys,
    data and quota; a request goes to the organization whose key it presents (an unknown or missing key
    to the first, whose gateway refuses it). They share the data clock (`/_emulator/advance` moves all)."""

    def __init__(self, emulator: type[Emulator], setup: EmulatorSetup, count: int) -> None:
        if count < 1:
            raise ValueError(f"an emulator serves at least one organization, not {count}")
        if setup.key is not None and count > 1:
            raise ValueError("one key cannot open several organizations: leave `key` out for demo keys")
        shared = Clock(setup.now)
        secret = secrets.token_bytes(32)
        self.emulators = [
            emulator.build(replace(setup, organization=n, clock=shared, server_secret=secret)) for n in range(count)
        ]
        self.clock = shared
        routes = {key: org for org in self.emulators for key in org.keys}
        first = self.emulators[0]

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            org = routes.get(emulator.presented_key(scope) or "", first) if scope["type"] == "http" else first
            await org.app(scope, receive, send)

        self.app = app

    def source_settings(self, server_url: str) -> list[dict[str, Any]]:
        """Each organization's source settings, in order."""
        return [org.source_settings(server_url) for org in self.emulators]

    def server(self, port: int = 0) -> EmulatorServer:
        return EmulatorServer(self.app, port=port)

    def serve(self, port: int = 0) -> EmulatorServer:
        return self.server(port).start()
