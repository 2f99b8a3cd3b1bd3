"""What the fleet model reads and what it writes: the raw columns each query takes, and each `fleet` table
with its columns described (`fleetlake resources fleet` prints them).

The model's queries (`sql/*.sql`) are written once, in DuckDB's SQL, and run in an in-memory DuckDB over the
raw tables read from the destination; dlt loads their results into the destination's `fleet` dataset. So
one definition builds on every destination dlt loads (DuckDB, PostgreSQL, MariaDB, and the rest) with no
dialect of SQL per destination, and the JSON lists of the vendors' answers are read the same way
everywhere. A raw table or column that a destination lacks (an API not configured, a field the vendor
never sent) is read as empty or NULL: the model builds from what was loaded.

Money: TiDB Cloud's billing file describes its amounts as "expressed in cents (100ths of one US Dollar)",
but gives them as decimal strings with two places (its examples read "0.00", its formula `total_cost` =
`running_total` - `discounts` - `credits`), while the one amount it means in cents is an integer field
and says "in USD cents" (a Starter cluster's `spending_limit.monthly`). The console, the invoices and the
pricing pages state dollars ($500 invoice threshold, $0.24 per RCU-month). fleetlake reads the billing
amounts as US dollars, and `spending_limit.monthly` as cents; the emulator answers the same way.
SkySQL's bills give dollars (`currency` USD, `currency_symbol` $).
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, BIGINT, DOUBLE, MONEY, TIME, DATE, JSON, BOOL = (
    "VARCHAR",
    "BIGINT",
    "DOUBLE",
    "DECIMAL(38, 9)",
    "TIMESTAMPTZ",
    "DATE",
    "JSON",
    "BOOLEAN",
)

PARENT = {"_dlt_id": TEXT, "_dlt_parent_id": TEXT}
ACCOUNT = {"fleetlake_account": TEXT}

INPUTS: dict[str, dict[str, dict[str, str]]] = {
    "tidb_instance_data": {
        "projects": {**ACCOUNT, "id": TEXT, "org_id": TEXT, "name": TEXT},
        "clusters": {
            **ACCOUNT,
            "id": TEXT,
            "project_id": TEXT,
            "name": TEXT,
            "cluster_type": TEXT,
            "cloud_provider": TEXT,
            "region": TEXT,
            "create_timestamp": TIME,
            "status__tidb_version": TEXT,
            "status__cluster_status": TEXT,
            "config__components__tidb": JSON,
            "config__components__tikv": JSON,
            "config__components__tiflash": JSON,
        },
        "dedicated_clusters": {
            **ACCOUNT,
            "cluster_id": TEXT,
            "display_name": TEXT,
            "region_id": TEXT,
            "state": TEXT,
            "version": TEXT,
            "create_time": TIME,
            "cloud_provider": TEXT,
            "tikv_node_setting__node_count": BIGINT,
            "tikv_node_setting__storage_size_gi": BIGINT,
            "tiflash_node_setting__node_count": BIGINT,
            "tidb_node_setting__node_spec_key": TEXT,
            "tidb_node_setting__tidb_node_groups": JSON,
            "labels__tidb_cloud_project": TEXT,
        },
        "serverless_clusters": {
            **ACCOUNT,
            "cluster_id": TEXT,
            "display_name": TEXT,
            "state": TEXT,
            "version": TEXT,
            "create_time": TIME,
            "service_plan": TEXT,
            "labels__tidb_cloud_project": TEXT,
            "spending_limit__monthly": BIGINT,
            "endpoints__public__disabled": BOOL,
            "endpoints__public__authorized_networks": JSON,
            "region__name": TEXT,
            "region__region_id": TEXT,
            "region__cloud_provider": TEXT,
            "region__provider": TEXT,
        },
        "bill_details": {
            **ACCOUNT,
            "billed_date": DATE,
            "billed_month": TEXT,
            "project_name": TEXT,
            "cluster_name": TEXT,
            "service_path_name": TEXT,
            "credits": MONEY,
            "discounts": MONEY,
            "running_total": MONEY,
            "total_cost": MONEY,
        },
        "bills": {
            **ACCOUNT,
            **PARENT,
            "billed_month": TEXT,
            "overview__credits": MONEY,
            "overview__discounts": MONEY,
            "overview__running_total": MONEY,
            "overview__total_cost": MONEY,
        },
        "bills__summary_by_project__other_charges": {
            **PARENT,
            "charge_name": TEXT,
            "credits": MONEY,
            "discounts": MONEY,
            "running_total": MONEY,
            "total_cost": MONEY,
        },
        "backups": {**ACCOUNT, "cluster_id": TEXT, "status": TEXT, "create_timestamp": TIME},
        "api_keys": {**ACCOUNT, "name": TEXT, "display_name": TEXT, "role": TEXT},
        "members": {**ACCOUNT, "user_id": TEXT, "email": TEXT, "status": TEXT, "org_role__rbac_role": TEXT},
        "audit_logs": {
            **ACCOUNT,
            "id": TEXT,
            "end_time": TIME,
            "event_type": TEXT,
            "operation_id": TEXT,
            "operation_email": TEXT,
            "operation_type": TEXT,
            "cluster_id": TEXT,
            "cluster_name": TEXT,
            "project_id": TEXT,
            "project_name": TEXT,
            "result": TEXT,
            "details": TEXT,
        },
        "dedicated_changefeeds": {
            **ACCOUNT,
            "id": TEXT,
            "cluster_id": TEXT,
            "name": TEXT,
            "state": TEXT,
            "downstream_type": TEXT,
            "replication_capacity": TEXT,
            "create_time": TIME,
            "checkpoint_ts": TIME,
            "error": TEXT,
        },
        "dedicated_private_endpoint_connections": {
            **ACCOUNT,
            "private_endpoint_connection_id": TEXT,
            "cluster_id": TEXT,
            "cluster_display_name": TEXT,
            "endpoint_id": TEXT,
            "endpoint_state": TEXT,
            "account_id": TEXT,
            "message": TEXT,
        },
    },
    "skysql_data": {
        "projects": {**ACCOUNT, "id": TEXT, "name": TEXT},
        "services": {
            **ACCOUNT,
            "id": TEXT,
            "name": TEXT,
            "project_id": TEXT,
            "provider": TEXT,
            "region": TEXT,
            "status": TEXT,
            "topology": TEXT,
            "service_type": TEXT,
            "nodes": BIGINT,
            "size": TEXT,
            "storage_volume__size": BIGINT,
            "version": TEXT,
            "created_on": TIME,
            "tags__environment": TEXT,
            "tags__team": TEXT,
        },
        "bills": {
            **ACCOUNT,
            "_dlt_id": TEXT,
            "id": TEXT,
            "org_id": TEXT,
            "period": TEXT,
            "billing_month": TEXT,
            "currency": TEXT,
            "total": DOUBLE,
            "discount": DOUBLE,
            "additional_compute_discount": DOUBLE,
            "min_compute_cost": DOUBLE,
            "support_cost": DOUBLE,
            "data_transfer_cost": DOUBLE,
        },
        "backups": {**ACCOUNT, "service_id": TEXT, "status": TEXT, "end_time": TIME},
        "service_allowlists": {**ACCOUNT, "service_id": TEXT, "ip": TEXT, "comment": TEXT},
        "backup_schedules": {**ACCOUNT, "id": TEXT, "service_id": TEXT, "suspended": BOOL},
        "organization_users": {
            **ACCOUNT,
            "id": TEXT,
            "email": TEXT,
            "org_id": TEXT,
            "org__name": TEXT,
            "org__current_owner": TEXT,
            "is_deleted": BOOL,
        },
        "bills__line_items": {
            **PARENT,
            "service__name": TEXT,
            "service__region": TEXT,
            "service__service_id": TEXT,
            "cost__compute": JSON,
            "cost__storage": JSON,
        },
    },
    "secoda_data": {
        "audit_log": {
            **ACCOUNT,
            "id": TEXT,
            "created_at": TIME,
            "event": TEXT,
            "resource_id": TEXT,
            "resource_type": TEXT,
            "performer__id": TEXT,
            "performer__name": TEXT,
            "performer__email": TEXT,
            "performer_type": TEXT,
        },
        "resource_catalog": {
            **ACCOUNT,
            "_dlt_id": TEXT,
            "id": TEXT,
            "title": TEXT,
            "title_full": TEXT,
            "native_type": TEXT,
            "entity_type": TEXT,
            "integration_id": TEXT,
            "archived": BOOL,
            "description": TEXT,
        },
        "resource_catalog__owners": {"_dlt_parent_id": TEXT, "value": TEXT},
        "integration": {**ACCOUNT, "id": TEXT, "name": TEXT, "type": TEXT},
        "document": {**ACCOUNT, "id": TEXT, "title": TEXT},
        "collection": {**ACCOUNT, "id": TEXT, "title": TEXT},
    },
}
"""Per raw dataset and table, the columns the model reads and the type it reads them as."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    """dlt's data type: text, bigint, double, decimal, timestamp, date, json, bool."""
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    query: str | None
    """The file in `sql/` that computes it; None for the history, which dlt keeps (SCD2) from `clusters`."""


