"""SkySQL / MariaDB Cloud endpoints as data: one row per table.

Shapes follow the vendor's current API reference (`../shared/specs/mariadb-cloud-endpoints.md`) and the
older provisioning spec. `/provisioning/v1` lists are bare arrays paged by `page_token`; `/skybackup/v1`
lists are envelopes paged by page number; organization and billing answers are unpaged.
"""

from __future__ import annotations

from fleetlake.sources.lists import Endpoint

TITLE = "SkySQL"
SECTION = "skysql_source"
PIPELINE_NAME = "skysql_pipeline"
DATASET_NAME = "skysql_data"
BASE_URL = "https://api.skysql.com"
# the organization header, which the documents name two ways (../shared/specs/mariadb-cloud-endpoints.md):
# its "Org selection" row (line 29) says the vendor's Terraform provider sends `X-MDB-Org: <orgID>` when
# an org is configured (`httpClient.SetHeader("X-MDB-Org", orgID)` in its client.go), and the specs
# README's SkySQL heading calls `X-MDB-Org` the optional org header; the same row and the billing table
# (line 97) quote the current reference's billing page: "Returns account record based on
# X-SkySQL-Org-ID header value". The 2022 DPS file names neither. With an org configured both are sent,
# the same value in each, so whichever one a host reads selects the organization.
ORG_HEADER = "X-MDB-Org"
BILLING_ORG_HEADER = "X-SkySQL-Org-ID"
ORG_HEADERS = (ORG_HEADER, BILLING_ORG_HEADER)
# how the next page token comes back is undocumented; these response headers are tried in order (then a
# Link rel="next" header and a token in an object body: `helpers.next_token`)
TOKEN_HEADERS = ("X-Next-Page-Token", "Next-Page-Token", "X-Page-Token")
PAGE_SIZE = 100  # the documented maximum of page_size
BILLING_MONTHS = 12  # bills are asked month by month; how far back they go is not documented

