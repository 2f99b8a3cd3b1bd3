"""Secoda's gateway: bearer tokens, and separate rate limits for reads and for writes.

The core's `QuotaPolicy` charges one limiter per key whatever the method, but Secoda documents a
limit for writes only (30 calls a minute on POST/PUT/PATCH). So this authenticator charges the
quota itself, after the token check: writes to one limiter, everything else to another (off by
default), and answers 429 as a rejection. `/healthcheck` needs no token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.types import Scope

from fleetlake.emulators.core import AuthDecision
from fleetlake.emulators.keyauth import HeaderKeyAuthenticator
from fleetlake.emulators.quota import QuotaDecision, QuotaLimiter
from fleetlake.emulators.secoda.context import PREFIX, WRITES
from fleetlake.emulators.secoda.errors import throttled, unauthorized

OPEN_PATHS = frozenset({"/healthcheck", "/healthcheck/", PREFIX + "/healthcheck", PREFIX + "/healthcheck/"})


class SecodaGateway:
    """Checks `Authorization: Bearer <token>`, then charges the read or the write limiter."""

    def __init__(
        self,
        keys: Mapping[str, str],
        reads: QuotaLimiter,
        writes: QuotaLimiter,
        retry_after: Callable[[QuotaDecision], float],
    ) -> None:
        self.tokens = HeaderKeyAuthenticator("authorization", keys, unauthorized, scheme="Bearer")
        self.reads = reads
        self.writes = writes
        self.retry_after = retry_after

    def authenticate(self, scope: Scope) -> AuthDecision:
        """Let health checks through, refuse unknown tokens, then apply the method's rate limit."""
        if scope["path"] in OPEN_PATHS:
            return AuthDecision()
        decision = self.tokens.authenticate(scope)
        if decision.key_id is None:
            return decision
        limiter = self.writes if scope["method"] in WRITES else self.reads
        charged = limiter.hit(decision.key_id)
        if charged is None or charged.allowed:
            return decision
        return AuthDecision(key_id=decision.key_id, rejection=throttled(self.retry_after(charged)))
