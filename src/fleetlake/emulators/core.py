"""What every emulator shares: the data clock, the request log, the gateway and the app builder.

An emulator is a Starlette app assembled by `build_app`: its own routes (one `Mount` per vendor host),
the admin routes under `/_emulator`, and a middleware stack that mimics the vendor's API gateway:

    RequestLogMiddleware -> [FaultMiddleware] -> [hooks] -> GatewayMiddleware -> routes

The gateway asks an `Authenticator` who is calling, charges the key's quota and adds the quota headers
to every answer. Nothing here knows a vendor's shapes: envelopes, header names and bodies come in as
callables.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any, Protocol
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetlake import clock
from fleetlake.emulators.faults import Fault, FaultMiddleware
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter

ADMIN_PREFIX = "/_emulator"
KEY_ID = "fleetlake.key_id"
"""Scope key under which the gateway leaves the id of the calling API key."""

Payload = Mapping[str, Any] | Sequence[Any]
Envelope = Callable[[int, str], dict[str, Any]]
"""Builds a vendor's error body from an HTTP status and a message."""


class RouteError(Exception):
    """Raised by a route handler to answer an error in its host's envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(payload: Payload, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A compact JSON answer, encoded once and sent as a single body."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


class Clock:
    """The emulator's data clock: virtual time that moves only when told to.

    Records exist, and states change, according to this clock; quota windows and nonce lifetimes use
    real monotonic time instead. Thread-safe.
    """

    def __init__(self, now: datetime | None = None) -> None:
        if now is None:
            now = clock.now().replace(minute=0, second=0, microsecond=0)
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("Clock needs a timezone-aware datetime, for example datetime(2025, 1, 1, tzinfo=UTC)")
        self._initial = now.astimezone(UTC)
        self._now = self._initial
        self._lock = threading.Lock()

    @property
    def initial(self) -> datetime:
        """The time the clock started at; record creation times are anchored to it."""
        return self._initial

    def now(self) -> datetime:
        """The current data time (UTC)."""
        with self._lock:
            return self._now

    def timestamp(self) -> int:
        """The current data time in whole unix seconds."""
        return int(self.now().timestamp())

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta` (never backwards) and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"the data clock only moves forward, got {delta}")
        with self._lock:
            self._now += delta
            return self._now


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator answered it."""

    method: str
    server: str
    path: str
    query: dict[str, list[str]]
    status: int
    key_id: str | None
    authorized: bool
    """Whether the request carried an Authorization header."""

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return {
            "method": self.method,
            "server": self.server,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "keyId": self.key_id,
            "authorized": self.authorized,
        }


class RequestLog:
    """Thread-safe list of the requests an emulator answered, for tests to assert on."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        """Add a record (called by the request log middleware)."""
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        """A snapshot of all records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())

    def filter(
        self,
        *,
        method: str | None = None,
        server: str | None = None,
        path: str | None = None,
        status: int | None = None,
        key_id: str | EllipsisType | None = ...,
        authorized: bool | None = None,
    ) -> list[RequestRecord]:
        """Records matching every given filter (`key_id=None` matches requests without a known key)."""
        return [
            r
            for r in self.records()
            if (method is None or r.method == method)
            and (server is None or r.server == server)
            and (path is None or r.path == path)
            and (status is None or r.status == status)
            and (key_id is ... or r.key_id == key_id)
            and (authorized is None or r.authorized == authorized)
        ]

    def count(
        self,
        *,
        method: str | None = None,
        server: str | None = None,
        path: str | None = None,
        status: int | None = None,
        key_id: str | EllipsisType | None = ...,
        authorized: bool | None = None,
    ) -> int:
        """How many records match every given filter."""
        return len(
            self.filter(method=method, server=server, path=path, status=status, key_id=key_id, authorized=authorized)
        )

    def summary(self) -> dict[str, Any]:
        """Totals by status and server, and every record, as JSON-ready data."""
        records = self.records()
        by_status: dict[str, int] = {}
        by_server: dict[str, int] = {}
        for r in records:
            by_status[str(r.status)] = by_status.get(str(r.status), 0) + 1
            by_server[r.server] = by_server.get(r.server, 0) + 1
        return {
            "total": len(records),
            "byStatus": by_status,
            "byServer": by_server,
            "requests": [r.as_dict() for r in records],
        }


