"""What every SkySQL host module needs: the data, the clock, replies with headers, both paging styles.

The core's `route` answers JSON only; SkySQL also answers a page token in a header and 204 No Content,
so the routes here return a `Reply` when they need more than a body.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from fleetlake.emulators.core import KEY_ID, Call, Clock, Payload, RouteError, json_response
from fleetlake.emulators.paging import PageTokens, parse_int, token_scope
from fleetlake.emulators.skysql.data import SkySQLData
from fleetlake.emulators.skysql.errors import ApiError, Problem, envelope_for

PAGE_TOKEN_HEADER = "X-Next-Page-Token"  # noqa: S105 (a header name, not a secret)
"""The response header carrying the next page's `page_token` (absent on the last page)."""
HEADER_MODE, NO_TOKENS_MODE = "header", "none"
LINK_MODE, BODY_MODE = "link", "body"
TOKEN_MODES = (HEADER_MODE, LINK_MODE, BODY_MODE, NO_TOKENS_MODE)
"""How /provisioning/v1 lists hand out the next page (undocumented by the vendor): a header (the
default), a `Link: rel="next"` header, an object body `{items, next_page_token}`, or not at all."""
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Reply:
    """An answer with a status or headers of its own; `payload=None` sends no body."""

    payload: Payload | None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Payload | Reply]


