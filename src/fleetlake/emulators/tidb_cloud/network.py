"""Who and what can connect to Dedicated clusters, and the organization's Dedicated settings.

Private endpoints are modelled once and answered by two APIs: Dedicated v1beta1's private endpoint
connections and private link service per TiDB node group (tidbcloud-cli/dedicated.swagger.json), and
v1beta's private endpoints per project or cluster and private endpoint service per cluster
(tidb-cloud-v1beta-openapi-original.json). Also here: AWS CMEK keys per project (v1beta), the
node quota, the cloud providers and each cluster's log redaction policy (Dedicated v1beta1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.routing import Route

from fleetlake.emulators.core import Call, RouteError, route
from fleetlake.emulators.paging import token_page, token_scope
from fleetlake.emulators.seeded import mix, rng, weighted
from fleetlake.emulators.tidb_cloud import catalog
from fleetlake.emulators.tidb_cloud.context import Context
from fleetlake.emulators.tidb_cloud.data import Cluster
from fleetlake.emulators.tidb_cloud.errors import rpc_error, v1beta_error

ENDPOINT_STATES = (("ACTIVE", 80), ("PENDING", 10), ("FAILED", 10))
NODE_QUOTAS = (("TIDB", 40), ("TIKV", 60), ("TIFLASH", 20), ("PD", 9), ("TIPROXY", 12))
HEX = "0123456789abcdef"


def node_group_id(ctx: Context, g: int) -> str:
    """The id of Dedicated cluster `g`'s default TiDB node group."""
    return str(10**18 + mix(ctx.data.seed, "node-group", g) % (8 * 10**18))


@dataclass(frozen=True)
class PrivateEndpoint:
    """A private endpoint of a customer's network connected to a cluster's default TiDB node group."""

    id: str
    cluster: Cluster
    group_id: str
    endpoint: str
    account: str
    address: str
    state: str


def _service_name(ctx: Context, c: Cluster) -> str:
    tag = "".join(rng(ctx.data.seed, "service-name", c.index).choice(HEX) for _ in range(17))
    if c.region.provider == "aws":
        return f"com.amazonaws.vpce.{c.region.code}.vpce-svc-{tag}"
    return f"projects/tidbcloud-{tag[:8]}/regions/{c.region.code}/serviceAttachments/tidb-{c.index}"


def private_endpoints(ctx: Context, g: int) -> list[PrivateEndpoint]:
    """The private endpoints of Dedicated cluster `g`, in id order."""
    data = ctx.data
    c = data.cluster(g)
    r = rng(data.seed, "private-endpoints", g)
    out = []
    for k in range(r.choice((0, 1, 1, 2))):
        e = rng(data.seed, "private-endpoint", g, k)
        if c.region.provider == "aws":
            account = str(e.randint(10**11, 10**12 - 1))
            endpoint = "vpce-" + "".join(e.choice(HEX) for _ in range(17))
        else:
            account = f"{c.name.split('-')[1]}-{e.randint(1000, 9999)}"
            endpoint = f"projects/{account}/regions/{c.region.code}/forwardingRules/tidb-{k + 1}"
        out.append(
            PrivateEndpoint(
                id=str(10**18 + mix(data.seed, "private-endpoint-id", g, k) % (8 * 10**18)),
                cluster=c,
                group_id=node_group_id(ctx, g),
                endpoint=endpoint,
                account=account,
                address=f"10.{e.randint(0, 255)}.{e.randint(0, 255)}.{e.randint(2, 254)}",
                state=weighted(e.getrandbits(16), ENDPOINT_STATES),
            )
        )
    return sorted(out, key=lambda item: item.id)


def _failure(state: str) -> str:
    return "the endpoint was rejected: check the endpoint's VPC and subnets" if state == "FAILED" else ""


def connection_json(ctx: Context, item: PrivateEndpoint) -> dict[str, Any]:
    """A private endpoint as Dedicated v1beta1 lists its connections."""
    c = item.cluster
    return {
        "name": f"clusters/{c.id}/tidbNodeGroups/{item.group_id}/privateEndpointConnections/{item.id}",
        "tidbNodeGroupId": item.group_id,
        "privateEndpointConnectionId": item.id,
        "clusterId": c.id,
        "clusterDisplayName": c.name,
        "labels": {"tidb.cloud/project": ctx.data.project(c.project).id},
        "endpointId": item.endpoint,
        "privateIpAddress": item.address,
        "endpointState": item.state,
        "message": _failure(item.state),
        "regionId": c.region.region_id,
        "regionDisplayName": c.region.display_name,
        "cloudProvider": c.region.provider,
        "privateLinkServiceName": _service_name(ctx, c),
        "privateLinkServiceState": "ACTIVE",
        "tidbNodeGroupDisplayName": "DefaultGroup",
        "accountId": item.account,
        "host": f"privatelink-{item.group_id}.{c.host_tag}.clusters.tidb-cloud.com",
        "port": 4000,
    }