@dataclass(frozen=True)
class AuthDecision:
    """What an authenticator concluded about a request."""

    key_id: str | None = None
    """The API key the request named, when the emulator knows it (such requests count against quota)."""
    rejection: Response | None = None
    """When set, the gateway answers this instead of calling the routes."""


class Authenticator(Protocol):
    """Decides who is calling: digest, API key header, bearer token..."""

    def authenticate(self, scope: Scope) -> AuthDecision:
        """Inspect the request's scope (method, path, headers) and decide."""
        ...


@dataclass(frozen=True)
class QuotaPolicy:
    """A limiter plus how the vendor reports it: headers on every answer and the over-quota answer."""

    limiter: QuotaLimiter
    headers: Callable[[QuotaDecision], list[tuple[str, str]]]
    exceeded: Callable[[QuotaDecision], Response]


def _is_admin(scope: Scope) -> bool:
    path: str = scope["path"]
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def request_header(scope: Scope, name: bytes) -> str | None:
    """A request header's value (`name` in lower case), None when absent."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class GatewayMiddleware:
    """Authenticates each request and charges its key's quota before the routes see it."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator | None, quota: QuotaPolicy | None) -> None:
        self.app = app
        self.authenticator = authenticator
        self.quota = quota

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_admin(scope):
            await self.app(scope, receive, send)
            return
        decision = self.authenticator.authenticate(scope) if self.authenticator else AuthDecision()
        extra: list[tuple[bytes, bytes]] = []
        response = decision.rejection
        if decision.key_id is not None:
            scope[KEY_ID] = decision.key_id
            if self.quota is not None:
                charged = self.quota.limiter.hit(decision.key_id)
                if charged is not None:
                    extra = [(k.lower().encode(), v.encode()) for k, v in self.quota.headers(charged)]
                    if not charged.allowed and response is None:
                        response = self.quota.exceeded(charged)

        async def send_with_headers(message: Message) -> None:
            if extra and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if response is not None:
            await response(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)