EPOCHS = ("created_on", "updated_on")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "services", "base_url", "provisioning/v1/services", None, "token", ("id",),
        "Database services: topology, size, nodes, region, status, endpoints, storage.",
        # no incremental cursor: it would also filter the parents backup schedules are read for
        timestamps=(*EPOCHS, "assigned_on", "volume_modified_on"),
    ),
    Endpoint(
        "service_allowlists", "base_url", "provisioning/v1/services/{service_id}/security/allowlist", (), "none",
        ("service_id", "ip"),
        "Who may connect to each service: allow-listed addresses (CIDR) and their comments.",
        # `{ip, comment}` entries (the Terraform provider's shape); the 2022 DPS file's per-endpoint
        # `{name, allowList: [ip]}` is flattened to the same rows (`helpers.RECORD_SHAPES`). No paging
        # parameters are declared: one request per service
        parent="services", parent_fields={"service_id": "id"}, parent_columns={"service_id": "id"},
    ),
    Endpoint(
        "service_types", "base_url", "provisioning/v1/service-types", None, "token", ("id",),
        "Service types the API offers (transactional, analytical, ...).",
    ),
    Endpoint(
        "topologies", "base_url", "provisioning/v1/topologies", None, "token", ("id",),
        "Deployment topologies (Enterprise Server, Xpand, ...) of every service type.",
        # the vendor requires service_type: asked once per service type the API lists
        parent="service_types", parent_fields={"service_type": "name"},
    ),
    Endpoint(
        "providers", "base_url", "provisioning/v1/providers", None, "token", ("id",),
        "Cloud providers with their volume size and IOPS limits.",
    ),
    Endpoint(
        "volume_types", "base_url", "provisioning/v1/providers/{provider_name}/volume-types", None, "token", ("id",),
        "Storage volume types of every provider, and which one is the default.",
        parent="providers", parent_fields={"provider_name": "name"}, timestamps=EPOCHS,
    ),
    Endpoint(
        "regions", "base_url", "provisioning/v1/regions", None, "token", ("id",),
        "Regions of every provider, with maintenance windows.",
    ),
    Endpoint(
        "availability_zones", "base_url", "provisioning/v1/regions/{region}/zones", None, "token", ("region", "name"),
        "Availability zones of every region.",
        # documented only as "array": objects (a `name` each) or bare zone names are both read
        # (`helpers.RECORD_SHAPES`); paged like the other provisioning lists
        parent="regions", parent_fields={"region": "name"}, parent_columns={"region": "name"},
    ),
    Endpoint(
        "sizes", "base_url", "provisioning/v1/sizes", None, "token", ("id",),
        "Instance sizes per topology and provider: CPU, RAM, tier.",
        timestamps=EPOCHS,
    ),
    Endpoint(
        "versions", "base_url", "provisioning/v1/versions", None, "token", ("id",),
        "Server versions offered per topology.",
    ),
    Endpoint(
        "configs", "base_url", "provisioning/v1/configs", None, "token", ("id",),
        "Custom configurations and the services using them.",
        timestamps=("created_date", "updated_date"),
    ),
    Endpoint(
        "products", "base_url", "provisioning/v1/products", None, "token", ("id",),
        "Products of the offering: id, name, display name (their config keys are in product_configs).",
    ),
    Endpoint(
        "product_configs", "base_url", "provisioning/v1/products/{product_name}/configs", ("variables",), "token",
        ("product_name", "name"),
        "Configuration variables of every product: type, allowed values, whether a change needs a restart.",
        # one object, `v1.ProductConfigResponse {product, variables: [...]}`: a row per variable
        parent="products", parent_fields={"product_name": "name"}, parent_columns={"product_name": "name"},
    ),
    Endpoint(
        "tiers", "base_url", "provisioning/v1/tiers", None, "token", ("id",),
        "Service tiers (Foundation, Power) and the topologies each offers.",
    ),
    Endpoint(
        "projects", "base_url", "organization/v1/projects", (), "none", ("id",),
        "Projects of the organization.",
        timestamps=EPOCHS,
    ),
    Endpoint(
        "organization_users", "base_url", "organization/v1/users", (), "none", ("id",),
        "Users of the organization: email, roles, MFA, status.",
        timestamps=EPOCHS,
    ),
    Endpoint(
        "backups", "base_url", "skybackup/v1/backups", ("backups",), "page", ("id",),
        "Backups of every service: type, method, size, status; incremental, newest first.", total="backups_count",
        # newest first, so a re-run stops at the first backup it already has
        params={"order": "desc"}, timestamps=("start_time", "end_time"), incremental="start_time",
        incremental_options={"row_order": "desc"},
    ),
    Endpoint(
        "restores", "base_url", "skybackup/v1/restores", ("restores",), "page", ("id",),
        "Restore tasks: source backup, target service, status.", total="restores_count",
        timestamps=("created_at",),
    ),
    Endpoint(
        "backup_schedules", "base_url", "skybackup/v1/backups/schedules", ("schedules",), "page", ("id",),
        "Backup schedules of every service (cron or once, type, status).", total="schedules_count",
        parent="services", parent_fields={"service_id": "id"},
        timestamps=("created_at", "updated_at", "scheduled_at"),
    ),
    Endpoint(
        "billing_account", "base_url", "billing/v1/account", (), "none", ("organization_id",),
        "The billing account: tier, status, SCU consumed and remaining this month, trial credit.",
    ),
    Endpoint(
        "postpaid_commit_ledger", "base_url", "billing/v1/account/postpaid-commit-ledger", (), "none", ("id",),
        "Postpaid compute commitments per period.",
        timestamps=("created_at",),
    ),
    Endpoint(
        "prepaid_credit_ledger", "base_url", "billing/v1/account/prepaid-credit-ledger", (), "none", ("id",),
        "Prepaid credit movements.",
        timestamps=("created_at",),
    ),
    Endpoint(
        "invoices", "base_url", "billing/v1/invoices", None, "none", ("id",),
        "Invoices (an old vendor page lists the endpoint, with no shape: a 404 is a warning).",
        # "Returns list of invoices" is all that is documented: a list or an envelope, keyed by `id`, else by
        # `invoice_uid` or `uid` (the detail path names an invoice_uid; `helpers.RECORD_SHAPES`)
        timestamps=("created_at",), optional=True,
    ),
    Endpoint(
        "service_usage", "base_url", "billing/v1/usage/service", None, "none", ("service_id",),
        "Usage per service (an old vendor page lists the endpoint, with no shape: a 404 is a warning).",
        # undocumented shape: one record per service (the detail path is /usage/service/{service_id}), its
        # `service_id` top-level or in `service` as a bill's line items carry it
        optional=True,
    ),
    Endpoint(
        "databases", "base_url", "provisioning/v1/databases", None, "token", ("id",),
        "Databases (listed by the dltHub page; no vendor document shows the endpoint: a 404 is a warning).",
        timestamps=EPOCHS, optional=True,
    ),
    Endpoint(
        "users", "base_url", "provisioning/v1/users", None, "token", ("id",),
        "Database users (listed by the dltHub page; no vendor document shows it: a 404 is a warning).",
        timestamps=EPOCHS, optional=True,
    ),
)  # fmt: skip

SPECIAL_RESOURCES: dict[str, str] = {
    "bills": "Monthly usage bills (year/month), with line items per service, for the last months.",
}


def resource_descriptions() -> dict[str, str]:
    """Every table the source can load, with a one-line description."""
    out = {endpoint.name: endpoint.description for endpoint in ENDPOINTS}
    out.update(SPECIAL_RESOURCES)
    return out
