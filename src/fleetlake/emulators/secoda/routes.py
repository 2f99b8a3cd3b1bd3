"""The routes under `/api/v1`: the catalog, resource details, the entity lists, the audit logs, writes.

Paths answer with and without a trailing slash (the vendor's docs advise the slash). Writes are
validated and answered but not stored: the data stays a pure function of seed and clock.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.routing import BaseRoute

from fleetlake.emulators.core import RouteError
from fleetlake.emulators.secoda import records
from fleetlake.emulators.secoda.audit import audit_routes
from fleetlake.emulators.secoda.context import Context, SecodaCall, envelope, secoda_route
from fleetlake.emulators.secoda.data import TABLE, VIEW
from fleetlake.emulators.secoda.errors import NOT_FOUND
from fleetlake.emulators.secoda.ids import iso
from fleetlake.emulators.secoda.listings import Listing, Listings

PAGE_SIZE = 50
"""Entries per page of every list but the catalog: the vendor's samples show 315 items on 7 pages."""
CATALOG_PAGE_SIZE = 100
"""Resources per page of `resource/catalog`; the default 10,000 cap is then 100 pages."""
RESOURCE_PATCH = frozenset(
    {"title", "description", "definition", "owners", "tags", "collections", "published", "verified", "pii"}
)
TABLE_PATCH = frozenset({"description", "tags", "definition", "pii"})
TAG_POST = frozenset({"name", "description", "color"})


def _body(call: SecodaCall, allowed: frozenset[str]) -> dict[str, Any]:
    try:
        body = json.loads(call.body or b"{}")
    except ValueError:
        raise RouteError(400, "JSON parse error: the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise RouteError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise RouteError(400, f"unknown fields {unknown}: you can set {sorted(allowed)}")
    return body


def _found(index: int | None) -> int:
    if index is None:
        raise RouteError(404, NOT_FOUND)
    return index


def listing_routes(ctx: Context, listing: Listing) -> list[BaseRoute]:
    """A list and its `{id}` detail."""

    def many(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        items = listing.items(call, now_us)
        return envelope(
            ctx,
            call,
            count=len(items),
            size=PAGE_SIZE,
            results=lambda start, stop, page: [listing.render(items[k], now_us) for k in range(start, stop)],
            paged_out=listing.paged_out,
        )

    def one(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        return listing.render(_found(listing.lookup(call.path_params["item_id"], now_us)), now_us)

    return [*secoda_route(listing.path, many), *secoda_route(listing.path + "/{item_id}", one)]


def routes(ctx: Context) -> list[BaseRoute]:
    """Every route, relative to `/api/v1`."""
    data = ctx.data

    def catalog(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        query = call.query
        ordered = ctx.queries.ordered(query.get("filter", ""), query.get("sort", ""), query.get("teams", ""), now_us)
        count = len(ordered.order)

        def rows(start: int, stop: int, page: int) -> list[dict[str, Any]]:
            return [records.resource(data, i, now_us) for i in ctx.queries.page(ordered, start, stop, page)]

        return envelope(
            ctx, call, count=count, size=CATALOG_PAGE_SIZE, results=rows, served=min(count, ctx.catalog_cap)
        )

    def resource(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        return records.resource(data, _found(data.resource_index(call.path_params["item_id"], now_us)), now_us)

    def patch_resource(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        i = _found(data.resource_index(call.path_params["item_id"], now_us))
        changes = _body(call, RESOURCE_PATCH)
        return {**records.resource(data, i, now_us), **changes, "updated_at": iso(now_us)}

    def patch_table(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        i = _found(data.resource_index(call.path_params["item_id"], now_us))
        if data.arrays(now_us).ntype[i] not in (TABLE, VIEW):
            raise RouteError(404, NOT_FOUND)
        changes = _body(call, TABLE_PATCH)
        return {**records.table(data, i, now_us), **changes, "updated_at": iso(now_us)}

    def post_tag(call: SecodaCall) -> dict[str, Any]:
        body = _body(call, TAG_POST)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RouteError(400, "name: this field is required")
        now = iso(ctx.now_us())
        # a fresh id per name, beyond the seeded tags; nothing is stored
        index = 1 << 31 | data.hash(23, *name.encode()) & 0x7FFFFFFF
        return {
            "id": data.tag_ids.encode(index),
            "created_at": now,
            "updated_at": now,
            "name": name,
            "description": str(body.get("description", "")),
            "color": str(body.get("color", "#868E96")),
            "integration_id": None,
            "workspace_id": data.workspace_id,
        }

    def health(call: SecodaCall) -> dict[str, Any]:
        return {"status": "OK"}

    out: list[BaseRoute] = [
        *secoda_route("/healthcheck", health),
        *secoda_route("/resource/catalog", catalog),
        *secoda_route("/resource/all/{item_id}", resource),
        *secoda_route("/resource/all/{item_id}", patch_resource, methods=("PATCH",)),
        *secoda_route("/table/tables/{item_id}", patch_table, methods=("PATCH",)),
        *secoda_route("/tag", post_tag, methods=("POST",), status=201),
        *audit_routes(ctx),
    ]
    listings = Listings(ctx).rows()
    for listing in listings:
        out += listing_routes(ctx, listing)
    # the seed page names the documents list plain `/document`
    documents = next(item for item in listings if item.path == "/document/documents")
    out += listing_routes(ctx, Listing("/document", documents.items, documents.render, documents.lookup))[:2]
    return out
