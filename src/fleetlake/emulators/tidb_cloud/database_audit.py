"""The database audit log of Starter/Essential clusters, and the regions that offer them.

Shapes follow tidbcloud-cli/serverless-auditlog.swagger.json (`/v1beta1/clusters/{clusterId}/auditLog/
config`, `filterRules`, `files`, paged by `pageSize`/`pageToken`) and serverless-cluster.swagger.json
(`/regions`). Storage secrets (access key secrets, service account keys, SAS tokens) are input-only:
never answered. A file's `url` is a short-lived signed download link.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import token_page, token_scope
from fleetlake.emulators.seeded import mix, rng
from fleetlake.emulators.tidb_cloud import catalog
from fleetlake.emulators.tidb_cloud.context import Context, day_string, iso
from fleetlake.emulators.tidb_cloud.data import DAY, HOUR
from fleetlake.emulators.tidb_cloud.errors import rpc_error

FILE_DAYS = 3
"""Days of audit log files a cluster that keeps them in TiDB Cloud lists."""
PLANS = ("Starter", "Essential")


def regions_json() -> list[dict[str, Any]]:
    """The regions that offer Starter and Essential clusters."""
    return [
        {
            "name": f"regions/{region.region_id}",
            "regionId": region.region_id,
            "cloudProvider": region.provider,
            "displayName": region.display_name,
            "provider": region.provider,
            "servicePlans": list(PLANS),
        }
        for region in catalog.SERVERLESS_REGIONS
    ]


def config_json(ctx: Context, g: int) -> dict[str, Any]:
    """The audit log configuration of Starter/Essential cluster `g`: on for about half of them."""
    data = ctx.data
    c = data.cluster(g)
    r = rng(data.seed, "db-audit", g)
    enabled = r.random() < 0.6
    storage: dict[str, Any] = {"type": "TIDB_CLOUD"}
    if enabled and r.random() < 0.3:
        account = r.randint(10**11, 10**12 - 1)
        storage = {
            "type": "S3",
            "s3": {
                "uri": f"s3://{c.name.split('-')[1]}-audit-{r.randint(100, 999)}/tidb/",
                "authType": "ROLE_ARN",
                "roleArn": f"arn:aws:iam::{account}:role/tidb-cloud-audit-log",
            },
        }
    return {
        "clusterId": c.id,
        "enabled": enabled,
        "unredacted": False,
        "cloudStorage": storage,
        "rotationIntervalMinutes": 60,
        "rotationSizeMib": 100,
    }


def filter_rules(ctx: Context, g: int) -> list[dict[str, Any]]:
    """The audit log filter rules of cluster `g`, oldest first."""
    data = ctx.data
    c = data.cluster(g)
    out = []
    for k in range(rng(data.seed, "db-audit-rules", g).choice((0, 1, 1, 2))):
        r = rng(data.seed, "db-audit-rule", g, k)
        created = r.randint(c.created + DAY, data.t0 - DAY)
        classes = ["QUERY_DDL", "QUERY_DCL"] if k == 0 else ["CONNECTION", "QUERY_DML"]
        out.append(
            {
                "filterRuleId": str(10**15 + mix(data.seed, "db-audit-rule-id", g, k) % (9 * 10**15)),
                "clusterId": c.id,
                "displayName": ("ddl-and-grants", "logins-and-writes")[k],
                "users": ["%@%"] if k == 0 else [f"{c.user_prefix}.app@%"],
                "filters": [{"classes": classes, "tables": ["*.*"] if k == 0 else ["app.*"]}],
                "disabled": r.random() < 0.2,
                "createTime": iso(created),
                "updateTime": iso(created + r.randint(0, 30 * DAY)),
            }
        )
    return out


def files(ctx: Context, g: int) -> list[dict[str, Any]]:
    """The audit log files of cluster `g` kept in TiDB Cloud: one per day of the last `FILE_DAYS`, oldest first."""
    config = config_json(ctx, g)
    if not config["enabled"] or config["cloudStorage"]["type"] != "TIDB_CLOUD":
        return []
    data, now = ctx.data, ctx.now()
    c = data.cluster(g)
    out = []
    for back in range(FILE_DAYS, 0, -1):
        day = (now // DAY - back) * DAY
        created = day + DAY - HOUR + mix(data.seed, "db-audit-file", g, day) % HOUR
        name = f"{day_string(day)}/tidb-audit-{c.id}-{time_tag(created)}.log"
        signature = f"{mix(data.seed, 'db-audit-url', g, day, now // HOUR):016x}"
        out.append(
            {
                "name": name,
                "sizeBytes": (1 << 20) + mix(data.seed, "db-audit-size", g, day) % (90 << 20),
                "url": f"https://auditlog.{c.region.code}.tidbcloud.com/{name}?Expires=3600&Signature={signature}",
                "createTime": iso(created),
            }
        )
    return out


def time_tag(ts: int) -> str:
    return iso(ts).replace("-", "").replace(":", "")


def routes(ctx: Context, cluster: Any) -> list[Route]:
    """The routes of this module, relative to `/serverless/v1beta1`; `cluster` reads a call's
    Starter/Essential cluster index (404 when unknown)."""

    def regions(call: Call) -> dict[str, Any]:
        provider, plan = call.query.get("cloudProvider"), call.query.get("servicePlan")
        if plan and plan not in ("Starter", "Essential", "Premium", "BYOC"):
            raise RouteError(400, f"invalid servicePlan {plan!r}: use Starter, Essential, Premium or BYOC")
        items = [
            region
            for region in regions_json()
            if (not provider or region["cloudProvider"] == provider) and (not plan or plan in region["servicePlans"])
        ]
        return {"regions": items}

    def config(call: Call) -> dict[str, Any]:
        return config_json(ctx, cluster(ctx, call))

    def rules(call: Call) -> dict[str, Any]:
        g = cluster(ctx, call)
        items = filter_rules(ctx, g)
        page = token_page(call.query, ctx.tokens, token_scope(f"serverless/{g}/auditLogFilterRules", call.query),
                          len(items))  # fmt: skip
        return {
            "filterRules": [items[i] for i in page.slice.indices()],
            "nextPageToken": page.next_token,
            "totalSize": len(items),
        }

    def list_files(call: Call) -> dict[str, Any]:
        g = cluster(ctx, call)
        items = files(ctx, g)
        date = call.query.get("date")
        if date:
            items = [item for item in items if item["name"].startswith(date + "/")]
        page = token_page(call.query, ctx.tokens, token_scope(f"serverless/{g}/auditLogFiles", call.query),
                          len(items))  # fmt: skip
        return {"auditLogFiles": [items[i] for i in page.slice.indices()], "nextPageToken": page.next_token}

    return [
        route("/regions", regions, rpc_error),
        route("/clusters/{clusterId}/auditLog/config", config, rpc_error),
        route("/clusters/{clusterId}/auditLog/filterRules", rules, rpc_error),
        route("/clusters/{clusterId}/auditLog/files", list_files, rpc_error),
    ]
