"""The audit log, served twice from the same entries (ids, times, events, resources, users).

- `/activity_log/audit_logs/`, the vendor's "List Audit Logs" (https://docs.secoda.co/api/reference/
  audit-logs): `filter`, `sort` and `page`, no page size. `../shared/specs/secoda-api-endpoints.md` does
  not describe this endpoint, so it answers the envelope that file gives every list
  (`{links, meta, count, total_pages, results}`), in the newer paged order the vendor's sample opens
  with (`results` first, as teams and lineage).
- `/notification/workspace/`, the older list of `secoda/gitbook` `features/audit-log.md`: `days`,
  `page` and `page_size`, answering `{count, next, previous, results}`; newest first.

A workspace without the documented endpoint is a 404 fault on its path
(`parse_fault("404@/api/v1/activity_log/audit_logs/")`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute

from fleetlake.emulators.core import RouteError
from fleetlake.emulators.secoda import records
from fleetlake.emulators.secoda.context import Context, SecodaCall, envelope, page_link, page_number, secoda_route
from fleetlake.emulators.secoda.data import AUDIT_DAYS
from fleetlake.emulators.secoda.query import FieldTest, Predicate, SortKey, parse_filter, parse_sort, select, text_test

AUDIT_LOGS_PAGE_SIZE = 50
"""Entries per page of `/activity_log/audit_logs/`: no page size is documented, so every list's 50."""
NOTIFICATIONS_PAGE_SIZE = 50
NOTIFICATIONS_MAX_PAGE_SIZE = 100
FILTER_FIELDS = (
    "id",
    "activity_type",
    "performer_id",
    "performer_type",
    "resource_id",
    "resource_type",
    "created_at",
    "logged_at",
    "updated_at",
)
"""What a filter may test: the catalog's operators ("the same pattern as catalog filters", says the
vendor's page), so no comparisons and no time ranges; `contains` on a time (`"2026-11"`) is the closest."""
SORT_FIELDS = ("created_at", "logged_at", "updated_at")
NEWEST_FIRST = (SortKey("created_at", True),)
"""The default order is not documented; the emulator answers newest first, as the older list does."""


def _int(call: SecodaCall, name: str) -> int | None:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise RouteError(400, f"{name} must be an integer, got {raw!r}") from None


def audit_routes(ctx: Context) -> list[BaseRoute]:
    """Both audit log lists, relative to `/api/v1`."""
    data = ctx.data

    def tested(test: FieldTest) -> Predicate:
        field = test.field
        return text_test(test, lambda e: records.audit_log(data, e).get(field))

    def audit_logs(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        node = parse_filter(call.query.get("filter"), FILTER_FIELDS)
        keys = parse_sort(call.query.get("sort"), SORT_FIELDS, NEWEST_FIRST)
        # every sort field is the entry's time, which grows with the entry's number: the first key decides
        entries = data.audit_range(now_us, AUDIT_DAYS)
        order = list(reversed(entries)) if keys[0].descending else list(entries)
        if node is not None:
            order = select(node, order, tested)

        def rows(start: int, stop: int, page: int) -> list[dict[str, Any]]:
            return [records.audit_log(data, order[k]) for k in range(start, stop)]

        return envelope(ctx, call, count=len(order), size=AUDIT_LOGS_PAGE_SIZE, results=rows, paged_out=True)

    def notifications(call: SecodaCall) -> dict[str, Any]:
        now_us = ctx.now_us()
        days = _int(call, "days")
        days = AUDIT_DAYS if days is None else days
        if days < 1:
            raise RouteError(400, f"days must be between 1 and {AUDIT_DAYS}, got {days}")
        # the log keeps 90 days: asking for more gives what there is
        entries = data.audit_range(now_us, min(days, AUDIT_DAYS))
        size = _int(call, "page_size")
        size = NOTIFICATIONS_PAGE_SIZE if size is None or size < 1 else min(size, NOTIFICATIONS_MAX_PAGE_SIZE)
        page = page_number(call.query)
        pages = max(1, -(-len(entries) // size))
        if page > pages:
            raise RouteError(404, "Invalid page.")
        start = (page - 1) * size
        newest_first = [entries[len(entries) - 1 - k] for k in range(start, min(start + size, len(entries)))]
        return {
            "count": len(entries),
            "next": page_link(ctx, call, page + 1) if page < pages else None,
            "previous": page_link(ctx, call, page - 1) if page > 1 else None,
            "results": [records.audit_entry(data, e) for e in newest_first],
        }

    handlers: dict[str, Callable[[SecodaCall], dict[str, Any]]] = {
        "/activity_log/audit_logs": audit_logs,
        "/notification/workspace": notifications,
    }
    return [route for path, handler in handlers.items() for route in secoda_route(path, handler)]
