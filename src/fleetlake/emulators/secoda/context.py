"""What every Secoda route needs: the workspace, the clocks, the page envelope and the next links.

Route handlers get a `SecodaCall`, which unlike the core's `Call` also carries the request's path
and origin: the envelope's `links.next` is an absolute URL, so the handler must know where it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleetlake.emulators.core import KEY_ID, Clock, Payload, RouteError, json_response
from fleetlake.emulators.faults import paging_fault
from fleetlake.emulators.secoda.data import SecodaData
from fleetlake.emulators.secoda.errors import detail
from fleetlake.emulators.secoda.query import CatalogQueries

PREFIX = "/api/v1"
WRITES = frozenset({"POST", "PUT", "PATCH"})
LINK_STYLES = ("canonical", "vendor")
VENDOR_HOST = "https://api.secoda.co"


@dataclass
class Context:
    """Shared state of one Secoda emulator."""

    data: SecodaData
    clock: Clock
    next_link_style: str = "canonical"
    """"canonical": links to this server under /api/v1; "vendor": to `vendor_host`, as the docs' samples."""
    vendor_host: str = VENDOR_HOST
    catalog_cap: int = 10_000
    queries: CatalogQueries = field(init=False)

    def __post_init__(self) -> None:
        self.queries = CatalogQueries(self.data)

    def now_us(self) -> int:
        """The data clock in unix microseconds."""
        now = self.clock.now()
        return int(now.timestamp()) * 1_000_000 + now.microsecond


@dataclass(frozen=True)
class SecodaCall:
    """What a Secoda handler gets: the core's call plus the path and origin the request came to."""

    path_params: Mapping[str, str]
    query: QueryParams
    body: bytes
    key_id: str | None
    path: str
    origin: str
    """`http://127.0.0.1:PORT`, from the request's Host header."""


Handler = Callable[[SecodaCall], Payload]


def secoda_route(path: str, handler: Handler, *, methods: Sequence[str] = ("GET",), status: int = 200) -> list[Route]:
    """Routes for `path` with and without a trailing slash; a `RouteError` answers `{"detail": ...}`."""

    async def endpoint(request: Request) -> Response:
        body = await request.body() if request.method in WRITES else b""
        url = request.url
        call = SecodaCall(
            request.path_params,
            request.query_params,
            body,
            request.scope.get(KEY_ID),
            request.scope["path"],
            f"{url.scheme}://{url.netloc}",
        )
        try:
            return json_response(handler(call), status=status)
        except RouteError as problem:
            return json_response(detail(problem.message), status=problem.status)

    bare = path.rstrip("/")
    return [Route(bare, endpoint, methods=list(methods)), Route(bare + "/", endpoint, methods=list(methods))]


def page_number(query: QueryParams) -> int:
    """The `page` parameter (1 when absent); anything but a positive integer is Django's 404."""
    raw = query.get("page")
    if raw is None or raw == "":
        return 1
    try:
        page = int(raw)
    except ValueError:
        raise RouteError(404, "Invalid page.") from None
    if page < 1:
        raise RouteError(404, "Invalid page.")
    return page


def page_link(ctx: Context, call: SecodaCall, page: int) -> str:
    """The absolute URL of another page of the same list, in the emulator's link style."""
    others = [(k, v) for k, v in call.query.multi_items() if k != "page"]
    if ctx.next_link_style == "vendor":
        # the docs' samples: the API host without /api/v1, a trailing slash, page first
        path = call.path.removeprefix(PREFIX).rstrip("/") + "/"
        return f"{ctx.vendor_host}{path}?{urlencode([('page', str(page)), *others])}"
    items: list[tuple[str, str]] = []
    placed = False
    for k, v in call.query.multi_items():
        if k != "page":
            items.append((k, v))
        elif not placed:
            items.append(("page", str(page)))
            placed = True
    if not placed:
        items.append(("page", str(page)))
    return f"{call.origin}{call.path}?{urlencode(items)}"


def envelope(
    ctx: Context,
    call: SecodaCall,
    *,
    count: int,
    size: int,
    results: Callable[[int, int, int], list[dict[str, Any]]],
    served: int | None = None,
    paged_out: bool = False,
) -> dict[str, Any]:
    """One page of a list: `{links, meta, count, total_pages, results}`.

    `results(start, stop, page)` renders the page's records. `served` (default `count`) caps how
    many records the pages reach, as the catalog's 10,000; `count` still reports the true total.
    `paged_out` gives the newer `v1_PagedTeamOut` shape (teams, lineage): results first, and the
    count and page total repeated in `meta`.
    """
    served = count if served is None else served
    page = page_number(call.query)
    pages = max(1, -(-served // size))
    if page > pages:
        raise RouteError(404, "Invalid page.")
    start = (page - 1) * size
    rows = results(start, min(start + size, served), page)
    # the vendor's samples print Python's None for "no previous page"
    none: str | None = "None" if ctx.next_link_style == "vendor" else None
    following = page + 1 if page < pages else None
    fault = paging_fault()
    if fault is not None and fault.kind == "loop":
        # a next link back to the page just answered
        fault.applied = True
        following = page
    preceding = page - 1 if page > 1 else None
    links = {
        "next": page_link(ctx, call, following) if following else None,
        "previous": page_link(ctx, call, preceding) if preceding else none,
    }
    meta: dict[str, Any] = {"page": page, "previous_page": preceding or none, "next_page": following}
    if paged_out:
        return {
            "results": rows,
            "count": count,
            "total_pages": pages,
            "meta": {**meta, "count": count, "total_pages": pages},
            "links": {"previous": links["previous"], "next": links["next"]},
        }
    return {"links": links, "meta": meta, "count": count, "total_pages": pages, "results": rows}
