"""API-key authentication, server side: a key in a header (`X-API-Key: k`, `Authorization: Bearer k`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from starlette.responses import Response
from starlette.types import Scope

from fleetlake.emulators.core import AuthDecision

Rejection = Literal["missing", "invalid"]


class HeaderKeyAuthenticator:
    """Checks a key sent in one header, optionally after a scheme word (`Bearer`).

    `keys` maps each accepted key to the key id the request log and the quota use (so the key itself
    is never recorded). `reject(reason)` builds the vendor's 401 answer for a missing or wrong key.
    Requests with a wrong key do not count against any quota: the caller is unknown.
    """

    def __init__(
        self,
        header: str,
        keys: Mapping[str, str],
        reject: Callable[[Rejection], Response],
        *,
        scheme: str | None = None,
    ) -> None:
        self.header = header.lower().encode("latin-1")
        self.keys = keys
        self.reject = reject
        self.scheme = scheme

    def _presented(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == self.header:
                text = bytes(value).decode("latin-1").strip()
                if self.scheme is None:
                    return text or None
                word, _, key = text.partition(" ")
                return key.strip() or None if word.lower() == self.scheme.lower() else None
        return None

    def authenticate(self, scope: Scope) -> AuthDecision:
        """Accept a known key; answer 401 for a missing or unknown one."""
        presented = self._presented(scope)
        if presented is None:
            return AuthDecision(rejection=self.reject("missing"))
        key_id = self.keys.get(presented)
        if key_id is None:
            return AuthDecision(rejection=self.reject("invalid"))
        return AuthDecision(key_id=key_id)
