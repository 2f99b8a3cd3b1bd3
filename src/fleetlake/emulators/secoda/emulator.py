"""`SecodaEmulator`: Secoda's REST API under `/api/v1`, behind bearer tokens and the vendor's limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.types import Scope

from fleetlake.emulators.base import Emulator, EmulatorSetup, FaultPlan, FaultTarget
from fleetlake.emulators.core import AppSpec, Clock, RequestLog, build_app, request_header
from fleetlake.emulators.faults import Fault
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter
from fleetlake.emulators.secoda import routes
from fleetlake.emulators.secoda.context import LINK_STYLES, PREFIX, VENDOR_HOST, Context, secoda_route
from fleetlake.emulators.secoda.data import COLUMN, DOCUMENT, SCALES, TABLE, TERM, VIEW, SecodaData, SecodaScale
from fleetlake.emulators.secoda.errors import throttled, unmatched
from fleetlake.emulators.secoda.gateway import SecodaGateway

DEFAULT_API_KEY = "fleetlake-demo-secoda-token"
DEFAULT_KEY_ID = "fleetlake-demo"
SERVERS: tuple[tuple[str, str], ...] = ((PREFIX, "secoda"),)
TABLES = (
    "resource_catalog",
    "resource_detail",
    "document",
    "collection",
    "integration",
    "users",
    "teams",
    "tags",
    "lineage",
    "tables",
    "columns",
    "terms",
    "questions",
    "audit_log",
)
"""The client's table names, in the order `expected_counts` lists them."""


