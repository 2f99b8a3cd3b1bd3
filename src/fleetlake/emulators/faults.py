"""Fault injection for every emulator: the faults real APIs and the networks in front of them produce.

A `Fault` names what goes wrong (`kind`), on which requests (`path`, a glob on the request path) and
when (after `after` matching requests, for `times` requests, or for good). Only requests carrying
credentials count: a digest handshake's unauthenticated first leg is not an API call. `FaultMiddleware` sits
between the request log and the gateway, so the request log records the status a client really saw.

Faults on the wire (status answers, 429 storms, resets, slow answers, broken bodies, revoked keys) are
played by the middleware alone. Faults of the paging itself (a token that repeats, an empty page that
still carries a next token) need the list's own paging: the middleware announces them through
`paging_fault()` and the vendors' paging helpers play them, marking them applied; a request whose
list cannot play the fault (a page-number list has no token to repeat) does not use it up.

`parse_fault` reads the command-line form used by `fleetlake emulate --fault`:

    KIND[@PATH][,after=N][,times=N|forever][,seconds=S][,field=NAME][,status=CODE]

for example `503@*/clusters,after=1,times=3` or `revoke,after=20`.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetlake.emulators.quota import QuotaDecision

logger = logging.getLogger("fleetlake.emulators.faults")

STATUS_KINDS = ("500", "502", "503", "504")
# answers a client must not retry: the endpoint is missing, refuses the request, or the key lacks a role
REFUSAL_KINDS = ("400", "403", "404")
WIRE_KINDS = ("429", "reset", "slow", "truncate", "malformed", "html", "revoke")
BODY_KINDS = ("new-field", "type-change", "no-pk", "bad-value", "no-next")
PAGING_KINDS = ("loop", "empty-page")
KINDS = (*STATUS_KINDS, *REFUSAL_KINDS, *WIRE_KINDS, *BODY_KINDS, *PAGING_KINDS)

DESCRIPTIONS = {
    "500": "answer 500 in the host's error envelope (times=3 by default)",
    "502": "answer 502 in the host's error envelope (times=3 by default)",
    "503": "answer 503 in the host's error envelope (times=3 by default)",
    "504": "answer 504 in the host's error envelope (times=3 by default)",
    "400": "answer 400 in the host's error envelope, as for a parameter it requires (times=forever)",
    "403": "answer 403 in the host's error envelope, a role the key lacks (times=forever)",
    "404": "answer 404 in the host's error envelope, an endpoint this account lacks (times=forever)",
    "429": "answer the vendor's over-quota 429 with its headers (a storm: times=5; seconds= sets the reset)",
    "reset": "send the headers and half the body, then drop the connection",
    "slow": "answer only after `seconds` (default 65: longer than a client's 60 s timeout)",
    "truncate": "answer 200 with the body cut in half (valid HTTP, broken JSON)",
    "malformed": "answer 200 with a body that is not JSON",
    "html": "answer a proxy's HTML error page (status=502 by default; status=200 for a captive portal)",
    "revoke": "the key is revoked: 401 in the host's envelope from then on (times=forever by default)",
    "new-field": "add a field (field=, default `driftNote`) to every record of the answer",
    "type-change": "turn a numeric field (field=, default: the first one) of every record into text",
    "no-pk": "remove the primary key (field=, default `id`) from the answer's first record",
    "bad-value": "replace a field (field=) of every record with a value that no type fits",
    "no-next": "drop the answer's next-page pointer (token, link) while its stated total stays",
    "loop": "a token-paged list answers the token it was asked with as the next one",
    "empty-page": "a token-paged list answers an empty page whose next token resumes where it was",
}

_DEFAULT_TIMES: dict[str, int | None] = {
    "500": 3,
    "502": 3,
    "503": 3,
    "504": 3,
    "429": 5,
    "revoke": None,
    "400": None,
    "403": None,
    "404": None,
}
# what a bad-value fault writes into a field: no time, date, number or boolean form fits it
UNTYPABLE = "31/02/2026 25:61 (no such time)"
# where answers keep their next-page pointer, in the body or the headers
NEXT_BODY_KEYS = ("nextPageToken", "next_page_token", "next")
NEXT_HEADERS = (b"x-next-page-token", b"next-page-token", b"x-page-token", b"link")


class FaultSpecError(ValueError):
    """A fault description that cannot be read; the message says what is wrong."""


@dataclass
class Fault:
    """One fault: `kind` on requests whose path matches `path`, after `after` of them, `times` times.

    `times=None` plays it on every later matching request. Thread-safe: emulators serve from one
    event loop, but tests may read `fired` from another thread.
    """

    kind: str
    path: str = "*"
    after: int = 0
    times: int | None = 1
    seconds: float | None = None
    field_name: str | None = None
    status: int | None = None
    fired: int = field(default=0, init=False)
    _seen: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.after < 0:
            raise FaultSpecError(f"after must be 0 or more, got {self.after}")
        if self.times is not None and self.times < 1:
            raise FaultSpecError(f"times must be 1 or more (or forever), got {self.times}")
        if self.seconds is not None and not 0 <= self.seconds < float("inf"):
            raise FaultSpecError(f"seconds must be a number 0 or more, got {self.seconds}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise FaultSpecError(f"status must be an HTTP status, 100 to 599, got {self.status}")

    def claim(self, path: str) -> bool:
        """Count a request to `path`; True when this request is one the fault plays on."""
        if not fnmatchcase(path, self.path):
            return False
        with self._lock:
            self._seen += 1
            if self._seen <= self.after:
                return False
            if self.times is not None and self.fired >= self.times:
                return False
            self.fired += 1
            return True

    def unclaim(self) -> None:
        """Give back a claim the request could not play (a list without tokens, an answer without the field)."""
        with self._lock:
            self.fired -= 1
            self._seen -= 1

    @property
    def exhausted(self) -> bool:
        """Whether the fault has played all its times."""
        with self._lock:
            return self.times is not None and self.fired >= self.times


def parse_fault(text: str) -> Fault:
    """A `Fault` from its command-line form, `KIND[@PATH][,name=value...]`."""
    head, *options = [part.strip() for part in text.split(",")]
    kind, _, path = head.partition("@")
    kind = kind.strip().lower()
    values: dict[str, Any] = {"kind": kind, "path": path.strip() or "*", "times": _DEFAULT_TIMES.get(kind, 1)}
    for option in options:
        name, sep, raw = option.partition("=")
        name = name.strip().lower()
        raw = raw.strip()
        if not sep or not raw:
            raise FaultSpecError(f"fault option {option!r} in {text!r} needs the form name=value")
        try:
            if name == "after":
                values["after"] = int(raw)
            elif name == "times":
                values["times"] = None if raw in ("forever", "*") else int(raw)
            elif name == "seconds":
                values["seconds"] = float(raw)
            elif name == "status":
                values["status"] = int(raw)
            elif name == "field":
                values["field_name"] = raw
            else:
                raise FaultSpecError(
                    f"unknown fault option {name!r} in {text!r}: use after, times, seconds, field or status"
                )
        except ValueError as error:
            if isinstance(error, FaultSpecError):
                raise
            raise FaultSpecError(f"fault option {option!r} in {text!r} is not a number") from None
    return Fault(**values)


@dataclass
class PagingFault:
    """A paging fault announced to the list handler of the current request."""

    kind: str
    applied: bool = False


_PAGING_FAULT: contextvars.ContextVar[PagingFault | None] = contextvars.ContextVar("paging_fault", default=None)


def paging_fault() -> PagingFault | None:
    """The paging fault the current request should play, if any (read by the paging helpers)."""
    return _PAGING_FAULT.get()


HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class InjectedResetError(Exception):
    """Raised after half a body was sent: the server drops the connection, as a reset would."""


Envelope = Callable[[str, int, str], Response]
Throttled = Callable[[QuotaDecision], tuple[Response, list[tuple[str, str]]]]


class FaultMiddleware:
    """Plays the first of `faults` that claims each request; other requests pass untouched."""

    def __init__(
        self,
        app: ASGIApp,
        faults: Sequence[Fault],
        envelope: Envelope,
        throttled: Throttled,
        auth_header: bytes = b"authorization",
    ) -> None:
        self.app = app
        self.faults = list(faults)
        self.envelope = envelope
        self.throttled = throttled
        self.auth_header = auth_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path.startswith("/_emulator")
            # a request without credentials (a digest handshake's first leg) is not an API call: it
            # neither counts nor plays, so `after=N` means the same whatever thread met the challenge
            or not any(name == self.auth_header for name, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        fault = next((f for f in self.faults if f.claim(path)), None)
        if fault is None:
            await self.app(scope, receive, send)
            return
        kind = fault.kind
        logger.info("fault %s on %s %s", kind, scope["method"], path)
        if kind in STATUS_KINDS:
            await self.envelope(path, int(kind), "injected fault")(scope, receive, send)
        elif kind in REFUSAL_KINDS:
            reason = {"400": "a required parameter is missing", "403": "permission denied", "404": "not found"}
            await self.envelope(path, int(kind), f"injected fault: {reason[kind]}")(scope, receive, send)
        elif kind == "revoke":
            await self.envelope(path, 401, "the API key was revoked")(scope, receive, send)
        elif kind == "429":
            seconds = 1.0 if fault.seconds is None else fault.seconds
            decision = QuotaDecision(allowed=False, limit=100, remaining=0, reset_seconds=seconds)
            response, headers = self.throttled(decision)
            for name, value in headers:
                response.headers[name] = value
            await response(scope, receive, send)
        elif kind == "html":
            await Response(HTML_PAGE, status_code=fault.status or 502, media_type="text/html")(scope, receive, send)
        elif kind == "slow":
            await asyncio.sleep(65.0 if fault.seconds is None else fault.seconds)
            await self.app(scope, receive, send)
        elif kind in PAGING_KINDS:
            await self._paging(fault, scope, receive, send)
        else:
            await self._rewrite(fault, scope, receive, send)

    async def _paging(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        announced = PagingFault(fault.kind)
        token = _PAGING_FAULT.set(announced)
        try:
            await self.app(scope, receive, send)
        finally:
            _PAGING_FAULT.reset(token)
        if not announced.applied:
            fault.unclaim()

    async def _rewrite(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app answer, then send its answer changed by the fault."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, capture)
        assert start is not None, "the app sent no response"
        body = b"".join(chunks)
        status: int = start["status"]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if fault.kind == "reset":
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise InjectedResetError(f"connection dropped after {len(body) // 2} of {len(body)} bytes")
        if fault.kind == "no-next" and 200 <= status < 300:
            kept = [(k, v) for k, v in headers if k.lower() not in NEXT_HEADERS]
            changed = _without_next(body)
            if len(kept) == len(headers) and changed == body:
                fault.unclaim()  # no pointer here (a page-number list, a last page): wait for another
            headers, body = kept, changed
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        changed = _broken_body(fault, body) if 200 <= status < 300 else body
        if changed == body:
            # nothing to break here (an error answer, no records, no such field): wait for another request
            fault.unclaim()
        body = changed
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _broken_body(fault: Fault, body: bytes) -> bytes:
    if fault.kind == "truncate":
        return body[: len(body) // 2]
    if fault.kind == "malformed":
        # a body that starts like JSON and stops being it: what a buggy serializer or proxy sends
        middle = len(body) // 2
        return body[:middle] + b"\x00<!-- upstream error -->" + body[middle:]
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    records = _records(payload)
    if not records:
        return body
    if fault.kind == "new-field":
        name = fault.field_name or "driftNote"
        for number, record in enumerate(records):
            record[name] = f"added by the API after the schema was first loaded ({number})"
    elif fault.kind == "type-change":
        numeric = (k for k, v in records[0].items() if isinstance(v, int | float) and not isinstance(v, bool))
        changed = fault.field_name or next(numeric, None)
        if changed is None or not any(changed in record for record in records):
            return body
        for record in records:
            if changed in record:
                record[changed] = f"{record[changed]} (was a number)"
    elif fault.kind == "bad-value":
        if not fault.field_name or not any(fault.field_name in record for record in records):
            return body
        for record in records:
            if fault.field_name in record:
                record[fault.field_name] = UNTYPABLE
    elif fault.kind == "no-pk":
        if (fault.field_name or "id") not in records[0]:
            return body
        del records[0][fault.field_name or "id"]
    return json.dumps(payload, separators=(",", ":")).encode()


def _without_next(body: bytes) -> bytes:
    """The body with its next-page pointer emptied (a token, a `links.next`, a `next` link)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict):
        return body
    changed = False
    for key in NEXT_BODY_KEYS:
        if payload.get(key):
            payload[key] = "" if key == "nextPageToken" else None
            changed = True
    links = payload.get("links")
    if isinstance(links, dict) and links.get("next"):
        links["next"] = None
        changed = True
    return json.dumps(payload, separators=(",", ":")).encode() if changed else body


def _records(payload: Any) -> list[dict[str, Any]]:
    """The list of records in an answer: the answer itself, or the first list of objects in it."""
    if isinstance(payload, list):
        return [item for item in payload if isinstance(item, dict)]
    if isinstance(payload, dict):
        for value in payload.values():
            if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
                return value
    return []


def describe_kinds() -> str:
    """One line per fault kind, for `fleetlake emulate --help`."""
    return "\n".join(f"{kind:<12} {text}" for kind, text in DESCRIPTIONS.items())
