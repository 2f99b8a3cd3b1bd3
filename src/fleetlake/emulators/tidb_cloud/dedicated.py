"""`dedicated.tidbapi.com/v1beta1`: Dedicated clusters, regions, node specs, imports, integrations
(changefeeds in `changefeeds`; private endpoints, node quota, cloud providers, log redaction in `network`).

Shapes follow tidb-cloud-dedicated-v1beta1-openapi-original.json: camelCase, lists paged by
`pageSize`/`pageToken` answering `nextPageToken` ("" on the last page) and `totalSize`;
integrations answer `{items, total}` unpaginated. Clusters carry no `rootPassword`: the spec only
takes it as input (the `tidb.cloud/has-set-password` annotation says whether one is set).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import token_page, token_scope
from fleetlake.emulators.seeded import rng
from fleetlake.emulators.tidb_cloud import catalog, changefeeds, network
from fleetlake.emulators.tidb_cloud.context import Context, by_create_time, iso, mask
from fleetlake.emulators.tidb_cloud.data import DAY, UPPER_ALNUM, ImportTask
from fleetlake.emulators.tidb_cloud.errors import rpc_error

PREFIX = "/dedicated/v1beta1"
CLUSTER_STATES = frozenset(
    {
        "CREATING",
        "DELETING",
        "ACTIVE",
        "RESTORING",
        "MAINTENANCE",
        "DELETED",
        "INACTIVE",
        "UPGRADING",
        "IMPORTING",
        "MODIFYING",
        "PAUSING",
        "PAUSED",
        "RESUMING",
    }
)
COMPONENTS = ("TIDB", "TIKV", "TIFLASH", "PD")
DEDICATED_REGION_IDS = {r.region_id: r for r in catalog.DEDICATED_REGIONS}


def _display(key: str) -> str:
    return next(s.display_name for s in catalog.NODE_SPECS if s.key == key)


def cluster_json(ctx: Context, g: int) -> dict[str, Any]:
    """A Dedicated cluster as v1beta1 lists it."""
    now = ctx.now()
    c = ctx.data.cluster(g)
    state = ctx.data.state(g, now)
    group_id = network.node_group_id(ctx, g)
    host = f"tidb.{c.host_tag}.clusters.tidb-cloud.com"
    group_state = state if state in ("PAUSED", "MODIFYING") else "ACTIVE"
    out: dict[str, Any] = {
        "name": f"clusters/{c.id}",
        "clusterId": c.id,
        "displayName": c.name,
        "regionId": c.region.region_id,
        "labels": {"tidb.cloud/project": ctx.data.project(c.project).id},
        "tidbNodeSetting": {
            "nodeSpecKey": c.tidb_spec,
            "tidbNodeGroups": [
                {
                    "name": f"tidbNodeGroups/{group_id}",
                    "tidbNodeGroupId": group_id,
                    "clusterId": c.id,
                    "displayName": "DefaultGroup",
                    "nodeCount": c.tidb_nodes,
                    "endpoints": [
                        {"host": host, "port": 4000, "connectionType": "PUBLIC"},
                        {"host": f"private-{host}", "port": 4000, "connectionType": "VPC_PEERING"},
                    ],
                    "nodeSpecKey": c.tidb_spec,
                    "nodeSpecDisplayName": _display(c.tidb_spec),
                    "isDefaultGroup": True,
                    "state": group_state,
                }
            ],
            "nodeSpecDisplayName": _display(c.tidb_spec),
        },
        "tikvNodeSetting": {
            "nodeCount": c.tikv_nodes,
            "nodeSpecKey": c.tikv_spec,
            "storageSizeGi": c.tikv_storage,
            "storageType": "Standard",
            "nodeSpecDisplayName": _display(c.tikv_spec),
        },
    }
    if c.tiflash_spec:
        out["tiflashNodeSetting"] = {
            "nodeCount": c.tiflash_nodes,
            "nodeSpecKey": c.tiflash_spec,
            "storageSizeGi": c.tiflash_storage,
            "storageType": "Basic",
            "nodeSpecDisplayName": _display(c.tiflash_spec),
        }
    out.update(
        {
            "port": 4000,
            "state": state,
            "version": c.version,
            "createdBy": c.creator,
            "createTime": iso(c.created),
            "updateTime": iso(ctx.data.updated(g, now)),
        }
    )
    if state == "PAUSED":
        out["pausePlan"] = {"pauseType": "NORMAL"}
    out.update(
        {
            "regionDisplayName": c.region.display_name,
            "cloudProvider": c.region.provider,
            "annotations": {"tidb.cloud/has-set-password": "true"},
        }
    )
    return out


def region_json(region: catalog.Region) -> dict[str, Any]:
    """A region as v1beta1 lists it."""
    return {
        "name": f"regions/{region.region_id}",
        "regionId": region.region_id,
        "cloudProvider": region.provider,
        "displayName": region.display_name,
        "provider": region.provider,
    }


def node_spec_json(region: catalog.Region, spec: catalog.NodeSpec) -> dict[str, Any]:
    """A node spec of a region as v1beta1 lists it."""
    out: dict[str, Any] = {
        "name": f"regions/{region.region_id}/componentTypes/{spec.component}/nodeSpecs/{spec.key}",
        "regionId": region.region_id,
        "componentType": spec.component,
        "nodeSpecKey": spec.key,
        "displayName": spec.display_name,
        "vCpu": spec.vcpu,
        "memorySizeGi": spec.memory_gi,
    }
    if spec.component in catalog.STORAGE_RANGE:
        low, default, high = catalog.STORAGE_RANGE[spec.component]
        out.update({"defaultStorageSizeGi": default, "maxStorageSizeGi": high, "minStorageSizeGi": low})
    out["defaultNodeCount"] = catalog.DEFAULT_NODE_COUNT[spec.component]
    if spec.component == "TIKV":
        out.update(
            {
                "storageTypes": ["Standard", "Performance", "Plus"],
                "maxRaftStoreIops": 20000,
                "minRaftStoreIops": 3000,
            }
        )
    elif spec.component == "TIFLASH":
        out["storageTypes"] = ["Basic"]
    out["default"] = catalog.DEFAULT_SPEC[spec.component] == spec.key
    return out


def import_json(ctx: Context, task: ImportTask) -> dict[str, Any]:
    """An import task as the Dedicated v1beta1 API lists it (secrets are input-only, never returned)."""
    cluster_id = ctx.data.cluster(task.cluster).id
    options: dict[str, Any] = {"fileType": task.file_type}
    if task.file_type == "CSV":
        options["csvFormat"] = {
            "separator": ",",
            "delimiter": '"',
            "header": True,
            "notNull": False,
            "nullValue": "\\N",
            "backslashEscape": True,
            "trimLastSeparator": False,
        }
    if task.source_type == "GCS":
        source: dict[str, Any] = {"type": "GCS", "gcs": {"uri": task.uri, "authType": "SERVICE_ACCOUNT_KEY"}}
    elif task.role_arn:
        source = {"type": "S3", "s3": {"uri": task.uri, "authType": "ROLE_ARN", "roleArn": task.role_arn}}
    else:
        source = {
            "type": "S3",
            "s3": {"uri": task.uri, "authType": "ACCESS_KEY", "accessKey": {"id": task.access_key_id}},
        }
    done = task.state == "COMPLETED"
    return {
        "name": f"clusters/{cluster_id}/imports/{task.id}",
        "clusterId": cluster_id,
        "totalSize": str(task.size),
        "createTime": iso(task.created),
        "completeTime": iso(task.completed),
        "state": task.state,
        "completePercent": 100 if done else task.size % 90 + 5,
        "message": task.error,
        "creator": task.creator,
        "creationDetails": {
            "importOptions": options,
            "source": source,
            "targetTableInfos": [
                {
                    "targetTable": {"schema": db, "table": table},
                    "customFile": "",
                    "matchedUri": f"{task.uri}{db}.{table}",
                }
                for db, table in task.tables
            ],
            "checkItems": [],
        },
        "importId": task.id,
    }


def integrations(ctx: Context, g: int) -> list[dict[str, Any]]:
    """The monitoring integrations of a Dedicated cluster, oldest first."""
    c = ctx.data.cluster(g)
    out = []
    for k, kind in enumerate(c.integrations):
        r = rng(ctx.data.seed, "integration", g, k)
        created = r.randint(c.created + DAY, ctx.data.t0 - DAY)
        api_key = "".join(r.choice(UPPER_ALNUM.lower()) for _ in range(32))
        error = r.random() < 0.15
        state = "ERROR" if error else "ACTIVE"
        reason = "the API key was rejected by the provider" if error else ""
        item: dict[str, Any] = {"id": ctx.data.integration_ids.encode(g << 4 | k), "type": kind}
        if kind == "DATADOG":
            item["datadog"] = {
                "state": state,
                "statusReason": reason,
                "site": "US1",
                "siteUrl": "https://app.datadoghq.com",
                "dashboardUrl": "https://app.datadoghq.com/dash/integration/30586/tidbcloud-cluster-overview",
                "maskedApiKey": mask(api_key),
            }
        elif kind == "NEWRELIC":
            item["newrelic"] = {
                "state": state,
                "statusReason": reason,
                "site": "US_OTLP",
                "siteUrl": "https://otlp.nr-data.net",
                "dashboardUrl": "https://one.newrelic.com/dashboards",
                "maskedApiKey": mask(api_key),
            }
        else:
            item["prometheus"] = {
                "key": mask(api_key),
                "queryEndpoint": f"https://metrics.{c.region.code}.tidbcloud.com/api/v1/clusters/{c.id}/prometheus",
            }
        item.update(
            {
                "createTime": iso(created),
                "updateTime": iso(created + r.randint(0, DAY)),
                "creator": c.creator,
            }
        )
        out.append(item)
    return out


def _multi(call: Call, name: str) -> list[str]:
    # repeated parameters, also accepting comma lists
    return [v for raw in call.query.getlist(name) for v in raw.split(",") if v]


def _dedicated_cluster(ctx: Context, call: Call) -> int:
    cluster_id = call.path_params["clusterId"]
    g = ctx.data.cluster_index(cluster_id)
    if g is None or not ctx.data.is_dedicated(g):
        raise RouteError(404, f"cluster {cluster_id} not found")
    return g


def routes(ctx: Context) -> list[Route]:
    """The Dedicated v1beta1 routes, relative to `/dedicated/v1beta1`."""
    data = ctx.data

    def clusters(call: Call) -> dict[str, Any]:
        candidates: Sequence[int] = data.dedicated_clusters
        project_id = call.query.get("projectId")
        if project_id:
            p = data.project_index(project_id)
            if p is None:
                raise RouteError(404, f"project {project_id} not found")
            candidates = [g for g in data.clusters_of(p) if data.is_dedicated(g)]
        states = set(_multi(call, "clusterStates"))
        unknown = states - CLUSTER_STATES
        if unknown:
            raise RouteError(400, f"invalid clusterStates {sorted(unknown)}: expected values like ACTIVE or PAUSED")
        ids, regions = set(_multi(call, "clusterIds")), set(_multi(call, "regionIds"))
        now = ctx.now()
        matches = [
            g
            for g in candidates
            if (not ids or data.cluster_ids.encode(g) in ids)
            and (not regions or data.cluster(g).region.region_id in regions)
            and (not states or data.state(g, now) in states)
        ]
        page = token_page(
            call.query,
            ctx.tokens,
            token_scope("dedicated/clusters", call.query),
            len(matches),
            allow_skip=True,
        )
        return {
            "clusters": [cluster_json(ctx, matches[i]) for i in page.slice.indices()],
            "totalSize": len(matches),
            "nextPageToken": page.next_token,
        }

    def cluster(call: Call) -> dict[str, Any]:
        return cluster_json(ctx, _dedicated_cluster(ctx, call))

    def regions(call: Call) -> dict[str, Any]:
        provider = call.query.get("cloudProvider")
        if provider and provider not in ("aws", "gcp", "azure", "alicloud"):
            raise RouteError(400, f"invalid cloudProvider {provider!r}: use aws, gcp, azure or alicloud")
        items = [r for r in catalog.DEDICATED_REGIONS if not provider or r.provider == provider]
        scope = token_scope("dedicated/regions", call.query)
        page = token_page(call.query, ctx.tokens, scope, len(items), default_size=20, allow_skip=True)
        return {
            "regions": [region_json(items[i]) for i in page.slice.indices()],
            "totalSize": len(items),
            "nextPageToken": page.next_token,
        }

    def node_specs(call: Call) -> dict[str, Any]:
        region = DEDICATED_REGION_IDS.get(call.path_params["regionId"])
        if region is None:
            raise RouteError(404, f"region {call.path_params['regionId']} not found")
        component = call.query.get("componentType")
        if component and component not in COMPONENTS:
            raise RouteError(400, f"invalid componentType {component!r}: use TIDB, TIKV, TIFLASH or PD")
        items = [s for s in catalog.NODE_SPECS if not component or s.component == component]
        scope = token_scope(f"dedicated/{region.region_id}/nodeSpecs", call.query)
        page = token_page(call.query, ctx.tokens, scope, len(items), allow_skip=True)
        return {
            "nodeSpecs": [node_spec_json(region, items[i]) for i in page.slice.indices()],
            "totalSize": len(items),
            "nextPageToken": page.next_token,
        }

    def imports(call: Call) -> dict[str, Any]:
        g = _dedicated_cluster(ctx, call)
        items = by_create_time(call.query.get("orderBy", ""), data.imports(g))
        page = token_page(call.query, ctx.tokens, token_scope(f"dedicated/{g}/imports", call.query), len(items))
        return {
            "imports": [import_json(ctx, items[i]) for i in page.slice.indices()],
            "totalSize": len(items),
            "nextPageToken": page.next_token,
        }

    def list_integrations(call: Call) -> dict[str, Any]:
        items = integrations(ctx, _dedicated_cluster(ctx, call))
        if ctx.shape == "seed":
            return {"integrations": items}
        return {"items": items, "total": len(items)}

    return [
        route("/clusters", clusters, rpc_error),
        route("/clusters/{clusterId}", cluster, rpc_error),
        route("/regions", regions, rpc_error),
        route("/regions/{regionId}/nodeSpecs", node_specs, rpc_error),
        route("/clusters/{clusterId}/imports", imports, rpc_error),
        route("/clusters/{clusterId}/integrations", list_integrations, rpc_error),
        *changefeeds.routes(ctx),
        *network.dedicated_routes(ctx),
    ]
