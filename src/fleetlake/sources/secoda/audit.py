"""Secoda's audit log: the documented `/activity_log/audit_logs/` first, the older `/notification/workspace/`
where a workspace answers it 404.

Both lists hold the same entries under the same ids; records of the documented one are renamed to the
older one's fields (`as_notification`), so a workspace moving from one to the other between runs merges
onto the same rows, under the same `created_at` cursor.

What the documents say: `../shared/specs/secoda-api-endpoints.md` describes only `/notification/workspace/`
(`days`, `page`, `page_size`; `{count, next, previous, results}`). It is silent on
`/activity_log/audit_logs/`: its envelope is taken to be the one the file gives every list ("every list
returns the envelope above unless noted": `{links: {next, previous}, meta, count, total_pages, results}`),
its record fields are those of the vendor's "List Audit Logs" sample (https://docs.secoda.co/api/reference/
audit-logs), which that file does not carry. The vendor's page documents `filter` and `sort` as "the same
pattern as catalog filters", whose operators (exact, contains, in, is_set) have no comparison: there is no
documented way to ask for entries newer than a time. So the list is asked newest first (`sort`, the
catalog's `{field, order}` shape) and filtered here, and a re-run stops at the first page reaching back
past its cursor.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from math import ceil
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from fleetlake import clock
from fleetlake.errors import ApiError
from fleetlake.sources.endpoints import ApiClient, incremental
from fleetlake.sources.lists import Endpoint

logger = logging.getLogger("fleetlake.sources.secoda")

AUDIT_LOGS = Endpoint("audit_log", "base_url", "activity_log/audit_logs/", ("results",), "next", ("id",),
                      "audit log", timestamps=("created_at", "logged_at", "updated_at"), total="count")  # fmt: skip
NOTIFICATIONS = Endpoint("audit_log", "base_url", "notification/workspace/", ("results",), "sized", ("id",),
                         "audit log", timestamps=("created_at",))  # fmt: skip
FALLBACK_STATUSES = frozenset({400, 404, 405, 422})
"""First-page answers of the documented list that send the read to the older one."""
NEWEST_FIRST = json.dumps({"field": "created_at", "order": "desc"}, separators=(",", ":"))
# text fields of the documented sample that may be null on every entry of a run: typed, so dlt creates
# them (and does not warn each run that it could not)
NULLABLE_TEXT = ("parent_id", "related_resource_type", "version_history_id")


def as_notification(record: Mapping[str, Any]) -> dict[str, Any]:
    """An entry of `/activity_log/audit_logs/` under the fields `/notification/workspace/` gives it.

    `activity_type` becomes `event`; `performer_metadata` (id, name, email...) becomes `performer`, its
    `id` the entry's `performer_id`. A record that already has `event` or `performer` keeps them.
    """
    out = dict(record)
    if "event" not in out and "activity_type" in out:
        out["event"] = out.pop("activity_type")
    if "performer" not in out and ("performer_id" in out or "performer_metadata" in out):
        metadata = out.pop("performer_metadata", None)
        performer = dict(metadata) if isinstance(metadata, Mapping) else {}
        performer_id = out.pop("performer_id", None)
        performer["id"] = performer_id if performer_id not in (None, "") else performer.get("id")
        out["performer"] = performer
    return out


def _older(record: Mapping[str, Any], bound: datetime) -> bool:
    moment = record.get("created_at")
    return isinstance(moment, datetime) and moment < bound


def _documented(client: ApiClient, bound: datetime) -> Iterator[list[dict[str, Any]]]:
    """Entries since `bound`, newest first, ending at the first page that reaches back past it.

    Stopping early needs the answer to really be newest first: if a page is not, every page is read
    and the entries filtered all the same.
    """
    last: datetime | None = None
    in_order = True
    for page in client.pages(AUDIT_LOGS, AUDIT_LOGS.path, {"sort": NEWEST_FIRST}):
        rows = client.shape(AUDIT_LOGS, [as_notification(record) for record in page])
        for row in rows:
            moment = row.get("created_at")
            if isinstance(moment, datetime):
                if in_order and last is not None and moment > last:
                    in_order = False
                    logger.info("audit_log: %s is not newest first; every page is read", AUDIT_LOGS.path)
                last = moment
        yield [row for row in rows if not _older(row, bound)]
        if in_order and last is not None and last < bound:
            return


def _notifications(client: ApiClient, days_kept: int, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
    days = days_kept
    if since is not None:
        # ask only for the days since the last event
        elapsed = (clock.now() - since).total_seconds() / 86400
        days = max(1, min(days_kept, ceil(elapsed) + 1))
    for page in client.pages(NOTIFICATIONS, NOTIFICATIONS.path, {"days": days}):
        yield client.shape(NOTIFICATIONS, page)


def audit_log_resource(client: ApiClient, days_kept: int) -> DltResource:
    """The `audit_log` table, incremental on `created_at` whichever list answers."""

    def audit_log(
        # no row_order: `_documented` stops by itself, and the older list's order is not documented
        created: dlt.sources.incremental[datetime] = incremental("created_at"),  # noqa: B008
    ) -> Iterator[list[dict[str, Any]]]:
        since = created.last_value
        bound = since if since is not None else clock.now() - timedelta(days=days_kept)
        pages = 0
        try:
            for page in _documented(client, bound):
                pages += 1
                yield page
            return
        except ApiError as error:
            # only the first page decides: a refusal past it is a list that changed while read. Besides a
            # 404 (no such endpoint), a workspace may refuse the `sort` this asks with (its shape is the
            # catalog's, which the audit log's page only says it "follows"): the older list then answers
            if error.status not in FALLBACK_STATUSES or pages:
                raise
            status = error.status
        logger.warning(
            "audit_log: %s answered %s %s: this workspace does not offer the documented audit log endpoint (or not "
            "as asked), so the audit log is read from %s instead (the same entries, under the same cursor).",
            AUDIT_LOGS.path,
            status,
            HTTPStatus(status).phrase,
            NOTIFICATIONS.path,
        )
        yield from _notifications(client, days_kept, since)

    return dlt.resource(
        client.guard("audit_log", audit_log),
        name="audit_log",
        primary_key="id",
        write_disposition="merge",
        columns={name: {"data_type": "text"} for name in NULLABLE_TEXT},
    )
