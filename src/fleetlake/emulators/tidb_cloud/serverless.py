"""`serverless.tidbapi.com/v1beta1`: Starter/Essential clusters, their branches, exports and imports
(regions and the database audit log in `database_audit`).

Shapes follow tidb-cloud-starter-essential-v1beta1-openapi-original.json. Export targets and import
sources that use an access key carry `accessKey {id, secret}` with a masked secret, so a client's
redaction can be tested.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import token_page, token_scope
from fleetlake.emulators.seeded import mix, rng
from fleetlake.emulators.tidb_cloud import database_audit
from fleetlake.emulators.tidb_cloud.context import Context, by_create_time, iso, mask
from fleetlake.emulators.tidb_cloud.data import DAY, HOUR, LOWER_ALNUM, UPPER_ALNUM, Cluster, ImportTask
from fleetlake.emulators.tidb_cloud.errors import rpc_error

PREFIX = "/serverless/v1beta1"
_TERM = re.compile(r'^\s*([A-Za-z_.]+)\s*=\s*(?:"([^"]*)"|([^\s"]+))\s*$')


def _endpoints(c: Cluster, tag: str) -> dict[str, Any]:
    code = c.region.code
    return {
        "public": {
            "host": f"gateway01.{code}.prod.aws.tidbcloud.com",
            "port": 4000,
            "disabled": False,
            "authorizedNetworks": [],
        },
        "private": {
            "host": f"gateway01-privatelink.{code}.prod.aws.tidbcloud.com",
            "port": 4000,
            "aws": {
                "serviceName": f"com.amazonaws.vpce.{code}.vpce-svc-{tag}",
                "availabilityZone": [f"{code[:2]}{code.split('-')[1][0]}{code[-1]}-az{n}" for n in (1, 2, 4)],
            },
        },
    }


def cluster_json(ctx: Context, g: int) -> dict[str, Any]:
    """A Starter or Essential cluster as the serverless v1beta1 API lists it."""
    now = ctx.now()
    c = ctx.data.cluster(g)
    project_id = ctx.data.project(c.project).id
    tag = f"{mix(ctx.data.seed, 'vpce', g) % (1 << 68):017x}"
    out: dict[str, Any] = {
        "name": f"clusters/{c.id}",
        "clusterId": c.id,
        "displayName": c.name,
        "region": {
            "name": f"regions/{c.region.region_id}",
            "regionId": c.region.region_id,
            "cloudProvider": c.region.provider,
            "displayName": c.region.display_name,
            "provider": c.region.provider,
        },
    }
    if c.plan == "Starter":
        out["spendingLimit"] = {"monthly": c.spending_limit_cents}
    out.update(
        {
            "automatedBackupPolicy": {
                "startTime": "07:00",
                "retentionDays": 14 if c.plan == "Essential" else 1,
            },
            "endpoints": _endpoints(c, tag),
            "encryptionConfig": {"enhancedEncryptionEnabled": False},
            "highAvailabilityType": "REGIONAL" if c.regional_ha else "ZONAL",
            "version": f"v{c.version}",
            "createdBy": c.creator,
            "userPrefix": c.user_prefix,
            "state": ctx.data.state(g, now),
            "labels": {"tidb.cloud/organization": ctx.data.org_id, "tidb.cloud/project": project_id},
            "annotations": {"tidb.cloud/has-set-password": "true"},
            "createTime": iso(c.created),
            "updateTime": iso(ctx.data.updated(g, now)),
        }
    )
    if c.plan == "Essential":
        out["autoScaling"] = {"minRcu": c.min_rcu, "maxRcu": c.max_rcu}
    out["servicePlan"] = c.plan
    return out


def branches(ctx: Context, g: int) -> list[dict[str, Any]]:
    """The branches of a cluster, oldest first."""
    c = ctx.data.cluster(g)
    seed = ctx.data.seed
    made = sorted(
        (rng(seed, "branch", g, k).randint(c.created + DAY, ctx.data.t0 - HOUR), k) for k in range(c.branches)
    )
    out: list[dict[str, Any]] = []
    for position, (created, k) in enumerate(made):
        r = rng(seed, "branch-facts", g, k)
        branch_id = "bran-" + "".join(r.choice(LOWER_ALNUM) for _ in range(26))
        name = f"{r.choice(('dev', 'feature-login', 'test', 'staging-copy', 'ci'))}-{position + 1}"
        parent = out[r.randrange(position)] if position and r.random() < 0.3 else None
        out.append(
            {
                "name": f"clusters/{c.id}/branches/{branch_id}",
                "branchId": branch_id,
                "displayName": name,
                "clusterId": c.id,
                "parentId": parent["branchId"] if parent else c.id,
                "createdBy": c.creator,
                "state": "ACTIVE",
                "endpoints": _endpoints(c, f"{mix(seed, 'vpce', g) % (1 << 68):017x}"),
                "userPrefix": "".join(r.choice(LOWER_ALNUM + UPPER_ALNUM) for _ in range(15)),
                "createTime": iso(created),
                "updateTime": iso(created + r.randint(60, 2 * HOUR)),
                "annotations": {"tidb.cloud/has-set-password": "false"},
                "parentDisplayName": parent["displayName"] if parent else c.name,
                "parentTimestamp": iso(created - r.randint(0, HOUR)),
            }
        )
    return out


def _access_key(r: random.Random, key_id: str = "") -> dict[str, str]:
    # the secret comes back masked, the way the console shows it
    secret = "".join(r.choice(LOWER_ALNUM + UPPER_ALNUM) for _ in range(40))
    key_id = key_id or "AKIA" + "".join(r.choice(UPPER_ALNUM) for _ in range(16))
    return {"id": key_id, "secret": mask(secret, width=36)}


def exports(ctx: Context, g: int) -> list[dict[str, Any]]:
    """The export tasks of a cluster, oldest first."""
    c = ctx.data.cluster(g)
    seed = ctx.data.seed
    made = sorted((rng(seed, "export", g, k).randint(c.created + DAY, ctx.data.t0 - HOUR), k) for k in range(c.exports))
    out = []
    for created, k in made:
        r = rng(seed, "export-facts", g, k)
        export_id = "exp-" + "".join(r.choice(LOWER_ALNUM) for _ in range(26))
        state = r.choice(("SUCCEEDED",) * 7 + ("EXPIRED", "EXPIRED", "FAILED"))
        file_type = r.choice(("CSV", "CSV", "PARQUET", "SQL"))
        options: dict[str, Any] = {
            "fileType": file_type,
            "compression": "NONE" if file_type == "PARQUET" else "GZIP",
        }
        if r.random() < 0.4:
            options["filter"] = {"table": {"patterns": [f"app.{r.choice(('orders', 'users', 'events'))}"], "where": ""}}
        if file_type == "CSV":
            options["csvFormat"] = {
                "separator": ",",
                "delimiter": '"',
                "nullValue": "\\N",
                "skipHeader": False,
            }
        elif file_type == "PARQUET":
            options["parquetFormat"] = {"compression": "ZSTD"}
        bucket = f"s3://{c.name}-exports/{created}/"
        if r.random() < 0.3:
            target: dict[str, Any] = {"type": "LOCAL"}
        elif r.random() < 0.5:
            target = {
                "type": "S3",
                "s3": {"uri": bucket, "authType": "ACCESS_KEY", "accessKey": _access_key(r)},
            }
        else:
            account = r.randint(10**11, 10**12 - 1)
            role = f"arn:aws:iam::{account}:role/tidb-cloud-export"
            target = {"type": "S3", "s3": {"uri": bucket, "authType": "ROLE_ARN", "roleArn": role}}
        completed = created + r.randint(60, HOUR)
        out.append(
            {
                "exportId": export_id,
                "name": f"clusters/{c.id}/exports/{export_id}",
                "clusterId": c.id,
                "createdBy": c.creator,
                "state": state,
                "exportOptions": options,
                "target": target,
                "reason": "access denied to the target bucket" if state == "FAILED" else "",
                "displayName": f"SNAPSHOT_{iso(created)}",
                "createTime": iso(created),
                "updateTime": iso(completed),
                "completeTime": iso(completed),
                "snapshotTime": iso(created),
                "expireTime": iso(completed + 2 * DAY),
            }
        )
    return out


def import_json(ctx: Context, task: ImportTask) -> dict[str, Any]:
    """An import task as the serverless v1beta1 API lists it."""
    cluster_id = ctx.data.cluster(task.cluster).id
    options: dict[str, Any] = {"fileType": task.file_type}
    if task.file_type == "CSV":
        options["csvFormat"] = {
            "separator": ",",
            "delimiter": '"',
            "header": True,
            "notNull": False,
            "null": "\\N",
            "backslashEscape": True,
            "trimLastSeparator": False,
        }
    s3: dict[str, Any] = {"uri": task.uri}
    if task.role_arn:
        s3.update({"authType": "ROLE_ARN", "roleArn": task.role_arn})
    else:
        r = rng(ctx.data.seed, "import-key", task.id)
        s3.update({"authType": "ACCESS_KEY", "accessKey": _access_key(r, task.access_key_id)})
    return {
        "id": task.id,
        "name": f"clusters/{cluster_id}/imports/{task.id}",
        "clusterId": cluster_id,
        "totalSize": str(task.size),
        "createTime": iso(task.created),
        "completeTime": iso(task.completed),
        "state": task.state,
        "completePercent": 100 if task.state == "COMPLETED" else task.size % 90 + 5,
        "message": task.error,
        "createdBy": task.creator,
        "creationDetails": {"importOptions": options, "source": {"type": "S3", "s3": s3}},
        "importId": task.id,
    }


FILTER_KEYS = ("region.provider", "region.name", "state", "projectId", "clusterId", "displayName")


def _cluster_filter(ctx: Context, expression: str) -> Callable[[int], bool]:
    """A predicate for the AIP-style `filter`: terms `key=value` (value optionally quoted) joined by AND."""
    terms: list[tuple[str, str]] = []
    for term in re.split(r"\s+AND\s+", expression.strip()) if expression.strip() else []:
        match = _TERM.match(term)
        if not match:
            raise RouteError(400, f'invalid filter term {term!r}: expected key=value or key="value"')
        key = match.group(1)
        if key not in FILTER_KEYS and not key.startswith("labels."):
            raise RouteError(400, f"invalid filter key {key!r}: use {', '.join(FILTER_KEYS)} or labels.<key>")
        terms.append((key, match.group(2) if match.group(2) is not None else match.group(3)))
    data, now = ctx.data, ctx.now()

    def field(g: int, key: str) -> str:
        c = data.cluster(g)
        labels = {"tidb.cloud/organization": data.org_id, "tidb.cloud/project": data.project(c.project).id}
        values = {
            "region.provider": c.region.provider,
            "region.name": f"regions/{c.region.region_id}",
            "projectId": labels["tidb.cloud/project"],
            "clusterId": c.id,
            "displayName": c.name,
        }
        if key == "state":
            return data.state(g, now)
        if key.startswith("labels."):
            return labels.get(key.removeprefix("labels."), "")
        return values[key]

    def keep(g: int) -> bool:
        # projectId and clusterId take comma-separated alternatives
        return all(
            field(g, key) in value.split(",") if key in ("projectId", "clusterId") else field(g, key) == value
            for key, value in terms
        )

    return keep


def _serverless_cluster(ctx: Context, call: Call) -> int:
    cluster_id = call.path_params["clusterId"]
    g = ctx.data.cluster_index(cluster_id)
    if g is None or ctx.data.is_dedicated(g):
        raise RouteError(404, f"cluster {cluster_id} not found")
    return g


def routes(ctx: Context) -> list[Route]:
    """The serverless v1beta1 routes, relative to `/serverless/v1beta1`."""
    data = ctx.data

    def clusters(call: Call) -> dict[str, Any]:
        keep = _cluster_filter(ctx, call.query.get("filter", ""))
        matches = [g for g in data.serverless_clusters if keep(g)]
        scope = token_scope("serverless/clusters", call.query)
        page = token_page(call.query, ctx.tokens, scope, len(matches), allow_skip=True)
        return {
            "clusters": [cluster_json(ctx, matches[i]) for i in page.slice.indices()],
            "nextPageToken": page.next_token,
            "totalSize": len(matches),
        }

    def children(kind: str, build: Callable[[Context, int], Sequence[Any]], ordered: bool) -> Callable[[Call], Any]:
        def handler(call: Call) -> dict[str, Any]:
            g = _serverless_cluster(ctx, call)
            items = build(ctx, g)
            if ordered:
                items = by_create_time(call.query.get("orderBy", ""), items)
            page = token_page(call.query, ctx.tokens, token_scope(f"serverless/{g}/{kind}", call.query), len(items))
            return {
                kind: [items[i] for i in page.slice.indices()],
                "nextPageToken": page.next_token,
                "totalSize": len(items),
            }

        return handler

    def import_items(ctx: Context, g: int) -> list[dict[str, Any]]:
        return [import_json(ctx, task) for task in data.imports(g)]

    return [
        route("/clusters", clusters, rpc_error),
        route("/clusters/{clusterId}/branches", children("branches", branches, False), rpc_error),
        route("/clusters/{clusterId}/exports", children("exports", exports, True), rpc_error),
        route("/clusters/{clusterId}/imports", children("imports", import_items, True), rpc_error),
        *database_audit.routes(ctx, _serverless_cluster),
    ]
