"""`billing.tidbapi.com/v1beta1`: monthly bills, daily bill details, the cost explorer and its args.

Shapes follow tidb-cloud-billing-v1beta1-openapi-original.json; amounts are strings with two
decimals. A month is the current month of the data clock or one of the 6 before it; the current
month runs up to the clock's day. Every amount derives from one daily charge per cluster, billing
line and day (`TiDBData.daily_cents`), so bills, details and the explorer agree to the cent.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.seeded import mix
from fleetlake.emulators.tidb_cloud import catalog
from fleetlake.emulators.tidb_cloud.context import Context
from fleetlake.emulators.tidb_cloud.data import DAY
from fleetlake.emulators.tidb_cloud.errors import iam_error

PREFIX = "/billing/v1beta1"
MONTHS_BACK = 6
GROUP_KEYS = ("service", "product", "project", "cluster", "provider", "region")
GRANULARITIES = ("day", "month", "total")
SUPPORT_PLAN_CENTS = 2900
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def money(cents: int) -> str:
    """Cents as the vendor's amount string: `1234.56`."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _amounts(running: int, credits: int = 0, discounts: int = 0) -> dict[str, str]:
    return {
        "credits": money(credits),
        "discounts": money(discounts),
        "runningTotal": money(running),
        "totalCost": money(running - credits - discounts),
    }


def available_months(now: int) -> list[tuple[int, int]]:
    """The months billing answers for at `now`: the oldest first, the current one last."""
    today = datetime.fromtimestamp(now, UTC)
    index = today.year * 12 + today.month - 1
    return [divmod(i, 12) for i in range(index - MONTHS_BACK, index + 1)]


def _label(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1] + 1:02d}"


def parse_month(text: str, now: int) -> tuple[int, int]:
    """(year, zero-based month) of a `YYYY-MM` path segment, or a 400 explaining the accepted range."""
    months = available_months(now)
    window = f"{_label(months[0])} to {_label(months[-1])}"
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise RouteError(400, f"invalid billedMonth {text!r}: use the YYYY-MM format, for example {_label(months[-1])}")
    month = (int(match.group(1)), int(match.group(2)) - 1)
    if month > months[-1]:
        raise RouteError(400, f"billedMonth {text} is in the future: bills are available from {window}")
    if month < months[0]:
        raise RouteError(
            400,
            f"billedMonth {text} is more than {MONTHS_BACK} months ago: bills are available from {window}",
        )
    return month


