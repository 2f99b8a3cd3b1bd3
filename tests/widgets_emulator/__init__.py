"""An offline Widgets API for the tests: one token-paged list behind `X-API-Key`, with a quota.

Built only from the emulators' shared core (gateway, key auth, quota, page tokens, faults), as a new
API's emulator would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from fleetlake.emulators.base import Emulator, EmulatorSetup, FaultPlan, FaultTarget
from fleetlake.emulators.core import (
    AppSpec,
    Call,
    Clock,
    QuotaPolicy,
    RequestLog,
    build_app,
    json_response,
    request_header,
    route,
)
from fleetlake.emulators.keyauth import HeaderKeyAuthenticator, Rejection
from fleetlake.emulators.paging import PageTokens, token_page, token_scope
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter
from fleetlake.emulators.seeded import rng

DEFAULT_API_KEY = "fleetlake-demo-widgets-key"
SCALES = {"demo": 23, "large": 5_000}
"""Widgets at the data clock's start."""
SPACING = 6 * 3600
"""A new widget every six hours of data time."""
COLORS = ("red", "green", "blue", "black")


def _envelope(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message}}


class WidgetsEmulator(Emulator):
    """The Widgets API on 127.0.0.1: `GET /v1/widgets?pageSize=&pageToken=`."""

    FAULT_PLAN = FaultPlan(
        resources=("widgets",),
        paged=FaultTarget("/v1/widgets", "widgets", 5, "createdAt", "created_at"),
        looping=FaultTarget("/v1/widgets", "widgets", 5),
        keyed=FaultTarget("/v1/widgets", "widgets", 5, "id"),
        retyped=FaultTarget("/v1/widgets", "widgets", 5, "weight"),
        settings={"page_size": 5},
    )

    def __init__(
        self,
        *,
        seed: int = 0,
        scale: str = "demo",
        now: Any = None,
        rate_limit: int | None = None,
        rate_window_seconds: float = 60.0,
        faults: Any = (),
        keys: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
        self.seed = seed
        self.clock = clock or Clock(now)
        self.origin = int(self.clock.initial.timestamp()) - (SCALES[scale] - 1) * SPACING
        self.keys = dict(keys) if keys is not None else {DEFAULT_API_KEY: "demo"}
        self.requests = RequestLog()
        self.quota = QuotaLimiter(rate_limit, rate_window_seconds)
        self.tokens = PageTokens(f"widgets-{seed}".encode())
        self.app = build_app(
            AppSpec(
                routes=[route("/v1/widgets", self._list, _envelope)],
                clock=self.clock,
                log=self.requests,
                servers=[("/v1", "widgets")],
                not_found=lambda path, status, message: json_response(_envelope(status, f"{message}: {path}"), status),
                authenticator=HeaderKeyAuthenticator("x-api-key", self.keys, self._reject),
                quota=QuotaPolicy(self.quota, self._quota_headers, self._over_quota),
                faults=list(faults),
                auth_header="x-api-key",
            )
        )

    @classmethod
    def setup_arguments(cls, setup: EmulatorSetup) -> dict[str, Any]:
        return {"keys": {setup.key or setup.demo_key(DEFAULT_API_KEY): setup.demo_key("demo")}}

    @staticmethod
    def presented_key(scope: Scope) -> str | None:
        return request_header(scope, b"x-api-key")

    def source_settings(self, server_url: str) -> dict[str, Any]:
        return {"api_key": next(iter(self.keys)), "base_url": server_url.rstrip("/")}

    def expected_counts(self) -> dict[str, int]:
        return {"widgets": self._total()}

    def _total(self) -> int:
        return (self.clock.timestamp() - self.origin) // SPACING + 1

    def _widget(self, index: int) -> dict[str, Any]:
        draw = rng(self.seed, "widget", index)
        created = self.origin + index * SPACING
        return {
            "id": f"w-{self.seed}-{index:05d}",
            "name": f"widget {index}",
            "color": COLORS[draw.randrange(len(COLORS))],
            "weight": round(draw.uniform(0.5, 20.0), 2),
            "createdAt": datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z"),
        }

    def _list(self, call: Call) -> dict[str, Any]:
        total = self._total()
        page = token_page(call.query, self.tokens, token_scope("widgets", call.query), total)
        return {
            "widgets": [self._widget(i) for i in page.slice.indices()],
            "nextPageToken": page.next_token,
            "totalSize": total,
        }

    @staticmethod
    def _reject(reason: Rejection) -> Response:
        message = "missing X-API-Key header" if reason == "missing" else "invalid API key"
        return json_response(_envelope(401, message), 401)

    @staticmethod
    def _quota_headers(decision: QuotaDecision) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(decision.limit)),
            ("X-RateLimit-Remaining", str(decision.remaining)),
            ("X-RateLimit-Reset", decision.reset_header()),
        ]

    @staticmethod
    def _over_quota(decision: QuotaDecision) -> Response:
        message = f"rate limit exceeded: {decision.limit} requests per window"
        return json_response(_envelope(429, message), 429, headers={"Retry-After": decision.reset_header()})
