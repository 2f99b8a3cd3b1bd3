"""The API-agnostic core: clock, quota, page tokens, request log, admin routes and the server itself."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from fleetlake.emulators import Clock, EmulatorServer, QuotaLimiter, RequestLog, RouteError
from fleetlake.emulators.core import AppSpec, build_app, json_response, route
from fleetlake.emulators.paging import PageTokens, number_page, token_page, token_scope
from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator
from tests.emulators.conftest import NOW, FakeTime, Running


def test_clock_starts_at_the_hour_and_moves_only_forward() -> None:
    clock = Clock()
    now = clock.now()
    assert (now.minute, now.second, now.microsecond, now.tzinfo) == (0, 0, 0, UTC)
    fixed = Clock(NOW)
    assert fixed.advance(timedelta(hours=25)) == datetime(2025, 6, 16, 13, tzinfo=UTC)
    assert fixed.initial == NOW
    assert fixed.timestamp() == 1750078800
    with pytest.raises(ValueError, match="only moves forward"):
        fixed.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(datetime(2025, 1, 1))


def test_quota_fixed_window_per_key() -> None:
    fake = FakeTime()
    limiter = QuotaLimiter(2, 60, time_source=fake)
    first, second, third = limiter.hit("a"), limiter.hit("a"), limiter.hit("a")
    assert first is not None
    assert second is not None
    assert third is not None
    assert [(d.allowed, d.remaining) for d in (first, second, third)] == [(True, 1), (True, 0), (False, 0)]
    assert third.reset_header() == "60"
    other = limiter.hit("b")
    assert other is not None
    assert other.allowed
    fake.advance(59.2)
    late = limiter.hit("a")
    assert late is not None
    assert (late.allowed, late.reset_header()) == (False, "1")
    fake.advance(0.8)
    fresh = limiter.hit("a")
    assert fresh is not None
    assert (fresh.allowed, fresh.remaining, fresh.reset_header()) == (True, 1, "60")


def test_quota_compressed_window_reports_fractional_reset() -> None:
    fake = FakeTime()
    limiter = QuotaLimiter(100, 0.5, time_source=fake)
    decision = limiter.hit("k")
    assert decision is not None
    assert decision.reset_header() == "0.5"
    fake.advance(0.1234)
    decision = limiter.hit("k")
    assert decision is not None
    assert (decision.reset_seconds, decision.reset_header()) == (0.377, "0.377")
    assert QuotaLimiter(None).hit("k") is None


def test_page_tokens_are_deterministic_and_bound_to_their_list() -> None:
    tokens = PageTokens(b"secret")
    query = QueryParams("regionIds=aws-us-east-1&pageSize=2")
    scope = token_scope("clusters", query)
    assert scope == "clusters?regionIds=aws-us-east-1"
    token = tokens.issue(scope, 2)
    assert token == PageTokens(b"secret").issue(scope, 2)
    assert tokens.read(scope, token) == 2
    assert tokens.read("clusters?regionIds=gcp-us-central1", token) is None
    assert tokens.read(scope, "not-a-token") is None
    page = token_page(QueryParams(f"pageSize=2&pageToken={token}"), tokens, scope, 5)
    assert (page.slice.start, page.slice.stop) == (2, 4)
    last = token_page(QueryParams(f"pageSize=2&pageToken={page.next_token}"), tokens, scope, 5)
    assert (last.slice.start, last.slice.stop, last.next_token) == (4, 5, "")
    with pytest.raises(RouteError, match="invalid pageToken"):
        token_page(QueryParams("pageToken=abc"), tokens, scope, 5)


def test_number_pages() -> None:
    assert number_page(QueryParams("page=2&page_size=2"), 5).indices() == range(2, 4)
    assert number_page(QueryParams("page=9"), 5).indices() == range(5, 5)
    for bad in ("page=0", "page_size=101", "page_size=0", "page=x"):
        with pytest.raises(RouteError):
            number_page(QueryParams(bad), 5)


def _echo_app(clock: Clock) -> tuple[Starlette, RequestLog]:
    log = RequestLog()
    app = build_app(
        AppSpec(
            routes=[route("/svc/echo", lambda call: {"ok": "yes"}, lambda status, msg: {"error": msg})],
            clock=clock,
            log=log,
            servers=[("/svc", "svc")],
            not_found=lambda path, status, message: json_response({"missing": path}, status=status),
        )
    )
    return app, log


def test_server_binds_before_start_and_stops_cleanly() -> None:
    clock = Clock(NOW)
    app, log = _echo_app(clock)
    server = EmulatorServer(app)
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0
    assert not server.running
    with server:
        assert server.running
        listener = socket.create_connection(("127.0.0.1", server.port))
        listener.close()
        with requests.Session() as http:
            assert http.get(f"{server.url}/svc/echo?a=1&a=2").json() == {"ok": "yes"}
            assert http.get(f"{server.url}/svc/nope").json() == {"missing": "/svc/nope"}
            advanced = http.post(f"{server.url}/_emulator/advance", params={"seconds": 90})
            assert advanced.json() == {"now": "2025-06-15T12:01:30Z"}
            assert http.post(f"{server.url}/_emulator/advance", params={"seconds": "-5"}).status_code == 400
            assert http.get(f"{server.url}/_emulator/health").json() == {
                "status": "ok",
                "now": "2025-06-15T12:01:30Z",
            }
            summary = http.get(f"{server.url}/_emulator/requests").json()
    assert not server.running
    assert summary["total"] == 2
    assert summary["byStatus"] == {"200": 1, "404": 1}
    assert summary["requests"][0] == {
        "method": "GET",
        "server": "svc",
        "path": "/svc/echo",
        "query": {"a": ["1", "2"]},
        "status": 200,
        "keyId": None,
        "authorized": False,
    }
    assert log.count(status=404) == 1
    assert log.count(server="svc", method="GET") == 2
    with pytest.raises(OSError):  # noqa: PT011
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


def test_keep_alive_requests_are_not_delayed_by_nagle(demo: Running) -> None:
    # headers and body go out in two writes: without TCP_NODELAY each answer would wait ~40 ms
    with requests.Session() as http:
        http.get(f"{demo.server.url}/_emulator/health")
        started = time.perf_counter()
        for _ in range(200):
            http.get(f"{demo.server.url}/_emulator/health")
        elapsed = time.perf_counter() - started
    assert elapsed < 2.0


def test_serve_forever_stops_on_ctrl_c() -> None:
    script = (
        "from fleetlake.emulators.tidb_cloud import TiDBCloudEmulator\n"
        "server = TiDBCloudEmulator().server()\n"
        "print(server.url, flush=True)\n"
        "server.serve_forever()\n"
        "print('stopped', flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        # the socket listens before uvicorn runs, so this waits in the backlog instead of failing
        assert requests.get(f"{url}/_emulator/health", timeout=10).status_code == 200
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=10)
    finally:
        child.kill()
    assert child.returncode == 0
    assert out.strip() == "stopped"


class _Unavailable:
    """A stand-in fault: answers 503 to every request whose query asks for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"fail=1" in scope.get("query_string", b""):
            await json_response({"error": "unavailable"}, status=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_hooks_sit_between_the_request_log_and_the_gateway() -> None:
    emulator = TiDBCloudEmulator(now=NOW, hooks=[Middleware(_Unavailable)])
    with emulator.serve() as server, requests.Session() as http:
        failed = http.get(f"{server.url}/api/v1beta/projects?fail=1")
        challenged = http.get(f"{server.url}/api/v1beta/projects")
    assert (failed.status_code, challenged.status_code) == (503, 401)
    # the fault was logged like any answer and happened before authentication
    assert [(r.status, r.authorized) for r in emulator.requests.records()] == [(503, False), (401, False)]