def v1beta_endpoint_json(ctx: Context, item: PrivateEndpoint) -> dict[str, Any]:
    """A private endpoint as v1beta lists it."""
    c = item.cluster
    return {
        "cloud_provider": c.region.provider.upper(),
        "cluster_id": c.id,
        "cluster_name": c.name,
        "region_name": c.region.display_name,
        "endpoint_name": item.endpoint,
        "status": item.state,
        "message": _failure(item.state),
        "service_name": _service_name(ctx, c),
        "service_status": "ACTIVE",
        "id": item.id,
    }


def link_service_json(ctx: Context, g: int) -> dict[str, Any]:
    """The private link service of Dedicated cluster `g`'s default TiDB node group (v1beta1)."""
    c = ctx.data.cluster(g)
    group = node_group_id(ctx, g)
    return {
        "name": f"clusters/{c.id}/tidbNodeGroups/{group}/privateLinkService",
        "tidbNodeGroupId": group,
        "serviceName": _service_name(ctx, c),
        "serviceDnsName": f"privatelink-{group}.{c.host_tag}.clusters.tidb-cloud.com",
        "availableZones": list(c.region.zones),
        "state": "ACTIVE",
        "regionId": c.region.region_id,
        "regionDisplayName": c.region.display_name,
        "cloudProvider": c.region.provider,
    }


def endpoint_service_json(ctx: Context, g: int) -> dict[str, Any]:
    """The same service as v1beta answers it for a cluster."""
    c = ctx.data.cluster(g)
    service: dict[str, Any] = {
        "cloud_provider": c.region.provider.upper(),
        "name": _service_name(ctx, c),
        "status": "ACTIVE",
        "dns_name": f"privatelink-{node_group_id(ctx, g)}.{c.host_tag}.clusters.tidb-cloud.com",
        "port": 4000,
    }
    if c.region.provider == "aws":
        service["az_ids"] = list(c.region.zones)
    return {"private_endpoint_service": service}


def cmek_enabled(p: int) -> bool:
    """Whether project `p` encrypts with AWS customer-managed keys: every third project, from the second."""
    return p % 3 == 1


def cmek_json(ctx: Context, p: int) -> list[dict[str, Any]]:
    """The AWS KMS keys of project `p`, one per AWS region its Dedicated clusters run in."""
    if not cmek_enabled(p):
        return []
    data = ctx.data
    account = 10**11 + mix(data.seed, "cmek-account", p) % (9 * 10**11)
    codes = sorted(
        {
            data.cluster(g).region.code
            for g in data.clusters_of(p)
            if data.is_dedicated(g) and data.cluster(g).region.provider == "aws"
        }
    ) or ["us-east-1"]
    out = []
    for code in codes:
        h = f"{mix(data.seed, 'cmek-key', p, code):016x}{mix(data.seed, 'cmek-key-2', p, code):016x}"
        uuid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        out.append({"region": code, "kms_arn": f"arn:aws:kms:{code}:{account}:key/{uuid}"})
    return out


def _dedicated(ctx: Context, cluster_id: str) -> int:
    g = ctx.data.cluster_index(cluster_id)
    if g is None or not ctx.data.is_dedicated(g):
        raise RouteError(404, f"cluster {cluster_id} not found")
    return g


def _group(ctx: Context, call: Call) -> int:
    g = _dedicated(ctx, call.path_params["clusterId"])
    group = call.path_params["tidbNodeGroupId"]
    if group != node_group_id(ctx, g):
        raise RouteError(404, f"TiDB node group {group} not found in cluster {call.path_params['clusterId']}")
    return g