def month_days(month: tuple[int, int], now: int) -> range:
    """The unix day numbers a month's bill covers: the whole month, or up to today for the current one."""
    year, zero_month = month
    first = date(year, zero_month + 1, 1).toordinal() - date(1970, 1, 1).toordinal()
    last = first + calendar.monthrange(year, zero_month + 1)[1] - 1
    return range(first, min(last, now // DAY) + 1)


@dataclass(frozen=True)
class Charge:
    """One daily charge: cluster, billing line index and day, in cents."""

    day: int
    cluster: int
    path: int
    cents: int


def charges(ctx: Context, days: range, clusters: list[int] | None = None) -> Iterator[Charge]:
    """Every charge of the billed clusters on `days`, by day, cluster and billing line."""
    data = ctx.data
    billed = clusters if clusters is not None else [g for g in range(data.cluster_count) if data.billed(g)]
    created = {g: data.cluster(g).created // DAY for g in billed}
    for day in days:
        for g in billed:
            if created[g] > day:
                continue
            for path in range(len(data.cluster(g).paths)):
                yield Charge(day, g, path, data.daily_cents(g, path, day))


def detail_count(ctx: Context, days: range) -> int:
    """How many bill detail rows `days` hold, without computing amounts."""
    data = ctx.data
    total = 0
    for g in range(data.cluster_count):
        if data.billed(g):
            c = data.cluster(g)
            total += len(c.paths) * max(0, days.stop - max(days.start, c.created // DAY))
    return total


def _day(day: int) -> str:
    return date.fromordinal(day + date(1970, 1, 1).toordinal()).isoformat()


def bill(ctx: Context, month: tuple[int, int]) -> dict[str, Any]:
    """The monthly bill: overview, summary by project and by service."""
    data = ctx.data
    by_project: dict[int, int] = {}
    by_service: dict[str, dict[str, int]] = {}
    for charge in charges(ctx, month_days(month, ctx.now())):
        line = data.cluster(charge.cluster).paths[charge.path]
        project = data.project_of(charge.cluster)
        by_project[project] = by_project.get(project, 0) + charge.cents
        lines = by_service.setdefault(line.product, {})
        label = " - ".join(p for p in (line.category, line.component) if p)
        lines[label] = lines.get(label, 0) + charge.cents
    running = sum(by_project.values()) + SUPPORT_PLAN_CENTS
    credits = min(running, 10_000) if mix(data.seed, "credits", *month) % 3 == 0 else 0
    discounts = (running - credits) * 5 // 100
    return {
        "overview": {"billedMonth": _label(month), **_amounts(running, credits, discounts)},
        "summaryByProject": {
            "otherCharges": [{"chargeName": "Support Plan", **_amounts(SUPPORT_PLAN_CENTS)}],
            "projects": [
                {**_amounts(cents), "projectName": data.project(p).name} for p, cents in sorted(by_project.items())
            ],
        },
        "summaryByService": [
            {
                **_amounts(sum(lines.values())),
                "serviceCosts": [{**_amounts(cents), "serviceName": name} for name, cents in sorted(lines.items())],
                "serviceName": product,
            }
            for product, lines in sorted(by_service.items())
        ],
    }


def bill_details(ctx: Context, month: tuple[int, int]) -> list[dict[str, Any]]:
    """One row per day, cluster and billing line of the month."""
    data = ctx.data
    rows = []
    for charge in charges(ctx, month_days(month, ctx.now())):
        c = data.cluster(charge.cluster)
        rows.append(
            {
                "billedDate": _day(charge.day),
                "clusterName": c.name,
                **_amounts(charge.cents),
                "projectName": data.project(c.project).name,
                "servicePathName": c.paths[charge.path].name,
            }
        )
    return rows


def _group(ctx: Context, charge: Charge, keys: list[str]) -> tuple[str, str]:
    data = ctx.data
    c = data.cluster(charge.cluster)
    line = c.paths[charge.path]
    parts = []
    for key in keys:
        if key == "service":
            parts.append((line.name, line.name))
        elif key == "product":
            parts.append((line.product, line.product))
        elif key == "project":
            project = data.project(c.project)
            parts.append((project.id, project.name))
        elif key == "cluster":
            parts.append((c.id, c.name))
        elif key == "provider":
            parts.append((c.region.provider, c.region.provider.upper()))
        else:
            parts.append((c.region.region_id, c.region.display_name))
    return "|".join(k for k, _ in parts), " / ".join(n for _, n in parts)


def _date(value: Any, name: str) -> int:
    if not isinstance(value, str) or not _DATE.match(value):
        raise RouteError(400, f"invalid filter.timeRange.{name} {value!r}: use YYYY-MM-DD")
    try:
        return date.fromisoformat(value).toordinal() - date(1970, 1, 1).toordinal()
    except ValueError:
        raise RouteError(400, f"invalid filter.timeRange.{name} {value!r}: not a calendar date") from None


def _list(container: dict[str, Any], name: str) -> list[Any]:
    value = container.get(name) or []
    if not isinstance(value, list):
        raise RouteError(400, f"invalid {name}: must be a list")
    return value


def cost_explorer(ctx: Context, body: bytes) -> dict[str, Any]:
    """Answer a forms.TrendsInput query with forms.BillsCostExplorer."""
    data = ctx.data
    now = ctx.now()
    try:
        query = json.loads(body or b"{}")
    except ValueError:
        raise RouteError(400, "invalid request body: not JSON") from None
    if not isinstance(query, dict):
        raise RouteError(400, "invalid request body: expected a JSON object (forms.TrendsInput)")
    filters = query.get("filter") or {}
    groups = query.get("groups") or {}
    if ctx.shape == "seed":
        # the seed's OpenAPI file: `groups` is a list of dimension names, results per day
        if not isinstance(groups, list):
            raise RouteError(400, "invalid request body: groups must be an array of dimensions (CostExplorerRequest)")
        groups = {"groupBy": [str(g) for g in groups], "timeGranularity": "day"}
    if not isinstance(filters, dict) or not isinstance(groups, dict):
        raise RouteError(400, "invalid request body: filter and groups must be objects")
    months = available_months(now)
    earliest = month_days(months[0], now).start
    today = now // DAY
    time_range = filters.get("timeRange") or {}
    if not isinstance(time_range, dict):
        raise RouteError(400, "invalid filter.timeRange: must be an object with startDate and endDate")
    start = (
        _date(time_range["startDate"], "startDate") if "startDate" in time_range else month_days(months[-1], now).start
    )
    end = _date(time_range["endDate"], "endDate") if "endDate" in time_range else today
    if start > end:
        raise RouteError(400, "invalid filter.timeRange: startDate is after endDate")
    if start < earliest:
        raise RouteError(
            400, f"invalid filter.timeRange: data is kept from {_day(earliest)}, {MONTHS_BACK} months back"
        )
    if start > today:
        raise RouteError(400, "invalid filter.timeRange: startDate is in the future")
    end = min(end, today)
    granularity = groups.get("timeGranularity") or "month"
    if granularity not in GRANULARITIES:
        raise RouteError(400, f"invalid groups.timeGranularity {granularity!r}: use day, month or total")
    keys = _list(groups, "groupBy")
    if any(key not in GROUP_KEYS for key in keys):
        raise RouteError(400, f"invalid groups.groupBy {keys!r}: use {', '.join(GROUP_KEYS)}")

    projects = {str(p) for p in _list(filters, "projects")}
    cluster_ids = {str(c) for c in _list(filters, "clusters")}
    providers = [p for p in _list(filters, "providers") if isinstance(p, dict)]
    services = [s for s in _list(filters, "services") if isinstance(s, dict)]

    def cluster_ok(g: int) -> bool:
        c = data.cluster(g)
        if projects and data.project(c.project).id not in projects:
            return False
        if cluster_ids and c.id not in cluster_ids:
            return False
        return not providers or any(
            p.get("name") == c.region.provider
            and (not p.get("regions") or {c.region.region_id, c.region.code} & set(p["regions"]))
            for p in providers
        )

    def line_ok(line: catalog.ServicePath) -> bool:
        return not services or any(
            all(
                not s.get(field) or s[field] == value
                for field, value in (
                    ("product", line.product),
                    ("category", line.category),
                    ("component", line.component),
                    ("service", line.name),
                )
            )
            for s in services
        )

    def bucket(day: int) -> str:
        if granularity == "day":
            return _day(day)
        if granularity == "month":
            return _day(day)[:7]
        return f"{_day(start)}/{_day(end)}"

    days = range(start, end + 1)
    order = list(dict.fromkeys(bucket(d) for d in days))
    totals = dict.fromkeys(order, 0)
    breakdown: dict[str, dict[tuple[str, str], int]] = {b: {} for b in order}
    clusters = [g for g in range(data.cluster_count) if data.billed(g) and cluster_ok(g)]
    for charge in charges(ctx, days, clusters):
        if not line_ok(data.cluster(charge.cluster).paths[charge.path]):
            continue
        label = bucket(charge.day)
        totals[label] += charge.cents
        if keys:
            group = _group(ctx, charge, keys)
            breakdown[label][group] = breakdown[label].get(group, 0) + charge.cents
    elements = [
        {
            "billedDate": label,
            "breakdown": [
                {"billedDate": label, **_amounts(cents), "detailKey": key, "detailName": name}
                for (key, name), cents in sorted(breakdown[label].items())
            ],
            **_amounts(totals[label]),
        }
        for label in order
    ]
    if ctx.shape == "seed":
        return {"trends": [{"date": e["billedDate"], "cost": e["totalCost"]} for e in elements]}
    return {**_amounts(sum(totals.values())), "elements": elements}


def explorer_args(ctx: Context) -> dict[str, Any]:
    """forms.TrendsArgs: what the cost explorer can be filtered by."""
    data = ctx.data
    now = ctx.now()
    providers: dict[str, list[str]] = {}
    for region in catalog.DEDICATED_REGIONS + catalog.SERVERLESS_REGIONS:
        regions = providers.setdefault(region.provider, [])
        if region.region_id not in regions:
            regions.append(region.region_id)
    return {
        "clusters": [
            {
                "ProjectID": data.project(c.project).id,
                "id": c.id,
                "name": c.name,
                "regionName": c.region.region_id,
                "status": data.state(g, now),
            }
            for g in range(data.cluster_count)
            if data.billed(g)
            for c in (data.cluster(g),)
        ],
        "projects": [
            {"id": data.project(p).id, "name": data.project(p).name, "status": "ACTIVE"}
            for p in range(data.scale.projects)
        ],
        "providers": [{"name": name, "regions": regions} for name, regions in providers.items()],
        "services": [
            {
                "category": line.category,
                "component": line.component,
                "product": line.product,
                "service": line.name,
            }
            for line in catalog.ALL_PATHS
        ],
    }


def routes(ctx: Context) -> list[Route]:
    """The billing v1beta1 routes, relative to `/billing/v1beta1`."""

    def bills(call: Call) -> dict[str, Any]:
        ctx.require_billing_role(call.key_id)
        return bill(ctx, parse_month(call.path_params["billedMonth"], ctx.now()))

    def details(call: Call) -> dict[str, Any]:
        ctx.require_billing_role(call.key_id)
        rows = bill_details(ctx, parse_month(call.path_params["billedMonth"], ctx.now()))
        return {"billsDetails" if ctx.shape == "seed" else "details": rows}

    def explorer(call: Call) -> dict[str, Any]:
        ctx.require_billing_role(call.key_id)
        return cost_explorer(ctx, call.body)

    def args(call: Call) -> dict[str, Any]:
        ctx.require_billing_role(call.key_id)
        return explorer_args(ctx)

    return [
        route("/bills/{billedMonth}", bills, iam_error),
        route("/billsDetails/{billedMonth}", details, iam_error),
        route("/billsCostExplorer", explorer, iam_error, methods=["POST"]),
        route("/billsCostExplorer/args", args, iam_error),
    ]