def _c(name: str, data_type: str, description: str, nullable: bool = True) -> Column:
    return Column(name, data_type, description, nullable)


_CLUSTER_KEY = (
    _c("vendor", "text", "tidb or skysql", False),
    _c("account", "text", "fleetlake's account (the configuration's name)", False),
    _c("cluster_id", "text", "the vendor's id of the deployment", False),
)
TRACKED = ("cluster_name", "kind", "state", "node_count", "node_size", "storage_gib", "version")
"""The fields of a deployment whose changes its history keeps."""

CLUSTERS = Table(
    "clusters",
    "One row per database deployment: TiDB Cloud clusters (v1beta, Dedicated, Starter/Essential, one row per"
    " id) and SkySQL services, in one vocabulary beside the vendor's.",
    (
        _CLUSTER_KEY[0],
        _CLUSTER_KEY[1],
        _c("project_id", "text", "the vendor's project id"),
        _c("project_name", "text", "the project's name"),
        _CLUSTER_KEY[2],
        _c("cluster_name", "text", "the deployment's name"),
        _c("kind", "text", "dedicated, starter, essential (TiDB); the topology (SkySQL)"),
        _c("state", "text", "running, paused, creating, modifying, deleting, failed or other", False),
        _c("vendor_state", "text", "the state as the vendor gives it"),
        _c("cloud_provider", "text", "aws, gcp, azure, alibaba"),
        _c("vendor_cloud_provider", "text", "the provider as the vendor gives it"),
        _c("region", "text", "the cloud's region name (us-west-2)"),
        _c("vendor_region", "text", "the region as the vendor gives it"),
        _c("node_count", "bigint", "nodes of every component (Dedicated, SkySQL); empty for serverless"),
        _c("node_size", "text", "the SQL node's size (8C16G, sky-2x8)"),
        _c("storage_gib", "bigint", "storage per storage node in GiB"),
        _c("version", "text", "the database version"),
        _c("created_at", "timestamp", "when the vendor says it was created"),
        _c("source_tables", "text", "the raw tables that list it, comma-separated, the row's own first", False),
    ),
    "clusters.sql",
)

