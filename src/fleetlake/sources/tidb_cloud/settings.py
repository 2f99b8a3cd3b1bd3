"""TiDB Cloud endpoints as data: servers, page sizes and one row per table.

Shapes follow the vendor's Swagger files (`../shared/specs/tidb-cloud-*-original.json`). Where the
third-party OpenAPI file the project was seeded with names a list differently (`billsDetails`,
`integrations`, `trends`), the alternative is listed second so a server answering in either shape loads.
"""

from __future__ import annotations

from dataclasses import replace

from fleetlake.sources.lists import Endpoint

TITLE = "TiDB Cloud"
SECTION = "tidb_instance_source"
PIPELINE_NAME = "tidb_instance_pipeline"
DATASET_NAME = "tidb_instance_data"

# base URL setting name -> default; v1beta paths start with api/v1beta, the v1beta1 servers are per host
SERVERS: dict[str, str] = {
    "base_url": "https://api.tidbcloud.com",
    "dedicated_base_url": "https://dedicated.tidbapi.com/v1beta1",
    "serverless_base_url": "https://serverless.tidbapi.com/v1beta1",
    "iam_base_url": "https://iam.tidbapi.com/v1beta1",
    "billing_base_url": "https://billing.tidbapi.com/v1beta1",
}

# v1beta1 lists document a maximum of 100 per page; v1beta documents no maximum, 100 is accepted
PAGE_SIZE = 100
# the billing API keeps the current month and six before it
BILLING_MONTHS_KEPT = 6
QUOTA_PER_MINUTE = 100

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "projects",
        "base_url",
        "api/v1beta/projects",
        ("items",),
        "page",
        ("id",),
        "Projects of the organization (v1beta), with cluster and user counts.",
        timestamps=("create_timestamp",),
    ),
    Endpoint(
        "clusters",
        "base_url",
        "api/v1beta/projects/{project_id}/clusters",
        ("items",),
        "page",
        ("id",),
        "Clusters of every project (v1beta): type, region, node layout, status, connection endpoints.",
        parent="projects",
        parent_fields={"project_id": "id"},
        timestamps=("create_timestamp",),
    ),
    Endpoint(
        "backups",
        "base_url",
        "api/v1beta/projects/{project_id}/clusters/{cluster_id}/backups",
        ("items",),
        "page",
        ("id",),
        "Backups of every Dedicated cluster (v1beta): manual and automatic, size, status.",
        parent="clusters",
        parent_fields={"project_id": "project_id", "cluster_id": "id"},
        parent_columns={"project_id": "project_id", "cluster_id": "id"},
        parent_filter=("cluster_type", "DEDICATED"),
        timestamps=("create_timestamp",),
    ),
    Endpoint(
        "restores",
        "base_url",
        "api/v1beta/projects/{project_id}/restores",
        ("items",),
        "page",
        ("id",),
        "Restore tasks of every project (v1beta): source backup, target cluster, status.",
        parent="projects",
        parent_fields={"project_id": "id"},
        parent_columns={"project_id": "id"},
        timestamps=("create_timestamp",),
    ),
    Endpoint(
        "imports",
        "base_url",
        "api/v1beta/projects/{project_id}/clusters/{cluster_id}/imports",
        ("items",),
        "page",
        ("id",),
        "Import tasks of every cluster (v1beta, deprecated by the vendor): source, target, progress.",
        parent="clusters",
        parent_fields={"project_id": "project_id", "cluster_id": "id"},
        parent_columns={"project_id": "project_id", "cluster_id": "id"},
        lift_id="metadata.id",
        timestamps=("metadata.create_timestamp", "status.start_timestamp", "status.end_timestamp"),
    ),
    Endpoint(
        "provider_regions",
        "base_url",
        "api/v1beta/clusters/provider/regions",
        ("items",),
        "none",
        ("cluster_type", "cloud_provider", "region"),
        "Cloud providers, regions and node sizes available for new clusters (v1beta).",
    ),
    Endpoint(
        "dedicated_clusters",
        "dedicated_base_url",
        "clusters",
        ("clusters",),
        "token",
        ("clusterId",),
        "Dedicated clusters (v1beta1): node groups, storage, state, version, labels.",
        timestamps=("createTime", "updateTime", "pausePlan.scheduledResumeTime"),
        # a node group's endpoints stay a JSON column: their table would be named
        # dedicated_clusters__tidb_node_setting__tidb_node_groups__endpoints, 66 characters
        max_table_nesting=1,
    ),
    Endpoint(
        "dedicated_regions",
        "dedicated_base_url",
        "regions",
        ("regions",),
        "token",
        ("regionId",),
        "Regions that offer Dedicated clusters (v1beta1).",
    ),
    Endpoint(
        "dedicated_node_specs",
        "dedicated_base_url",
        "regions/{region_id}/nodeSpecs",
        ("nodeSpecs",),
        "token",
        ("regionId", "componentType", "nodeSpecKey"),
        "Node specifications (vCPU, memory, storage limits) of every Dedicated region (v1beta1).",
        parent="dedicated_regions",
        parent_fields={"region_id": "regionId"},
        parent_columns={"regionId": "regionId"},
    ),
    Endpoint(
        "dedicated_imports",
        "dedicated_base_url",
        "clusters/{cluster_id}/imports",
        ("imports",),
        "token",
        ("importId",),
        "Import tasks of every Dedicated cluster (v1beta1): source, state, progress.",
        parent="dedicated_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "completeTime"),
    ),
    Endpoint(
        "dedicated_integrations",
        "dedicated_base_url",
        "clusters/{cluster_id}/integrations",
        ("items", "integrations"),
        "none",
        ("id",),
        "Monitoring integrations (Datadog, New Relic, Prometheus) of every Dedicated cluster (v1beta1).",
        parent="dedicated_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "updateTime"),
    ),
    Endpoint(
        "serverless_clusters",
        "serverless_base_url",
        "clusters",
        ("clusters",),
        "token",
        ("clusterId",),
        "Starter and Essential clusters (v1beta1): region, spending limit, endpoints, state.",
        timestamps=("createTime", "updateTime"),
    ),
    Endpoint(
        "serverless_branches",
        "serverless_base_url",
        "clusters/{cluster_id}/branches",
        ("branches",),
        "token",
        ("branchId",),
        "Branches of every Starter/Essential cluster (v1beta1).",
        parent="serverless_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "updateTime", "parentTimestamp"),
    ),
    Endpoint(
        "serverless_exports",
        "serverless_base_url",
        "clusters/{cluster_id}/exports",
        ("exports",),
        "token",
        ("exportId",),
        "Data export tasks of every Starter/Essential cluster (v1beta1).",
        parent="serverless_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "updateTime", "completeTime", "snapshotTime", "expireTime"),
    ),
    Endpoint(
        "serverless_imports",
        "serverless_base_url",
        "clusters/{cluster_id}/imports",
        ("imports",),
        "token",
        ("id",),
        "Data import tasks of every Starter/Essential cluster (v1beta1).",
        parent="serverless_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "completeTime"),
    ),
    Endpoint(
        "api_keys",
        "iam_base_url",
        "apikeys",
        ("apiKeys",),
        "token",
        ("accessKey",),
        "API keys of the organization (IAM v1beta1): name, role; the secret key is never loaded.",
    ),
    Endpoint(
        "members",
        "iam_base_url",
        "members",
        ("users",),
        "token",
        ("userId",),
        "Members of the organization (IAM v1beta1): email, status, organization/project/instance roles.",
        timestamps=("inviteTime", "lastLoginTime"),
    ),
)

# every list states its size (v1beta as `total`, v1beta1 as `totalSize`): a list ending short of it is
# reported possibly incomplete
STATED_TOTAL = {"page": "total", "token": "totalSize", "none": "total"}
ENDPOINTS = tuple(replace(endpoint, total=STATED_TOTAL[endpoint.paging]) for endpoint in ENDPOINTS)

# tables written in Python because they are not plain lists: name -> description
SPECIAL_RESOURCES: dict[str, str] = {
    "audit_logs": "Console audit log (IAM v1beta1); incremental: a re-run fetches only new events.",
    "bills": "Monthly bills (billing v1beta1): totals, by project, by service. Needs a billing role.",
    "bill_details": "Daily costs per project, cluster and service for every month kept (billing v1beta1).",
    "cost_explorer": "Daily cost per service from the cost explorer query (billing v1beta1).",
}


def resource_descriptions() -> dict[str, str]:
    """Every table the source can load, in load order, with a one-line description."""
    out = {endpoint.name: endpoint.description for endpoint in ENDPOINTS}
    out.update(SPECIAL_RESOURCES)
    return out