class SecodaEmulator(Emulator):
    """An offline Secoda workspace: catalog, entities and audit log under `/api/v1` of one server.

    Requests need `Authorization: Bearer <token>` (`keys` maps tokens to key ids; the default is one
    token, `DEFAULT_API_KEY`). Writes are limited to `write_limit` per `rate_window_seconds` per key, as
    the vendor documents (30 a minute); reads only when `rate_limit` is set. A 429 carries
    `Retry-After`: `retry_after_seconds` if given, else the seconds until the key's window resets.
    Data is computed from `seed`, `scale` and the data clock, so equal arguments give byte-identical
    answers; `catalog_cap` is how many resources one catalog query reaches across its pages.

    Example:
        emulator = SecodaEmulator(seed=1)
        with emulator.serve() as server:
            settings = emulator.source_settings(server.url)
    """

    FAULT_PLAN = FaultPlan(
        resources=("resource_catalog", "columns", "tags"),
        paged=FaultTarget("/api/v1/resource/catalog", "resource_catalog", 100, "created_at", "created_at"),
        looping=FaultTarget("/api/v1/table/columns", "columns", 50),
        keyed=FaultTarget("/api/v1/tag", "tags", 15, "id"),
        retyped=FaultTarget("/api/v1/resource/catalog", "resource_catalog", 100),
        # pages by number: there is no token for an empty page to carry
        tokens=False,
    )

    def __init__(
        self,
        *,
        seed: int = 0,
        scale: str | SecodaScale = "demo",
        now: datetime | None = None,
        rate_limit: int | None = None,
        write_limit: int | None = 30,
        rate_window_seconds: float = 60.0,
        retry_after_seconds: float | None = None,
        keys: Mapping[str, str] | None = None,
        next_link_style: str = "canonical",
        vendor_host: str = VENDOR_HOST,
        catalog_cap: int = 10_000,
        time_source: Callable[[], float] = time.monotonic,
        hooks: Sequence[Middleware] = (),
        faults: Sequence[Fault] = (),
        clock: Clock | None = None,
    ) -> None:
        if isinstance(scale, str):
            if scale not in SCALES:
                raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)} or a SecodaScale")
            scale = SCALES[scale]
        if next_link_style not in LINK_STYLES:
            raise ValueError(f"unknown next_link_style {next_link_style!r}: use 'canonical' or 'vendor'")
        if catalog_cap < 1:
            raise ValueError(f"catalog_cap must be at least 1, got {catalog_cap}")
        if retry_after_seconds is not None and retry_after_seconds < 0:
            raise ValueError(f"retry_after_seconds must not be negative, got {retry_after_seconds}")
        self.seed = seed
        self.scale = scale
        self.keys: dict[str, str] = dict(keys) if keys is not None else {DEFAULT_API_KEY: DEFAULT_KEY_ID}
        if not self.keys:
            raise ValueError("keys must name at least one token")
        self.clock = clock or Clock(now)
        initial = self.clock.initial
        self.data = SecodaData(seed, scale, int(initial.timestamp()) * 1_000_000 + initial.microsecond)
        self.requests = RequestLog()
        self.context = Context(self.data, self.clock, next_link_style, vendor_host.rstrip("/"), catalog_cap)
        self.read_quota = QuotaLimiter(rate_limit, rate_window_seconds, time_source=time_source)
        self.write_quota = QuotaLimiter(write_limit, rate_window_seconds, time_source=time_source)

        def retry_after(decision: QuotaDecision) -> float:
            return decision.reset_seconds if retry_after_seconds is None else retry_after_seconds

        self.app: Starlette = build_app(
            AppSpec(
                routes=[
                    *secoda_route("/healthcheck", lambda call: {"status": "OK"}),
                    Mount(PREFIX, routes=routes.routes(self.context)),
                ],
                clock=self.clock,
                log=self.requests,
                servers=SERVERS,
                not_found=unmatched,
                authenticator=SecodaGateway(self.keys, self.read_quota, self.write_quota, retry_after),
                throttled=lambda decision: throttled(retry_after(decision)),
                hooks=list(hooks),
                faults=list(faults),
            )
        )

    @classmethod
    def setup_arguments(cls, setup: EmulatorSetup) -> dict[str, Any]:
        """Its key, if given, is the workspace's one API token."""
        return {"keys": {setup.key or setup.demo_key(DEFAULT_API_KEY): setup.demo_key(DEFAULT_KEY_ID)}}

    @staticmethod
    def presented_key(scope: Scope) -> str | None:
        word, _, token = (request_header(scope, b"authorization") or "").partition(" ")
        return token.strip() or None if word.lower() == "bearer" else None

    @staticmethod
    def base_url(server_url: str) -> str:
        """The client's base URL for a server at `server_url` (`http://127.0.0.1:PORT`)."""
        return server_url.rstrip("/") + PREFIX

    def source_settings(self, server_url: str) -> dict[str, Any]:
        """The Secoda source's settings for this emulator at `server_url`: its first token and base URL."""
        return {"api_key": next(iter(self.keys)), "base_url": self.base_url(server_url)}

    def expected_counts(self) -> dict[str, int]:
        """How many records each client table holds after a full load at the current data time.

        Computed from the data model, not by calling the routes. `resource_catalog` (and
        `resource_detail`) is every resource, beyond the catalog cap of a single query; `team` the
        active teams (the list leaves archived ones out by default); `audit_log` the last 90 days.
        """
        data = self.data
        now_us = self.context.now_us()
        scale = data.scale
        catalog = data.count(now_us)
        return {
            "resource_catalog": catalog,
            "resource_detail": catalog,
            "document": len(data.subset(frozenset({DOCUMENT}), now_us)),
            "collection": scale.collections,
            "integration": len(data.integrations),
            "users": scale.users,
            "teams": scale.teams + 1,  # the archived one too
            "tags": scale.tags,
            "lineage": scale.lineage,
            "tables": len(data.subset(frozenset({TABLE, VIEW}), now_us)),
            "columns": len(data.subset(frozenset({COLUMN}), now_us)),
            "terms": len(data.subset(frozenset({TERM}), now_us)),
            "questions": scale.questions,
            "audit_log": len(data.audit_range(now_us, 90)),
        }