_MONEY = "decimal"
COSTS = Table(
    "costs",
    "Costs in the FinOps Foundation's FOCUS 1.2 columns: TiDB Cloud's daily bill details and monthly bills, "
    "SkySQL's monthly bills and line items; credits, discounts and the rest of a bill are rows of their own,"
    " so a month sums to the vendor's total.",
    (
        _c("BilledCost", _MONEY, "what is invoiced for the row, in BillingCurrency", False),
        _c("EffectiveCost", _MONEY, "the cost after discounts and credits", False),
        _c("ListCost", _MONEY, "the cost at list prices", False),
        _c("ContractedCost", _MONEY, "the cost at negotiated prices (list less discounts)", False),
        _c("BillingCurrency", "text", "ISO 4217 currency of the bill (USD)", False),
        _c("BillingAccountId", "text", "the vendor's organization id (else the account's name)", False),
        _c("BillingAccountName", "text", "fleetlake's account", False),
        _c("BillingPeriodStart", "timestamp", "first instant of the billing month (UTC)", False),
        _c("BillingPeriodEnd", "timestamp", "first instant after the billing month (UTC)", False),
        _c("ChargePeriodStart", "timestamp", "start of the charge: the day, or the month for bill-level rows", False),
        _c("ChargePeriodEnd", "timestamp", "end of the charge, exclusive", False),
        _c("ChargeCategory", "text", "Usage, Purchase, Credit or Adjustment", False),
        _c("ChargeClass", "text", "Correction for corrections of earlier periods (none in these bills)"),
        _c("ChargeDescription", "text", "the vendor's line: service path, charge name or component", False),
        _c("InvoiceIssuerName", "text", "who invoices: PingCAP, MariaDB", False),
        _c("ProviderName", "text", "who provides the service: PingCAP, MariaDB", False),
        _c("PublisherName", "text", "who publishes the service: PingCAP, MariaDB", False),
        _c("PricingQuantity", _MONEY, "days (TiDB details), node hours (SkySQL), months; empty for credits"),
        _c("PricingUnit", "text", "Day, Hours or Month; empty for credits"),
        _c("ServiceCategory", "text", "FOCUS's category: Databases, Storage, Networking, Other", False),
        _c("ServiceName", "text", "TiDB Dedicated, TiDB Cloud Starter, MariaDB Cloud compute, ...", False),
        _c("ResourceId", "text", "the cluster or service id (TiDB: matched by project and cluster name)"),
        _c("ResourceName", "text", "the cluster or service name as billed"),
        _c("RegionId", "text", "the resource's region"),
        _c("SubAccountId", "text", "the project id"),
        _c("SubAccountName", "text", "the project name"),
        _c("SkuId", "text", "the vendor's billed item: service path (TiDB), instance type (SkySQL)"),
        _c("Tags", "json", "the resource's tags (SkySQL services' environment and team)"),
        _c("x_Vendor", "text", "tidb or skysql", False),
        _c("x_Account", "text", "fleetlake's account", False),
        _c("x_SourceTable", "text", "the raw table the row comes from", False),
        _c("x_BillingMonth", "text", "the billing month, YYYY-MM", False),
        _c("ChargeFrequency", "text", "Usage-Based, Recurring (support, commitments) or One-Time (credits)", False),
    ),
    "costs.sql",
)