class LatencyMiddleware:
    """Answers every vendor request `seconds` later, like a server far away (awaited: others proceed)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _is_admin(scope):
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class RequestLogMiddleware:
    """Records every non-admin request with the status it was answered."""

    def __init__(
        self,
        app: ASGIApp,
        log: RequestLog,
        servers: Sequence[tuple[str, str]],
        auth_header: bytes = b"authorization",
    ) -> None:
        self.app = app
        self.log = log
        self.auth_header = auth_header
        # longest prefix first, so "/api/v1beta" never shadows a longer sibling
        self.servers = sorted(servers, key=lambda item: len(item[0]), reverse=True)

    def server_of(self, path: str) -> str:
        """The name of the vendor host a path belongs to ("" when none matches)."""
        for prefix, name in self.servers:
            if path == prefix or path.startswith(prefix + "/"):
                return name
        return ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_admin(scope):
            await self.app(scope, receive, send)
            return
        logged = False

        def record(status: int) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"), keep_blank_values=True)
            self.log.append(
                RequestRecord(
                    method=scope["method"],
                    server=self.server_of(scope["path"]),
                    path=scope["path"],
                    query=query,
                    status=status,
                    key_id=scope.get(KEY_ID),
                    authorized=request_header(scope, self.auth_header) is not None,
                )
            )

        async def send_and_watch(message: Message) -> None:
            # logged before the answer leaves: a client that has its answer always finds its request
            # in the log (logged after sending, a test counting requests could see one fewer)
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            record(500)  # no answer started: the connection dropped or the app failed


@dataclass(frozen=True)
class Call:
    """What a route handler gets: path parameters, query, body and the calling key."""

    path_params: Mapping[str, str]
    query: QueryParams
    body: bytes
    key_id: str | None


Handler = Callable[[Call], Payload]


def route(path: str, handler: Handler, envelope: Envelope, *, methods: Sequence[str] = ("GET",)) -> Route:
    """A Starlette route whose handler returns JSON data or raises `RouteError` (answered in `envelope`)."""

    async def endpoint(request: Request) -> Response:
        body = await request.body() if request.method in ("POST", "PUT", "PATCH") else b""
        call = Call(request.path_params, request.query_params, body, request.scope.get(KEY_ID))
        try:
            return json_response(handler(call))
        except RouteError as problem:
            return json_response(envelope(problem.status, problem.message), status=problem.status)

    return Route(path, endpoint, methods=list(methods))


def admin_routes(clock: Clock, log: RequestLog) -> Mount:
    """Unauthenticated routes for users' own tests: advance the clock, read the request log, health."""

    async def advance(request: Request) -> Response:
        raw = request.query_params.get("seconds", "")
        try:
            seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if not seconds >= 0 or seconds == float("inf"):
            return json_response({"error": f"seconds must be a number >= 0, got {raw!r}"}, status=400)
        now = clock.advance(timedelta(seconds=seconds))
        return json_response({"now": now.isoformat().replace("+00:00", "Z")})

    async def requests(request: Request) -> Response:
        return json_response(log.summary())

    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "now": clock.now().isoformat().replace("+00:00", "Z")})

    return Mount(
        ADMIN_PREFIX,
        routes=[
            Route("/advance", advance, methods=["POST"]),
            Route("/requests", requests, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
    )


@dataclass
class AppSpec:
    """Everything `build_app` needs to assemble an emulator."""

    routes: Sequence[BaseRoute]
    clock: Clock
    log: RequestLog
    servers: Sequence[tuple[str, str]]
    """(path prefix, server name) pairs naming the vendor hosts in the request log."""
    not_found: Callable[[str, int, str], Response]
    """Answers an unmatched path or method: (path, status, message) -> response in that host's envelope."""
    authenticator: Authenticator | None = None
    quota: QuotaPolicy | None = None
    hooks: Sequence[Middleware] = field(default_factory=list)
    """Middleware placed between the faults and the gateway (latency, tests' own probes)."""
    auth_header: str = "authorization"
    """The header whose presence the request log records as `authorized` (e.g. `x-api-key`)."""
    faults: Sequence[Fault] = field(default_factory=list)
    """Faults to play (see `fleetlake.emulators.faults`), first claim wins."""
    throttled: Callable[[QuotaDecision], Response] | None = None
    """The over-quota answer when the quota is charged elsewhere than `quota` (a 429 fault plays it)."""


def build_app(spec: AppSpec) -> Starlette:
    """Assemble the Starlette app: request log, hooks, gateway, then admin and vendor routes."""

    async def unmatched(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return spec.not_found(request.url.path, exc.status_code, exc.detail)

    def throttled(decision: QuotaDecision) -> tuple[Response, list[tuple[str, str]]]:
        if spec.quota is not None:
            return spec.quota.exceeded(decision), spec.quota.headers(decision)
        if spec.throttled is not None:
            return spec.throttled(decision), []
        return spec.not_found("", 429, "rate limit exceeded"), [("Retry-After", decision.reset_header())]

    faults = (
        [
            Middleware(
                FaultMiddleware,
                faults=spec.faults,
                envelope=spec.not_found,
                throttled=throttled,
                auth_header=spec.auth_header.lower().encode("latin-1"),
            )
        ]
        if spec.faults
        else []
    )
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        404: unmatched,
        405: unmatched,
    }
    return Starlette(
        routes=[admin_routes(spec.clock, spec.log), *spec.routes],
        middleware=[
            Middleware(
                RequestLogMiddleware,
                log=spec.log,
                servers=spec.servers,
                auth_header=spec.auth_header.lower().encode("latin-1"),
            ),
            *faults,
            *spec.hooks,
            Middleware(GatewayMiddleware, authenticator=spec.authenticator, quota=spec.quota),
        ],
        exception_handlers=handlers,
    )
