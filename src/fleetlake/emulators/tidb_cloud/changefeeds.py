"""Dedicated changefeeds (`dedicated.tidbapi.com/v1beta1/changefeeds`) and the RCU sizes they run at.

Shapes follow tidb-cloud-dedicated-v1beta1-openapi-original.json (the CLI repository's newer
dedicated.swagger.json does not describe changefeeds): `GET /changefeeds?clusterId=` paged by
`pageSize` (default 20) / `pageToken`, `GET /changefeedRCUs` unpaginated. Downstream passwords and
secret keys are input-only here: never answered.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import token_page, token_scope
from fleetlake.emulators.seeded import mix, rng, weighted
from fleetlake.emulators.tidb_cloud.context import Context, iso
from fleetlake.emulators.tidb_cloud.data import DAY, HOUR
from fleetlake.emulators.tidb_cloud.errors import rpc_error

RCU_SIZES = (2, 4, 8, 16, 32, 64)
DOWNSTREAMS = ("KAFKA", "KAFKA", "MYSQL", "S3")
STATES = (("RUNNING", 80), ("PAUSED", 10), ("WARNING", 5), ("FAILED", 5))


def rcus_json() -> list[dict[str, Any]]:
    """The changefeed sizes on offer, smallest first."""
    return [
        {"name": f"changefeedRCUs/{size}", "displayName": f"{size} RCU", "rcuNum": size, "rpsLimit": size * 2500}
        for size in RCU_SIZES
    ]


def changefeed_count(ctx: Context, g: int) -> int:
    """How many changefeeds Dedicated cluster `g` has."""
    return rng(ctx.data.seed, "changefeeds", g).choice((0, 0, 1, 1, 2, 3))


def changefeeds(ctx: Context, g: int) -> list[dict[str, Any]]:
    """The changefeeds of Dedicated cluster `g`, oldest first."""
    data, now = ctx.data, ctx.now()
    c = data.cluster(g)
    out = []
    for k in range(changefeed_count(ctx, g)):
        r = rng(data.seed, "changefeed", g, k)
        kind = r.choice(DOWNSTREAMS)
        created = r.randint(c.created + DAY, data.t0 - DAY)
        state = weighted(mix(data.seed, "changefeed-state", g, k, now // DAY), STATES)
        checkpoint = now - (r.randint(1, 30) if state in ("RUNNING", "WARNING") else r.randint(HOUR, DAY))
        item: dict[str, Any] = {
            "id": str(10**17 + mix(data.seed, "changefeed-id", g, k) % (9 * 10**17)),
            "clusterId": c.id,
            "name": f"cdc-{kind.lower()}-{k + 1}",
            "networkInfo": {"networkType": "NETWORK_TYPE_PRIVATE_LINK" if kind == "KAFKA" else "NETWORK_TYPE_PUBLIC"},
            "state": state,
            "createTime": iso(created),
            # a TSO is the physical time in milliseconds shifted left by 18 bits
            "checkpointTso": str(checkpoint * 1000 << 18),
            "checkpointTs": iso(checkpoint),
            "replicationCapacity": str(r.choice(RCU_SIZES[:4])),
            "downstreamType": kind,
            "tableConfig": {
                "filterRules": [f"{r.choice(('app', 'shop', 'core'))}.*"],
                "mode": "IGNORE_NOT_SUPPORT_TABLE",
                "caseSensitive": False,
            },
            "startPosition": {"mode": "FROM_NOW"},
        }
        if kind == "KAFKA":
            item["kafka"] = {
                "broker": {
                    "version": "KAFKA_VERSION_3XX",
                    "brokerEndpoints": f"b-1.{c.name}.kafka.{c.region.code}.amazonaws.com:9096",
                    "useTls": True,
                    "compression": "LZ4",
                },
                "authentication": {"authType": "SASL_SCRAM_SHA_512", "username": "tidb-cdc"},
                "dataFormat": {"protocol": "PROTOCOL_CANAL_JSON", "enableTidbExtension": True},
                "topicPartitionConfig": {
                    "dispatchType": "DISPATCH_TYPE_BY_TABLE",
                    "topicPrefix": "tidb_",
                    "separator": "_",
                    "replicationFactor": 3,
                    "partitionNum": r.choice((3, 6, 12)),
                },
            }
        elif kind == "MYSQL":
            item["mysql"] = {"connection": {"endpoint": f"10.{r.randint(0, 255)}.0.{r.randint(2, 254)}:3306",
                                            "username": "cdc_writer"}}  # fmt: skip
        else:
            bucket = f"{c.name.split('-')[1]}-cdc-{r.randint(100, 999)}"
            item["s3"] = {
                "endpoint": {
                    "s3Uri": f"s3://{bucket}/changefeed/",
                    "authType": "S3_AUTH_TYPE_ASSUME_ROLE",
                    "iamAssumedRoleArn": f"arn:aws:iam::{r.randint(10**11, 10**12 - 1)}:role/tidb-cloud-cdc",
                },
                "dataFormat": {"protocol": "PROTOCOL_CANAL_JSON", "enableTidbExtension": False},
                "storageFlushConfig": {"interval": "60s", "fileSize": str(64 << 20)},
            }
        item["error"] = "the downstream rejected writes: broker unreachable" if state == "FAILED" else ""
        out.append(item)
    out.sort(key=lambda feed: (feed["createTime"], feed["id"]))
    return out


def routes(ctx: Context) -> list[Route]:
    """The changefeed routes, relative to `/dedicated/v1beta1`."""
    data = ctx.data

    def list_changefeeds(call: Call) -> dict[str, Any]:
        cluster_id = call.query.get("clusterId")
        if not cluster_id:
            raise RouteError(400, "clusterId is required")
        g = data.cluster_index(cluster_id)
        if g is None or not data.is_dedicated(g):
            raise RouteError(404, f"cluster {cluster_id} not found")
        items = changefeeds(ctx, g)
        wanted = call.query.get("downstreamType", "DOWNSTREAM_TYPE_UNSPECIFIED")
        if wanted != "DOWNSTREAM_TYPE_UNSPECIFIED":
            items = [item for item in items if item["downstreamType"] == wanted]
        page = token_page(call.query, ctx.tokens, token_scope("dedicated/changefeeds", call.query), len(items),
                          default_size=20)  # fmt: skip
        return {
            "changefeeds": [items[i] for i in page.slice.indices()],
            "totalSize": len(items),
            "nextPageToken": page.next_token,
        }

    def list_rcus(call: Call) -> dict[str, Any]:
        return {"rcus": rcus_json()}

    return [
        route("/changefeeds", list_changefeeds, rpc_error),
        route("/changefeedRCUs", list_rcus, rpc_error),
    ]