CHANGEFEEDS = Table(
    "changefeeds",
    "Every replication stream out of a deployment (TiDB Cloud Dedicated's changefeeds to Kafka, MySQL, S3, "
    "...), its state in the deployments' vocabulary beside the vendor's.",
    (
        _c("vendor", "text", "tidb", False),
        _c("account", "text", "fleetlake's account", False),
        _c("cluster_id", "text", "the deployment it replicates from"),
        _c("cluster_name", "text", "its name (from fleet.clusters)"),
        _c("changefeed_id", "text", "the vendor's id of the changefeed", False),
        _c("changefeed_name", "text", "its name"),
        _c("state", "text", "running, paused, creating, modifying, deleting, failed or other", False),
        _c("vendor_state", "text", "the state as the vendor gives it"),
        _c("downstream", "text", "kafka, mysql, s3, ... (lower case)"),
        _c("replication_capacity", "text", "its RCU size"),
        _c("created_at", "timestamp", "when it was created"),
        _c("checkpoint_at", "timestamp", "how far it has replicated"),
        _c("error", "text", "the vendor's last error, if any"),
        _c("source_table", "text", "the raw table", False),
    ),
    "changefeeds.sql",
)

AUDIT_EVENTS = Table(
    "audit_events",
    "Who did what: TiDB Cloud's console audit log and Secoda's audit log in one vocabulary (SkySQL's API "
    "has no audit log).",
    (
        _c("event_time", "timestamp", "when it happened", False),
        _c("vendor", "text", "tidb or secoda", False),
        _c("account", "text", "fleetlake's account", False),
        _c("actor_id", "text", "the vendor's id of who did it"),
        _c("actor_name", "text", "their e-mail or name"),
        _c("actor_kind", "text", "user, api_key, system or other", False),
        _c("action", "text", "create, update, delete, login, read or other", False),
        _c("vendor_event", "text", "the event as the vendor names it", False),
        _c("resource_type", "text", "what it was done to (cluster, api_key, table, column, ...)"),
        _c("resource_id", "text", "its id, where the vendor gives one"),
        _c("resource_name", "text", "its name (Secoda: looked up in the catalog)"),
        _c("outcome", "text", "success or failure"),
        _c("details", "json", "the vendor's details"),
        _c("vendor_event_id", "text", "the vendor's id of the entry", False),
        _c("source_table", "text", "the raw table", False),
        _c("read_only", "bool", "true for reads and logins, which change nothing", False),
    ),
    "audit_events.sql",
)

