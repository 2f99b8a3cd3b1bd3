"""HTTP Digest authentication, server side (RFC 7616, MD5, qop="auth").

Nonces need no table: each one is the time it was issued plus an HMAC of that time under a server
secret, so the server can tell its own nonces from forged ones and knows their age. The nonce count
is checked for presence but not for growth, because clients may legitimately resend a request.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote
from urllib.request import parse_http_list, parse_keqv_list

from starlette.responses import Response
from starlette.types import Scope

from fleetlake.emulators.core import AuthDecision, json_response

_SIGNATURE_BYTES = 12


class DigestOutcome(enum.Enum):
    """Why a request was, or was not, authenticated."""

    OK = "ok"
    MISSING = "missing"
    """No Digest Authorization header: answer a challenge."""
    MALFORMED = "malformed"
    """A Digest header lacking fields, naming another realm or uri, or with an unsupported qop/algorithm."""
    UNKNOWN_USER = "unknown_user"
    WRONG_RESPONSE = "wrong_response"
    """The response hash does not match the user's password (or the nonce is not ours)."""
    STALE = "stale"
    """Everything was right except that the nonce had expired."""


@dataclass(frozen=True)
class DigestResult:
    """The outcome and the user name the client claimed (None when absent)."""

    outcome: DigestOutcome
    username: str | None = None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class DigestVerifier:
    """Issues challenges and verifies Digest credentials against a password lookup."""

    def __init__(
        self,
        *,
        realm: str,
        passwords: Callable[[str], str | None],
        nonce_ttl_seconds: float = 300.0,
        secret: bytes | None = None,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        self.realm = realm
        self.nonce_ttl_seconds = nonce_ttl_seconds
        self._passwords = passwords
        self._secret = secret or secrets.token_bytes(32)
        self._time = time_source
        self.opaque = hmac.new(self._secret, b"opaque", hashlib.sha256).hexdigest()[:32]

    def knows(self, username: str) -> bool:
        """Whether `username` is a known key."""
        return self._passwords(username) is not None

    def new_nonce(self) -> str:
        """A nonce carrying its issue time (microseconds) and a signature."""
        issued = struct.pack(">q", int(self._time() * 1_000_000))
        signature = hmac.new(self._secret, issued, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(issued + signature).decode().rstrip("=")

    def _nonce_age(self, nonce: str) -> float | None:
        """Seconds since the nonce was issued, or None when it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except ValueError:
            return None
        if len(raw) != 8 + _SIGNATURE_BYTES:
            return None
        issued, signature = raw[:8], raw[8:]
        expected = hmac.new(self._secret, issued, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        if not hmac.compare_digest(signature, expected):
            return None
        issued_us: int = struct.unpack(">q", issued)[0]
        return self._time() - issued_us / 1_000_000

    def challenge(self, *, stale: bool = False) -> str:
        """A `WWW-Authenticate` value with a fresh nonce."""
        value = (
            f'Digest realm="{self.realm}", qop="auth", nonce="{self.new_nonce()}", '
            f'opaque="{self.opaque}", algorithm=MD5'
        )
        return value + ", stale=true" if stale else value

    def verify(self, method: str, targets: tuple[str, ...], authorization: str | None) -> DigestResult:
        """Check an Authorization header for a request to any of `targets` (path plus query)."""
        if authorization is None or authorization[:7].lower() != "digest ":
            return DigestResult(DigestOutcome.MISSING)
        fields = parse_keqv_list(parse_http_list(authorization[7:]))
        username = fields.get("username")
        required = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if any(not fields.get(name) for name in required):
            return DigestResult(DigestOutcome.MALFORMED, username)
        assert username is not None
        if (
            fields["realm"] != self.realm
            or fields["qop"] != "auth"
            or fields.get("algorithm", "MD5").upper() != "MD5"
            or fields.get("opaque", self.opaque) != self.opaque
            or fields["uri"] not in targets
        ):
            return DigestResult(DigestOutcome.MALFORMED, username)
        password = self._passwords(username)
        if password is None:
            return DigestResult(DigestOutcome.UNKNOWN_USER, username)
        ha1 = _md5(f"{username}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{fields['uri']}")
        expected = _md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        if not hmac.compare_digest(expected, fields["response"].lower()):
            return DigestResult(DigestOutcome.WRONG_RESPONSE, username)
        age = self._nonce_age(fields["nonce"])
        if age is None:
            return DigestResult(DigestOutcome.WRONG_RESPONSE, username)
        if age > self.nonce_ttl_seconds:
            return DigestResult(DigestOutcome.STALE, username)
        return DigestResult(DigestOutcome.OK, username)


def request_targets(scope: Scope) -> tuple[str, ...]:
    """The request-target as sent (raw path and query) and its decoded form, for the `uri` check."""
    raw_path = bytes(scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    suffix = f"?{query}" if query else ""
    return (raw_path + suffix, unquote(raw_path) + suffix)


class DigestAuthenticator:
    """Adapts a `DigestVerifier` to the gateway: challenges, rejections and the calling key.

    `rejection_body(outcome)` gives the vendor's JSON body for each kind of 401. A request that names
    a known key counts against its quota even when rejected; a bare challenge does not.
    """

    def __init__(self, verifier: DigestVerifier, rejection_body: Callable[[DigestOutcome], dict[str, object]]):
        self.verifier = verifier
        self.rejection_body = rejection_body

    def _reject(self, outcome: DigestOutcome) -> Response:
        challenge = self.verifier.challenge(stale=outcome is DigestOutcome.STALE)
        return json_response(self.rejection_body(outcome), status=401, headers={"WWW-Authenticate": challenge})

    def authenticate(self, scope: Scope) -> AuthDecision:
        """Verify the request's Digest header; a rejection carries a fresh challenge."""
        authorization = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                authorization = bytes(value).decode("latin-1")
                break
        result = self.verifier.verify(scope["method"], request_targets(scope), authorization)
        known = result.username is not None and self.verifier.knows(result.username)
        key_id = result.username if known else None
        if result.outcome is DigestOutcome.OK:
            return AuthDecision(key_id=key_id)
        return AuthDecision(key_id=key_id, rejection=self._reject(result.outcome))
