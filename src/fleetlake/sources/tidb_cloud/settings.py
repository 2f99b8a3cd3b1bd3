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
        "dedicated_changefeeds",
        "dedicated_base_url",
        "changefeeds",
        ("changefeeds",),
        "token",
        ("id",),
        "Changefeeds (TiCDC) of every Dedicated cluster (v1beta1): downstream, state, checkpoint; no passwords.",
        parent="dedicated_clusters",
        # a required query parameter, not a path placeholder
        parent_fields={"clusterId": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "checkpointTs", "startPosition.startTimestamp"),
    ),
    Endpoint(
        "dedicated_changefeed_rcus",
        "dedicated_base_url",
        "changefeedRCUs",
        ("rcus",),
        "none",
        ("name",),
        "Replication capacity sizes (RCUs) a Dedicated changefeed can run at (v1beta1).",
    ),
    Endpoint(
        "dedicated_private_endpoint_connections",
        "dedicated_base_url",
        # "-" for cluster and node group lists a project's connections across them: one request per project
        "clusters/-/tidbNodeGroups/-/privateEndpointConnections",
        ("privateEndpointConnections",),
        "token",
        ("privateEndpointConnectionId",),
        "Private endpoints connected to Dedicated TiDB node groups (v1beta1): account, endpoint, state, host.",
        parent="projects",
        parent_fields={"projectId": "id"},
        parent_columns={"projectId": "id"},
    ),
    Endpoint(
        "dedicated_node_quotas",
        "dedicated_base_url",
        "clusters:showNodeQuota",
        ("componentQuotas",),
        "none",
        ("componentType",),
        "The organization's Dedicated node quota per component (TiDB, TiKV, TiFlash, PD, TiProxy).",
    ),
    Endpoint(
        "dedicated_log_redaction_policies",
        "dedicated_base_url",
        "clusters/{cluster_id}/logRedactionPolicy",
        (),
        "none",
        ("clusterId",),
        "Whether each Dedicated cluster redacts its logs (v1beta1; off by default: extra_resources).",
        parent="dedicated_clusters",
        parent_fields={"cluster_id": "clusterId"},
    ),
    Endpoint(
        "private_endpoints",
        "base_url",
        "api/v1beta/projects/{project_id}/private_endpoints",
        ("endpoints",),
        "none",
        ("id",),
        "Private endpoints of every project (v1beta view of the connections; off by default: extra_resources).",
        parent="projects",
        parent_fields={"project_id": "id"},
        parent_columns={"project_id": "id"},
    ),
    Endpoint(
        "private_endpoint_services",
        "base_url",
        "api/v1beta/projects/{project_id}/clusters/{cluster_id}/private_endpoint_service",
        ("private_endpoint_service",),
        "none",
        ("cluster_id",),
        "Private endpoint service of every Dedicated cluster (v1beta; off by default: extra_resources).",
        parent="clusters",
        parent_fields={"project_id": "project_id", "cluster_id": "id"},
        parent_columns={"project_id": "project_id", "cluster_id": "id"},
        parent_filter=("cluster_type", "DEDICATED"),
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
        "serverless_regions",
        "serverless_base_url",
        "regions",
        ("regions",),
        "none",
        ("regionId",),
        "Regions that offer Starter and Essential clusters (v1beta1), with their service plans.",
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
        "serverless_audit_log_configs",
        "serverless_base_url",
        "clusters/{cluster_id}/auditLog/config",
        (),
        "none",
        ("clusterId",),
        "Database audit log settings of every Starter/Essential cluster (off by default: extra_resources).",
        parent="serverless_clusters",
        parent_fields={"cluster_id": "clusterId"},
    ),
    Endpoint(
        "serverless_audit_log_filter_rules",
        "serverless_base_url",
        "clusters/{cluster_id}/auditLog/filterRules",
        ("filterRules",),
        "token",
        ("filterRuleId",),
        "Database audit log filter rules of every Starter/Essential cluster (off by default: extra_resources).",
        parent="serverless_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime", "updateTime"),
    ),
    Endpoint(
        "serverless_audit_log_files",
        "serverless_base_url",
        "clusters/{cluster_id}/auditLog/files",
        ("auditLogFiles",),
        "token",
        ("clusterId", "name"),
        "Database audit log files of every Starter/Essential cluster, no download links (off by default).",
        parent="serverless_clusters",
        parent_fields={"cluster_id": "clusterId"},
        parent_columns={"clusterId": "clusterId"},
        timestamps=("createTime",),
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
    "dedicated_cloud_providers": "Cloud providers that offer Dedicated clusters (v1beta1).",
    "dedicated_private_link_services": (
        "Private link service of every Dedicated TiDB node group (v1beta1; off by default: extra_resources)."
    ),
    "aws_cmek_keys": "AWS KMS keys (CMEK) of every project that encrypts with its own keys (v1beta).",
    "audit_logs": "Console audit log (IAM v1beta1); incremental: a re-run fetches only new events.",
    "bills": "Monthly bills (billing v1beta1): totals, by project, by service. Needs a billing role.",
    "bill_details": "Daily costs per project, cluster and service for every month kept (billing v1beta1).",
    "cost_explorer": "Daily cost per service from the cost explorer query (billing v1beta1).",
}


# tables a default load leaves out: each costs a request per cluster (or repeats another table in v1beta's
# words) and would take a demo organization's full load past one minute of the 100-request quota;
# `extra_resources = true`, or naming them in --resources, loads them
OFF_BY_DEFAULT = frozenset(
    {
        "dedicated_log_redaction_policies",
        "dedicated_private_link_services",
        "private_endpoints",
        "private_endpoint_services",
        "serverless_audit_log_configs",
        "serverless_audit_log_filter_rules",
        "serverless_audit_log_files",
    }
)
# fields no table keeps beyond the credential fields every source drops: signed download links
DROPPED_FIELDS = {"serverless_audit_log_files": ("url",)}


def resource_descriptions() -> dict[str, str]:
    """Every table the source can load, in load order, with a one-line description."""
    out = {endpoint.name: endpoint.description for endpoint in ENDPOINTS}
    out.update(SPECIAL_RESOURCES)
    return out