CLUSTER_HISTORY = Table(
    "cluster_history",
    "Every version of each deployment's tracked fields, kept by dlt's SCD2 merge: a version is valid from "
    "`_dlt_valid_from` until `_dlt_valid_to` (empty while current).",
    (*_CLUSTER_KEY, *(c for c in CLUSTERS.columns if c.name in TRACKED)),
    None,
)

CLUSTER_CHANGES = Table(
    "cluster_changes",
    "Each change of a deployment between two versions of its history (a pause, a resize, an upgrade), and "
    "its removal from the vendor's lists.",
    (
        *_CLUSTER_KEY,
        _c("cluster_name", "text", "its name at the change"),
        _c("field", "text", "state, node_count, node_size, storage_gib, version, kind; cluster for a removal", False),
        _c("old_value", "text", "the value before"),
        _c("new_value", "text", "the value after"),
        _c("seen_at", "timestamp", "the run that first saw it (the history's boundary time)", False),
    ),
    "cluster_changes.sql",
)

FINDINGS = Table(
    "findings",
    "What the posture checks (`fleetlake checks`) find open now: one row per rule and resource, with when "
    "it was first and last seen.",
    (
        _c("rule_id", "text", "the rule (FL001, ..., or a rule of your own)", False),
        _c("severity", "text", "low, medium, high or critical", False),
        _c("title", "text", "what the rule finds", False),
        _c("vendor", "text", "tidb, skysql or secoda"),
        _c("account", "text", "fleetlake's account"),
        _c("resource_type", "text", "cluster, service, api_key, member, table"),
        _c("resource_id", "text", "the vendor's id of the resource"),
        _c("resource_name", "text", "its name"),
        _c("detail", "text", "what was seen"),
        _c("fix", "text", "how to fix it", False),
        _c("first_seen", "timestamp", "the first build that found it (since it was last fixed)", False),
        _c("last_seen", "timestamp", "the latest build that found it", False),
    ),
    None,
)

TABLES = (CLUSTERS, CHANGEFEEDS, COSTS, AUDIT_EVENTS, CLUSTER_HISTORY, CLUSTER_CHANGES, FINDINGS)
DATASET = "fleet"
PIPELINE = "fleetlake_model"


QUESTIONS: tuple[tuple[str, str], ...] = (
    (
        "All my database clusters, with state, region and size",
        "SELECT vendor, account, cluster_name, kind, state, cloud_provider, region, node_count, node_size "
        "FROM fleet.clusters ORDER BY vendor, account, cluster_name",
    ),
    (
        "What did we spend per project per day last month, across vendors",
        "SELECT CAST(ChargePeriodStart AS DATE) AS day, x_Vendor AS vendor, SubAccountName AS project, "
        "sum(BilledCost) AS cost FROM fleet.costs "
        "WHERE BillingPeriodStart = date_trunc('month', current_date) - INTERVAL 1 MONTH "
        "GROUP BY ALL ORDER BY day, vendor, project",
    ),
    (
        "Who changed what yesterday",
        "SELECT event_time, vendor, account, actor_name, action, resource_type, resource_name, outcome "
        "FROM fleet.audit_events WHERE NOT read_only "
        "AND event_time >= current_date - INTERVAL 1 DAY AND event_time < current_date ORDER BY event_time",
    ),
    (
        "When was this cluster paused, resized or upgraded",
        "SELECT seen_at, vendor, account, cluster_name, field, old_value, new_value "
        "FROM fleet.cluster_changes ORDER BY seen_at DESC, vendor, account, cluster_name, field",
    ),
)
"""The questions the model answers, each as one query (DuckDB's SQL), as the demo and the README ask them."""