@dataclass
class Context:
    """Shared state of one SkySQL emulator."""

    data: SkySQLData
    clock: Clock
    orgs: Mapping[str, str]
    """Key id -> the organization id of that API key."""
    token_mode: str = HEADER_MODE
    """How /provisioning/v1 lists give the next page's token (`TOKEN_MODES`)."""
    tokens: PageTokens = field(init=False)

    @property
    def header_tokens(self) -> bool:
        """Whether /provisioning/v1 lists give the next page's token at all."""
        return self.token_mode != NO_TOKENS_MODE

    def __post_init__(self) -> None:
        self.tokens = PageTokens(self.data.token_secret)

    def now(self) -> int:
        """The data clock in unix seconds."""
        return self.clock.timestamp()

    def org_of(self, call: Call) -> str:
        """The organization id of the calling key."""
        return self.orgs.get(call.key_id or "", self.data.org_id)

    def problem(self, status: int, message: str, path: str, *, location: str = "", solution: str = "") -> Problem:
        """An error at the current data time, with a trace id derived from the request."""
        now = self.now()
        text = f"{self.data.seed}|{path}|{status}|{now}|{message}"
        trace = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        return Problem(status, message, path, now, trace, location, solution)

    def error(
        self,
        path: str,
        status: int,
        message: str,
        *,
        location: str = "",
        solution: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """An error answer in the envelope of the host that serves `path`."""
        problem = self.problem(status, message, path, location=location, solution=solution)
        return json_response(envelope_for(path)(problem), status=status, headers=headers)


class PathBoundError(Response):
    """An error answer built when sent, because its envelope names the path only the scope knows.

    The gateway's answers (401, 403, 429) are made before any route runs, from callbacks that are
    not given the request.
    """

    def __init__(self, ctx: Context, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(None, status_code=status)
        self.ctx = ctx
        self.message = message
        self.extra_headers = dict(headers or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.ctx.error(scope["path"], self.status_code, self.message, headers=self.extra_headers)
        await response(scope, receive, send)


def api_route(ctx: Context, path: str, handler: Handler) -> Route:
    """A GET route whose handler returns JSON data or a `Reply`, or raises `RouteError`."""

    async def endpoint(request: Request) -> Response:
        call = Call(request.path_params, request.query_params, b"", request.scope.get(KEY_ID))
        try:
            result = handler(call)
        except RouteError as problem:
            detail = problem if isinstance(problem, ApiError) else ApiError(problem.status, problem.message)
            return ctx.error(
                request.url.path, detail.status, detail.message, location=detail.location, solution=detail.solution
            )
        if not isinstance(result, Reply):
            return json_response(result)
        if result.payload is None:
            return Response(status_code=result.status, headers=dict(result.headers))
        return json_response(result.payload, status=result.status, headers=result.headers)

    return Route(path, endpoint, methods=["GET"])


def iso(ts: int) -> str:
    """Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def wall(ts: int) -> str:
    """Unix seconds as `YYYY-MM-DD hh:mm:ss`, the skybackup `point_in_time` format."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def flag(call: Call, name: str) -> bool:
    """A boolean query parameter (`true`/`false`, `1`/`0`), False when absent; 400 otherwise."""
    raw = call.query.get(name, "").strip().lower()
    if raw in ("", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise ApiError(400, f"invalid {name} {raw!r}: must be true or false", location="query")


def token_list(ctx: Context, call: Call, kind: str, items: Sequence[Any], render: Callable[[Any], Any]) -> Reply:
    """One page of a /provisioning/v1 list: a bare array, the next page's token in a header.

    `page_size` is 1..100 (default 10), `page_order` asc or desc (by creation, the order of `items`),
    `page_token` resumes where the previous page ended. With page tokens off (`page_token_mode`
    "none") no token is given and any `page_token` sent is ignored: every request gets the first page.
    """
    size = parse_int(call.query, "page_size")
    size = DEFAULT_PAGE_SIZE if size is None else size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(400, f"invalid page_size {size}: must be between 1 and {MAX_PAGE_SIZE}")
    order = call.query.get("page_order") or "asc"
    if order not in ("asc", "desc"):
        raise ApiError(400, f"invalid page_order {order!r}: use asc or desc")
    total = len(items)
    scope = token_scope(kind, call.query, ignore=("page_token", "page_size"))
    start = 0
    token = call.query.get("page_token")
    if token and ctx.header_tokens:
        offset = ctx.tokens.read(scope, token)
        if offset is None:
            raise ApiError(400, "invalid page_token: it was not issued for this list and these parameters")
        start = min(offset, total)
    resume = ctx.tokens.empty_page(scope, start, total) if ctx.header_tokens else None
    if resume is not None:
        return _token_reply(ctx, kind, [], resume)
    stop = min(start + size, total)
    positions = range(start, stop) if order == "asc" else range(total - 1 - start, total - 1 - stop, -1)
    following = ctx.tokens.next_token(scope, token, start, stop, total) if ctx.header_tokens else ""
    return _token_reply(ctx, kind, [render(items[i]) for i in positions], following)


def _token_reply(ctx: Context, kind: str, records: list[Any], following: str) -> Reply:
    """A page of records with the next page's token where the context's mode puts it."""
    if ctx.token_mode == BODY_MODE:
        return Reply({"items": records, "next_page_token": following or None})
    if not following:
        return Reply(records)
    if ctx.token_mode == LINK_MODE:
        return Reply(records, headers={"Link": f'</provisioning/v1/{kind}?page_token={following}>; rel="next"'})
    return Reply(records, headers={PAGE_TOKEN_HEADER: following})


@dataclass(frozen=True)
class NumberPage:
    """A skybackup page: the slice [start, stop) in the requested order and the page count."""

    start: int
    stop: int
    pages: int
    descending: bool

    def positions(self, total: int) -> list[int]:
        """The ascending-order positions of the page's records, in the order they are answered."""
        if not self.descending:
            return list(range(self.start, self.stop))
        return [total - 1 - i for i in range(self.start, self.stop)]


def number_page(call: Call, total: int) -> NumberPage:
    """`page` (from 1) and `page_size` (from 1; above 100 is clamped, default 10), `order` asc/desc."""
    page = parse_int(call.query, "page")
    size = parse_int(call.query, "page_size")
    page = 1 if page is None else page
    size = DEFAULT_PAGE_SIZE if size is None else size
    if page < 1:
        raise ApiError(400, f"invalid page {page}: pages are numbered from 1")
    if size < 1:
        raise ApiError(400, f"invalid page_size {size}: must be at least 1")
    size = min(size, MAX_PAGE_SIZE)
    order = call.query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise ApiError(400, f"invalid order {order!r}: use asc or desc")
    start = min((page - 1) * size, total)
    return NumberPage(start, min(start + size, total), math.ceil(total / size), order == "desc")