def dedicated_routes(ctx: Context) -> list[Route]:
    """The Dedicated v1beta1 routes of this module, relative to `/dedicated/v1beta1`."""
    data = ctx.data

    def connections(call: Call) -> dict[str, Any]:
        cluster_id, group = call.path_params["clusterId"], call.path_params["tidbNodeGroupId"]
        project_id = call.query.get("projectId")
        if cluster_id == "-" and group == "-":
            # across clusters and node groups: the organization's, or one project's with projectId
            clusters: list[int] = list(data.dedicated_clusters)
            if project_id:
                p = data.project_index(project_id)
                if p is None:
                    raise RouteError(404, f"project {project_id} not found")
                clusters = [g for g in data.clusters_of(p) if data.is_dedicated(g)]
        elif cluster_id == "-" or group == "-":
            raise RouteError(400, 'set both clusterId and tidbNodeGroupId to "-" to list across clusters')
        else:
            clusters = [_group(ctx, call)]
        provider = call.query.get("cloudProvider")
        if provider and provider not in ("aws", "gcp", "azure", "alicloud"):
            raise RouteError(400, f"invalid cloudProvider {provider!r}: use aws, gcp, azure or alicloud")
        items = [
            item
            for g in clusters
            for item in private_endpoints(ctx, g)
            if not provider or item.cluster.region.provider == provider
        ]
        scope = token_scope(f"dedicated/{cluster_id}/{group}/privateEndpointConnections", call.query)
        page = token_page(call.query, ctx.tokens, scope, len(items), allow_skip=True)
        return {
            "privateEndpointConnections": [connection_json(ctx, items[i]) for i in page.slice.indices()],
            "totalSize": len(items),
            "nextPageToken": page.next_token,
        }

    def link_service(call: Call) -> dict[str, Any]:
        return link_service_json(ctx, _group(ctx, call))

    def node_quota(call: Call) -> dict[str, Any]:
        return {"componentQuotas": [{"componentType": kind, "quota": quota} for kind, quota in NODE_QUOTAS]}

    def cloud_providers(call: Call) -> dict[str, Any]:
        return {"cloudProviders": sorted({region.provider for region in catalog.DEDICATED_REGIONS})}

    def redaction(call: Call) -> dict[str, Any]:
        g = _dedicated(ctx, call.path_params["clusterId"])
        redact = mix(data.seed, "log-redaction", g) % 3 != 0
        return {"clusterId": data.cluster(g).id, "redactLog": redact}

    group_path = "/clusters/{clusterId}/tidbNodeGroups/{tidbNodeGroupId}"
    return [
        route(group_path + "/privateEndpointConnections", connections, rpc_error),
        route(group_path + "/privateLinkService", link_service, rpc_error),
        route("/clusters:showNodeQuota", node_quota, rpc_error),
        route("/regions:showCloudProviders", cloud_providers, rpc_error),
        route("/clusters/{clusterId}/logRedactionPolicy", redaction, rpc_error),
    ]


def v1beta_routes(ctx: Context, project: Any, cluster: Any) -> list[Route]:
    """The v1beta routes of this module, relative to `/api/v1beta`; `project` and `cluster` read a
    call's project index and cluster index (404 when unknown)."""
    data = ctx.data

    def of_project(call: Call) -> dict[str, Any]:
        p = project(ctx, call)
        items = [e for g in data.clusters_of(p) if data.is_dedicated(g) for e in private_endpoints(ctx, g)]
        return {"endpoints": [v1beta_endpoint_json(ctx, item) for item in items]}

    def of_cluster(call: Call) -> dict[str, Any]:
        g = cluster(ctx, call)
        items = private_endpoints(ctx, g) if data.is_dedicated(g) else []
        return {"endpoints": [v1beta_endpoint_json(ctx, item) for item in items]}

    def service(call: Call) -> dict[str, Any]:
        g = cluster(ctx, call)
        if not data.is_dedicated(g):
            raise RouteError(400, "private endpoint services are not supported for TiDB Cloud Starter instances")
        return endpoint_service_json(ctx, g)

    def aws_cmek(call: Call) -> dict[str, Any]:
        return {"items": cmek_json(ctx, project(ctx, call))}

    return [
        route("/projects/{project_id}/private_endpoints", of_project, v1beta_error),
        route("/projects/{project_id}/clusters/{cluster_id}/private_endpoints", of_cluster, v1beta_error),
        route("/projects/{project_id}/clusters/{cluster_id}/private_endpoint_service", service, v1beta_error),
        route("/projects/{project_id}/aws-cmek", aws_cmek, v1beta_error),
    ]
